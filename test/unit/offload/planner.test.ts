import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { plan, type Action } from '../../../src/offload/planner.js';
import { defaultPlannerConfig, type PlannerConfig } from '../../../src/offload/policy.js';
import { emptyState, type OffloadState, type Reason } from '../../../src/offload/types.js';
import { addChild, device, withDevice } from './builders.js';

const cfg = (over: Partial<PlannerConfig> = {}): PlannerConfig => ({ ...defaultPlannerConfig, devices: new Map(), ...over });
const types = (a: Action[]): string[] => a.map((x) => x.type).sort();
const reasons = (s: OffloadState, c = cfg()): Reason[] => [...plan(s, c).decisions.values()].map((d) => d.reason);

interface Row {
  name: string;
  build: () => OffloadState;
  config?: Partial<PlannerConfig>;
  actions: string[];
  reason?: Reason;
}

const rows: Row[] = [
  {
    name: 'a new GCM CHILD_SA on an offload-capable device: promote both SAs',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1 });
      return s;
    },
    actions: ['promote', 'promote'],
    reason: 'offloaded',
  },
  {
    name: 'keys not yet held: load them first, no swap yet',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, sa: { keysHeld: false } });
      return s;
    },
    actions: ['load-keys', 'load-keys'],
    reason: 'offloaded',
  },
  {
    name: 'ESN on a device known not to offload ESN: software, no action',
    build: () => {
      const s = withDevice(device({ ifindex: 3, esn: 'unsupported' }));
      addChild(s, { uniqueid: 1, esn: true, sa: { shape: { esn: true, encap: false, aead: { name: 'rfc4106(gcm(aes))', icvBits: 128, keyBits: 160 }, tfcpad: false, mode: 'transport' } } });
      return s;
    },
    actions: [],
    reason: 'esn-unsupported',
  },
  {
    name: 'ESN on a device configured without ESN: software',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, esn: true, sa: { shape: { esn: true, encap: false, aead: { name: 'rfc4106(gcm(aes))', icvBits: 128, keyBits: 160 }, tfcpad: false, mode: 'transport' } } });
      return s;
    },
    config: { devices: new Map([['eth3', { esn: false }]]) },
    actions: [],
    reason: 'esn-unsupported',
  },
  {
    name: 'NAT-T encapsulation: software',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, sa: { shape: { esn: false, encap: true, aead: { name: 'rfc4106(gcm(aes))', icvBits: 128, keyBits: 160 }, tfcpad: false, mode: 'transport' } } });
      return s;
    },
    actions: [],
    reason: 'encap-unsupported',
  },
  {
    name: 'CBC + HMAC: software',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, sa: { shape: { esn: false, encap: false, tfcpad: false, mode: 'tunnel' } } });
      return s;
    },
    actions: [],
    reason: 'algorithm-unsupported',
  },
  {
    name: 'GCM with a 64-bit ICV: software',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, sa: { shape: { esn: false, encap: false, aead: { name: 'rfc4106(gcm(aes))', icvBits: 64, keyBits: 160 }, tfcpad: false, mode: 'tunnel' } } });
      return s;
    },
    actions: [],
    reason: 'algorithm-unsupported',
  },
  {
    name: 'TFC padding: software',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, sa: { shape: { esn: false, encap: false, aead: { name: 'rfc4106(gcm(aes))', icvBits: 128, keyBits: 160 }, tfcpad: true, mode: 'tunnel' } } });
      return s;
    },
    actions: [],
    reason: 'tfcpad-unsupported',
  },
  {
    name: 'a rule turns offload off: software, and an offloaded SA is demoted',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, saOut: { offloadIfindex: 3 } });
      return s;
    },
    config: { rules: [{ match: 'lab', offload: false }] },
    actions: ['demote'],
    reason: 'config-off',
  },
  {
    name: 'default off, a rule for one child turns it on',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, name: 'fast' });
      return s;
    },
    config: { defaultOffload: false, rules: [{ match: 'lab/fast', offload: true }] },
    actions: ['promote', 'promote'],
    reason: 'offloaded',
  },
  {
    name: 'device down while the model still has the SAs on it: demote (the executor handles ESRCH)',
    build: () => {
      const s = withDevice(device({ ifindex: 3, up: false }));
      addChild(s, { uniqueid: 1, sa: { offloadIfindex: 3 } });
      return s;
    },
    actions: ['demote', 'demote'],
    reason: 'device-down',
  },
  {
    name: 'device without esp-hw-offload: software',
    build: () => {
      const s = withDevice(device({ ifindex: 3, espOffload: false }));
      addChild(s, { uniqueid: 1 });
      return s;
    },
    actions: [],
    reason: 'device-no-esp-offload',
  },
  {
    name: 'device that silently fell back to software: never tried again',
    build: () => {
      const s = withDevice(device({ ifindex: 3, silentFallback: true }));
      addChild(s, { uniqueid: 1 });
      return s;
    },
    actions: [],
    reason: 'silent-fallback',
  },
  {
    name: 'no device owns the local address: software',
    build: () => {
      const s = withDevice(device({ ifindex: 3, addresses: ['192.0.2.1'] }));
      addChild(s, { uniqueid: 1 });
      return s;
    },
    actions: [],
    reason: 'no-device',
  },
  {
    name: 'an explicit device in the rule wins over address ownership',
    build: () => {
      const s = withDevice(device({ ifindex: 3, addresses: ['192.0.2.1'] }));
      addChild(s, { uniqueid: 1 });
      return s;
    },
    config: { rules: [{ match: '*', offload: true, device: 'eth3' }] },
    actions: ['promote', 'promote'],
    reason: 'offloaded',
  },
  {
    name: 'kernel lost the SAs (device loss) and we hold keys: reinstall',
    build: () => {
      const s = withDevice(device({ ifindex: 3, up: false }));
      addChild(s, { uniqueid: 1, sa: { present: false } });
      return s;
    },
    actions: ['reinstall', 'reinstall'],
    reason: 'missing',
  },
  {
    name: 'kernel lost the SAs and the keys are gone: one rekey over VICI',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, sa: { present: false, keysHeld: false } });
      return s;
    },
    actions: ['rekey'],
    reason: 'missing',
  },
  {
    name: 'a rekey was asked for a moment ago: do not ask again',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, sa: { present: false, keysHeld: false }, child: { rekeyRequested: { at: 1_000_000 - 5_000, reason: 'keys-lost' } } });
      return s;
    },
    actions: [],
    reason: 'missing',
  },
  {
    name: 'CHILD_SA gone, our reinstalled copy still in the kernel: remove it (no resurrection)',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, gone: true, sa: { reinstalledByUs: true } });
      return s;
    },
    actions: ['remove', 'remove'],
  },
  {
    name: 'CHILD_SA taken down a moment ago, our copy still there: leave it to charon for now (it deletes rekeyed SAs late)',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, gone: true, sa: { reinstalledByUs: true }, child: { goneAt: 1_000_000 - 3_000 } });
      return s;
    },
    actions: [],
  },
  {
    name: 'SAs charon reports that the kernel never had (lost before we read them): one rekey, after the grace',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      const { child, sin, sout } = addChild(s, { uniqueid: 1, child: { since: 1_000_000 - 6_000 } });
      s.sas.delete(sin.key);
      delete child.saIn;
      sout.offloadIfindex = 3;
      return s;
    },
    actions: ['rekey'],
  },
  {
    name: 'a CHILD_SA charon just announced whose SAs we have not read yet: no rekey',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      const { child, sin, sout } = addChild(s, { uniqueid: 1, child: { since: 1_000_000 - 1_000 } });
      s.sas.delete(sin.key);
      s.sas.delete(sout.key);
      delete child.saIn;
      delete child.saOut;
      return s;
    },
    actions: [],
  },
  {
    name: 'CHILD_SA vanished (charon restarted), our copy still in the kernel: stop managing it, delete nothing',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, gone: true, goneReason: 'vanished', sa: { reinstalledByUs: true } });
      return s;
    },
    actions: ['forget', 'forget'],
  },
  {
    name: "CHILD_SA gone, charon's own SAs still present: leave them to charon",
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, gone: true });
      return s;
    },
    actions: [],
  },
  {
    name: 'CHILD_SA gone and its SAs gone: forget them',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, gone: true, sa: { present: false } });
      return s;
    },
    actions: ['forget', 'forget'],
  },
  {
    name: 'deleted on purpose by charon (a DELSA we did not send): forgotten, never reinstalled',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, sa: { present: false, deleted: true } });
      return s;
    },
    actions: ['forget', 'forget'],
  },
  {
    name: "charon's view is stale (VICI down): a missing SA is not reinstalled, nothing is swapped",
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, saIn: { present: false } });
      addChild(s, { uniqueid: 2 });
      s.charonSynced = false;
      return s;
    },
    actions: [],
  },
  {
    name: 'a swap in flight: nothing else for that SA',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, sa: { busy: true } });
      return s;
    },
    actions: [],
    reason: 'pending',
  },
  {
    name: 'pinned to software: an offloaded SA is demoted',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      const { sin, sout } = addChild(s, { uniqueid: 1, sa: { offloadIfindex: 3 } });
      s.pins.sa.set(sin.key, 'software');
      s.pins.sa.set(sout.key, 'software');
      return s;
    },
    actions: ['demote', 'demote'],
    reason: 'pinned-software',
  },
  {
    name: 'pinned to offload overrides a rule that says off',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      const { sin, sout } = addChild(s, { uniqueid: 1 });
      s.pins.sa.set(sin.key, 'offload');
      s.pins.sa.set(sout.key, 'offload');
      return s;
    },
    config: { defaultOffload: false },
    actions: ['promote', 'promote'],
    reason: 'pinned-offload',
  },
  {
    name: 'a recent failure on this device: back off',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, sa: { failure: { ifindex: 3, reason: 'algorithm-unsupported', at: 1_000_000 - 5_000 } } });
      return s;
    },
    actions: [],
    reason: 'backoff',
  },
  {
    name: 'an old failure: try again',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, sa: { failure: { ifindex: 3, reason: 'algorithm-unsupported', at: 1_000_000 - 31_000 } } });
      return s;
    },
    actions: ['promote', 'promote'],
    reason: 'offloaded',
  },
  {
    name: 'offloaded to another device than the rule names: demote first',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      s.devices.set(4, device({ ifindex: 4, addresses: [] }));
      addChild(s, { uniqueid: 1, sa: { offloadIfindex: 4 } });
      return s;
    },
    actions: ['demote', 'demote'],
    reason: 'offloaded',
  },
  {
    name: 'already offloaded where it should be: nothing to do',
    build: () => {
      const s = withDevice(device({ ifindex: 3 }));
      addChild(s, { uniqueid: 1, sa: { offloadIfindex: 3 } });
      return s;
    },
    actions: [],
    reason: 'offloaded',
  },
];

describe('planner: one SA pair, table', () => {
  it.each(rows)('$name', (row) => {
    const s = row.build();
    const p = plan(s, cfg(row.config));
    expect(types(p.actions)).toEqual([...row.actions].sort());
    if (row.reason) expect(reasons(s, cfg(row.config))).toEqual([row.reason, row.reason]);
  });
});

describe('planner: capacity', () => {
  const many = (n: number, capacity: number, offloadedPairs = 0): OffloadState => {
    const s = withDevice(device({ ifindex: 3, capacity, capacitySource: 'config' }));
    for (let i = 1; i <= n; i++) addChild(s, { uniqueid: i, sa: i <= offloadedPairs ? { offloadIfindex: 3 } : {} });
    return s;
  };

  it('20 CHILD_SAs, 33 slots: 16 whole pairs plus one outbound SA, the rest stay in software', () => {
    const p = plan(many(20, 33), cfg());
    const promotes = p.actions.filter((a) => a.type === 'promote');
    expect(promotes).toHaveLength(33);
    const d = [...p.decisions.values()];
    expect(d.filter((x) => x.reason === 'offloaded')).toHaveLength(33);
    expect(d.filter((x) => x.reason === 'capacity')).toHaveLength(7);
    // whole pairs first: children 1..16 fully, child 17 only outbound
    const s = many(20, 33);
    const c17 = s.children.get('17')!;
    expect(p.decisions.get(c17.saOut!)?.reason).toBe('offloaded');
    expect(p.decisions.get(c17.saIn!)?.reason).toBe('capacity');
  });

  it('SAs already on the device keep their slots; new ones get what is left', () => {
    const p = plan(many(20, 33, 10), cfg());
    expect(p.actions.filter((a) => a.type === 'demote')).toHaveLength(0);
    expect(p.actions.filter((a) => a.type === 'promote')).toHaveLength(13);
  });

  it('a freed slot goes to the busiest software CHILD_SA', () => {
    const s = withDevice(device({ ifindex: 3, capacity: 4 }));
    addChild(s, { uniqueid: 1, sa: { offloadIfindex: 3 } });
    addChild(s, { uniqueid: 2, sa: { rate: 10 } });
    addChild(s, { uniqueid: 3, sa: { rate: 5000 } });
    const p = plan(s, cfg());
    const promoted = p.actions.filter((a): a is Extract<Action, { type: 'promote' }> => a.type === 'promote').map((a) => s.sas.get(a.sa)!.child);
    expect(promoted).toEqual(['3', '3']);
  });

  it('a learned capacity below what is on the device demotes nothing', () => {
    const s = withDevice(device({ ifindex: 3, capacity: 2, capacitySource: 'learned' }));
    addChild(s, { uniqueid: 1, sa: { offloadIfindex: 3 } });
    addChild(s, { uniqueid: 2, sa: { offloadIfindex: 3 } });
    addChild(s, { uniqueid: 3 });
    expect(types(plan(s, cfg()).actions)).toEqual([]);
  });

  it('unknown capacity: try everything (ENOSPC will teach it)', () => {
    const s = withDevice(device({ ifindex: 3 }));
    for (let i = 1; i <= 30; i++) addChild(s, { uniqueid: i });
    expect(plan(s, cfg()).actions.filter((a) => a.type === 'promote')).toHaveLength(60);
  });
});

describe('planner: order of actions', () => {
  it('repairs come first, outbound before inbound', () => {
    const s = withDevice(device({ ifindex: 3, up: false }));
    addChild(s, { uniqueid: 1 });
    addChild(s, { uniqueid: 2, sa: { present: false } });
    const a = plan(s, cfg()).actions;
    expect(a.map((x) => x.type)).toEqual(['reinstall', 'reinstall']);
    expect(s.sas.get((a[0] as { sa: string }).sa)?.dir).toBe('out');
  });
});

describe('planner: sequence numbers and probes', () => {
  it('an outbound non-ESN SA near the end of its 32-bit space triggers one rekey', () => {
    const s = withDevice(device({ ifindex: 3 }));
    addChild(s, { uniqueid: 1, sa: { offloadIfindex: 3 }, saOut: { seq: { oseq: 0xf0000001, oseqHi: 0, seq: 0, seqHi: 0, at: 0 } } });
    const p = plan(s, cfg());
    expect(p.actions).toEqual([{ type: 'rekey', child: '1', reason: 'seq-exhaustion' }]);
  });

  it('ESN SAs never need it', () => {
    const s = withDevice(device({ ifindex: 3, esn: 'supported' }));
    const esnShape = { esn: true, encap: false, aead: { name: 'rfc4106(gcm(aes))', icvBits: 128, keyBits: 160 }, tfcpad: false, mode: 'transport' };
    addChild(s, { uniqueid: 1, esn: true, sa: { offloadIfindex: 3, shape: esnShape }, saOut: { seq: { oseq: 0xffffff00, oseqHi: 0, seq: 0, seqHi: 0, at: 0 } } });
    expect(plan(s, cfg()).actions).toEqual([]);
  });

  it('probes an offload-capable device once, unless its ESN support is configured', () => {
    const s = emptyState(1);
    s.devices.set(3, device({ ifindex: 3, probed: false }));
    s.devices.set(4, device({ ifindex: 4, probed: false, name: 'known' }));
    s.devices.set(5, device({ ifindex: 5, probed: false, up: false }));
    const p = plan(s, cfg({ devices: new Map([['known', { esn: true }]]) }));
    expect(p.actions).toEqual([{ type: 'probe', ifindex: 3 }]);
  });
});

// ---- invariants over random states --------------------------------------

const arbState = fc
  .record({
    capacity: fc.option(fc.integer({ min: 0, max: 12 }), { nil: undefined }),
    devUp: fc.boolean(),
    children: fc.array(
      fc.record({
        gone: fc.boolean(),
        esn: fc.boolean(),
        inOff: fc.boolean(),
        outOff: fc.boolean(),
        inPresent: fc.boolean(),
        outPresent: fc.boolean(),
        keys: fc.boolean(),
        busy: fc.boolean(),
        reinstalled: fc.boolean(),
        rate: fc.nat(1000),
        pin: fc.constantFrom(undefined, 'offload' as const, 'software' as const),
      }),
      { maxLength: 12 },
    ),
  })
  .map((g) => {
    const s = withDevice(device({ ifindex: 3, up: g.devUp, capacity: g.capacity, esn: 'unknown' }));
    g.children.forEach((c, i) => {
      const { sin, sout } = addChild(s, {
        uniqueid: i + 1,
        gone: c.gone,
        esn: c.esn,
        sa: { keysHeld: c.keys, busy: c.busy, reinstalledByUs: c.reinstalled, rate: c.rate },
        saIn: { offloadIfindex: c.inOff ? 3 : undefined, present: c.inPresent },
        saOut: { offloadIfindex: c.outOff ? 3 : undefined, present: c.outPresent },
      });
      if (c.pin) {
        s.pins.sa.set(sin.key, c.pin);
        s.pins.sa.set(sout.key, c.pin);
      }
    });
    return s;
  });

describe('planner invariants (property-based)', () => {
  it('never plans past capacity, never swaps without keys, never touches busy SAs, never resurrects', () => {
    fc.assert(
      fc.property(arbState, (s) => {
        const p = plan(s, cfg());
        const dev = s.devices.get(3)!;
        const onDev = [...s.sas.values()].filter((x) => x.present && x.offloadIfindex === 3).length;
        const promotes = p.actions.filter((a) => a.type === 'promote').length;
        if (dev.capacity !== undefined) expect(promotes).toBeLessThanOrEqual(Math.max(0, dev.capacity - onDev));
        for (const a of p.actions) {
          if (a.type === 'rekey' || a.type === 'probe') continue;
          const sa = s.sas.get(a.sa)!;
          expect(sa.busy).toBe(false);
          if (a.type === 'promote' || a.type === 'demote') expect(sa.keysHeld && sa.present).toBe(true);
          const child = s.children.get(sa.child)!;
          if (a.type === 'reinstall' || a.type === 'promote') expect(child.gone).toBe(false);
          if (a.type === 'remove') expect(child.gone && sa.reinstalledByUs).toBe(true);
          if (a.type === 'promote') expect(dev.up).toBe(true);
          if (a.type === 'promote') expect(s.pins.sa.get(sa.key)).not.toBe('software');
          if (a.type === 'reinstall') expect(sa.keysHeld && !sa.present).toBe(true);
        }
        for (const a of p.actions) if (a.type === 'rekey') expect(s.children.get(a.child)!.gone).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('is deterministic: the same state in another insertion order gives the same plan', () => {
    fc.assert(
      fc.property(arbState, (s) => {
        const shuffled: OffloadState = { ...s, sas: new Map([...s.sas].reverse()), children: new Map([...s.children].reverse()) };
        expect(plan(shuffled, cfg()).actions).toEqual(plan(s, cfg()).actions);
      }),
      { numRuns: 500 },
    );
  });
});
