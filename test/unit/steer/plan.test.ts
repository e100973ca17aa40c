// The pure reconcile planner: tables for the cases that matter, then
// properties over random current/desired states: applying the plan reaches
// the desired state (re-planning finds nothing to do), every entry ends up
// consistent with its port, and the op order keeps the kernel path safe.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { PortXdp, ResolvedDesired, SteerState } from '../../../src/steer/desired.js';
import { MAX_PORTS, OP_ORDER, planSteer, type SteerOp } from '../../../src/steer/plan.js';
import { espId, fdbId, type EspKey, type FdbRecord, type PortRecord } from '../../../src/steer/records.js';

const UPLINK = 2;
const M1 = '02:00:00:00:01:01';
const M2 = '02:00:00:00:02:02';

const empty = (over: Partial<SteerState> = {}): SteerState => ({
  uplink: UPLINK,
  ports: [],
  devmap: [UPLINK],
  fdb: [],
  esp: [],
  portXdp: new Map(),
  ...over,
});

const want = (over: Partial<ResolvedDesired> = {}): ResolvedDesired => ({ uplink: UPLINK, ports: [], fdb: [], esp: [], ...over });

/** Applies ops to a state the way apply.ts applies them to the maps. */
function simulate(s: SteerState, ops: readonly SteerOp[]): SteerState {
  const ports = new Map(s.ports.map((p) => [p.ifindex, p]));
  const devmap = new Set(s.devmap);
  const fdb = new Map(s.fdb.map((f) => [fdbId(f), f]));
  const esp = new Map(s.esp.map((e) => [espId(e), e]));
  const xdp = new Map(s.portXdp);
  for (const op of ops) {
    switch (op.op) {
      case 'esp-add':
        esp.set(espId(op.esp), op.esp);
        break;
      case 'esp-delete':
        esp.delete(espId(op.esp));
        break;
      case 'fdb-set':
        fdb.set(fdbId(op.entry), op.entry);
        break;
      case 'fdb-delete':
        fdb.delete(fdbId(op.key));
        break;
      case 'port-set':
        ports.set(op.port.ifindex, op.port);
        break;
      case 'port-delete':
        ports.delete(op.ifindex);
        break;
      case 'devmap-set':
        devmap.add(op.ifindex);
        break;
      case 'devmap-delete':
        devmap.delete(op.ifindex);
        break;
      case 'port-attach':
        xdp.set(op.ifindex, 'ours');
        break;
      case 'port-detach':
        xdp.set(op.ifindex, 'none');
        break;
      case 'port-stats-reset':
        break;
    }
  }
  return { uplink: s.uplink, ports: [...ports.values()], devmap: [...devmap], fdb: [...fdb.values()], esp: [...esp.values()], portXdp: xdp };
}

const kinds = (ops: readonly SteerOp[]): string[] => ops.map((o) => o.op);

describe('planSteer tables', () => {
  it('from nothing: ESP first, ports complete before the entries that point at them', () => {
    const plan = planSteer(
      empty(),
      want({
        ports: [{ device: 'p1', ifindex: 10, mac: M1, vlan: 100 }],
        fdb: [{ mac: M1, vlan: 100, device: 'p1', ifindex: 10, origin: 'config' }],
        esp: [{ vlan: 100, daddr: '10.1.0.1', spi: 0x100 }],
      }),
    );
    expect(plan.issues).toEqual([]);
    expect(plan.ops).toEqual([
      { op: 'esp-add', esp: { vlan: 100, daddr: '10.1.0.1', spi: 0x100 } },
      { op: 'port-stats-reset', slot: 0 },
      { op: 'port-set', port: { ifindex: 10, mac: M1, vlan: 100, uplink: UPLINK, slot: 0 }, device: 'p1' },
      { op: 'devmap-set', ifindex: 10, device: 'p1' },
      { op: 'port-attach', ifindex: 10, device: 'p1' },
      { op: 'fdb-set', entry: { mac: M1, vlan: 100, ifindex: 10, slot: 0, strip: true, origin: 'config' } },
    ]);
  });

  it('nothing to do when the maps already hold the desired state', () => {
    const d = want({
      ports: [{ device: 'p1', ifindex: 10, mac: M1, vlan: 0 }],
      fdb: [{ mac: M1, vlan: 0, device: 'p1', ifindex: 10, origin: 'vf' }],
      esp: [{ vlan: 0, daddr: '2001:db8::1', spi: 7 }],
    });
    const s1 = simulate(empty(), planSteer(empty(), d).ops);
    expect(planSteer(s1, d)).toEqual({ ops: [], issues: [] });
  });

  it('removing a port: its entries go first, then its program, devmap entry and info; ESP removed last', () => {
    const cur = empty({
      ports: [{ ifindex: 10, mac: M1, vlan: 0, uplink: UPLINK, slot: 0 }],
      devmap: [UPLINK, 10],
      fdb: [{ mac: M1, vlan: 0, ifindex: 10, slot: 0, strip: false, origin: 'config' }],
      esp: [{ vlan: 0, daddr: '10.0.0.1', spi: 5 }],
      portXdp: new Map([[10, 'ours']]),
    });
    expect(kinds(planSteer(cur, want()).ops)).toEqual(['fdb-delete', 'port-detach', 'devmap-delete', 'port-delete', 'esp-delete']);
  });

  it('never removes the uplink\'s own devmap entry', () => {
    expect(planSteer(empty({ devmap: [UPLINK, 99] }), want()).ops).toEqual([{ op: 'devmap-delete', ifindex: 99 }]);
  });

  it('keeps manual entries, drops them with their port, and lets desired entries take their key over', () => {
    const cur = empty({
      ports: [
        { ifindex: 10, mac: undefined, vlan: 0, uplink: UPLINK, slot: 0 },
        { ifindex: 11, mac: undefined, vlan: 0, uplink: UPLINK, slot: 1 },
      ],
      devmap: [UPLINK, 10, 11],
      fdb: [
        { mac: M1, vlan: 0, ifindex: 10, slot: 0, strip: false, origin: 'manual' },
        { mac: M2, vlan: 0, ifindex: 11, slot: 1, strip: false, origin: 'manual' },
        { mac: '02:00:00:00:03:03', vlan: 0, ifindex: 10, slot: 0, strip: false, origin: 'manual' },
      ],
      portXdp: new Map<number, PortXdp>([
        [10, 'ours'],
        [11, 'ours'],
      ]),
    });
    const plan = planSteer(
      cur,
      want({ ports: [{ device: 'p1', ifindex: 10, vlan: 0 }], fdb: [{ mac: '02:00:00:00:03:03', vlan: 0, device: 'p1', ifindex: 10, origin: 'config' }] }),
    );
    expect(plan.ops).toEqual([
      { op: 'fdb-delete', key: { mac: M2, vlan: 0 }, reason: 'port removed' },
      { op: 'fdb-set', entry: { mac: '02:00:00:00:03:03', vlan: 0, ifindex: 10, slot: 0, strip: false, origin: 'config' } },
      { op: 'port-detach', ifindex: 11 },
      { op: 'devmap-delete', ifindex: 11 },
      { op: 'port-delete', ifindex: 11 },
    ]);
  });

  it('a port that becomes an access port: port rewritten, its entries re-flagged, stats kept', () => {
    const cur = empty({
      ports: [{ ifindex: 10, mac: M1, vlan: 0, uplink: UPLINK, slot: 3 }],
      devmap: [UPLINK, 10],
      fdb: [{ mac: M1, vlan: 100, ifindex: 10, slot: 3, strip: false, origin: 'config' }],
      portXdp: new Map([[10, 'ours']]),
    });
    const plan = planSteer(
      cur,
      want({ ports: [{ device: 'p1', ifindex: 10, mac: M1, vlan: 100 }], fdb: [{ mac: M1, vlan: 100, device: 'p1', ifindex: 10, origin: 'config' }] }),
    );
    expect(plan.ops).toEqual([
      { op: 'port-set', port: { ifindex: 10, mac: M1, vlan: 100, uplink: UPLINK, slot: 3 }, device: 'p1' },
      { op: 'fdb-set', entry: { mac: M1, vlan: 100, ifindex: 10, slot: 3, strip: true, origin: 'config' } },
    ]);
  });

  it('new ports take the lowest free counter slots; existing ports keep theirs', () => {
    const cur = empty({
      ports: [{ ifindex: 10, mac: undefined, vlan: 0, uplink: UPLINK, slot: 1 }],
      devmap: [UPLINK, 10],
      portXdp: new Map([[10, 'ours']]),
    });
    const plan = planSteer(
      cur,
      want({
        ports: [
          { device: 'a', ifindex: 12, vlan: 0 },
          { device: 'p1', ifindex: 10, vlan: 0 },
          { device: 'b', ifindex: 13, vlan: 0 },
        ],
      }),
    );
    const slots = plan.ops.flatMap((o) => (o.op === 'port-set' ? [[o.port.ifindex, o.port.slot]] : []));
    expect(slots).toEqual([
      [12, 0],
      [13, 2],
    ]);
    expect(plan.ops.filter((o) => o.op === 'port-stats-reset')).toEqual([
      { op: 'port-stats-reset', slot: 0 },
      { op: 'port-stats-reset', slot: 2 },
    ]);
  });

  it('the uplink moved to a new ifindex: ports are rewritten to point at it', () => {
    const cur = empty({
      uplink: 7,
      ports: [{ ifindex: 10, mac: undefined, vlan: 0, uplink: 2, slot: 0 }],
      devmap: [2, 10, 7],
      portXdp: new Map([[10, 'ours']]),
    });
    const plan = planSteer(cur, { uplink: 7, ports: [{ device: 'p1', ifindex: 10, vlan: 0 }], fdb: [], esp: [] });
    expect(plan.ops).toEqual([
      { op: 'port-set', port: { ifindex: 10, mac: undefined, vlan: 0, uplink: 7, slot: 0 }, device: 'p1' },
      { op: 'devmap-delete', ifindex: 2 },
    ]);
  });

  it('refuses what the datapath cannot do, and applies the rest', () => {
    const plan = planSteer(
      empty({ portXdp: new Map([[14, 'foreign']]) }),
      want({
        ports: [
          { device: 'p1', ifindex: 10, mac: M1, vlan: 100 },
          { device: 'up0', ifindex: UPLINK, vlan: 0 },
          { device: 'p2', ifindex: 11, vlan: 4095 },
          { device: 'p3', ifindex: 12, mac: '01:00:5e:00:00:01', vlan: 0 },
          { device: 'p1again', ifindex: 10, vlan: 0 },
          { device: 'p4', ifindex: 14, vlan: 0 },
        ],
        fdb: [
          { mac: 'ff:ff:ff:ff:ff:ff', vlan: 100, device: 'p1', ifindex: 10, origin: 'config' },
          { mac: M1, vlan: 200, device: 'p1', ifindex: 10, origin: 'config' },
          { mac: M2, vlan: 0, device: 'p9', ifindex: 19, origin: 'config' },
          { mac: M2, vlan: 0, device: 'up0', ifindex: UPLINK, origin: 'config' },
          { mac: 'not-a-mac', vlan: 0, device: 'p1', ifindex: 10, origin: 'config' },
          { mac: M1, vlan: 100, device: 'p1', ifindex: 10, origin: 'config' },
          { mac: M1, vlan: 100, device: 'p4', ifindex: 14, origin: 'config' },
        ],
        esp: [
          { vlan: 0, daddr: '10.0.0.1', spi: 0 },
          { vlan: 5000, daddr: '10.0.0.1', spi: 1 },
          { vlan: 0, daddr: 'nowhere', spi: 1 },
          { vlan: 0, daddr: '10.0.0.1', spi: 1 },
        ],
      }),
    );
    expect(plan.issues.map((i) => i.message)).toEqual([
      'is the uplink itself',
      'VLAN 4095 is outside 0..4094',
      '01:00:5e:00:00:01 is not a unicast MAC',
      'listed twice',
      'runs another XDP program: frames it sends are not steered to the uplink',
      'ff:ff:ff:ff:ff:ff is not a unicast MAC',
      'the port is an access port of VLAN 100; entries for it must use VLAN 100',
      'p9 is not a port',
      'points at the uplink itself',
      '"not-a-mac" is not a MAC address',
      'conflicts with an earlier entry for the same MAC and VLAN',
      'SPI must be 1..0xffffffff',
      'VLAN 5000 is outside 0..4094',
      '"nowhere" is not an IP address',
    ]);
    expect(plan.ops.filter((o) => o.op === 'fdb-set')).toHaveLength(1);
    expect(plan.ops.filter((o) => o.op === 'port-attach').map((o) => o.op === 'port-attach' && o.device)).toEqual(['p1']);
    expect(plan.ops.filter((o) => o.op === 'esp-add')).toEqual([{ op: 'esp-add', esp: { vlan: 0, daddr: '10.0.0.1', spi: 1 } }]);
  });

  it('caps the ports at the devmap size (one entry is the uplink\'s)', () => {
    const ports = Array.from({ length: MAX_PORTS + 2 }, (_, i) => ({ device: `p${i}`, ifindex: 100 + i, vlan: 0 }));
    const plan = planSteer(empty(), want({ ports }));
    expect(plan.ops.filter((o) => o.op === 'port-set')).toHaveLength(MAX_PORTS);
    expect(plan.issues).toHaveLength(2);
  });

  it('normalises MACs and addresses before comparing', () => {
    const cur = simulate(
      empty(),
      planSteer(empty(), want({ ports: [{ device: 'p1', ifindex: 10, vlan: 0 }], fdb: [{ mac: M1, vlan: 0, device: 'p1', ifindex: 10, origin: 'config' }], esp: [{ vlan: 0, daddr: '2001:db8::1', spi: 9 }] })).ops,
    );
    const plan = planSteer(
      cur,
      want({ ports: [{ device: 'p1', ifindex: 10, vlan: 0 }], fdb: [{ mac: '2:0:0:0:1:1', vlan: 0, device: 'p1', ifindex: 10, origin: 'config' }], esp: [{ vlan: 0, daddr: '2001:0db8:0::0001', spi: 9 }] }),
    );
    expect(plan).toEqual({ ops: [], issues: [] });
  });
});

// Random states over small pools, so keys, ports and slots collide often.
const macs = ['02:00:00:00:00:01', '02:00:00:00:00:02', '02:00:00:00:00:03', '02:00:00:00:00:04', '03:00:00:00:00:05'];
const mac = fc.constantFrom(...macs);
const vlan = fc.constantFrom(0, 100, 200, 4095);
const ifindex = fc.integer({ min: 10, max: 16 });
const origin = fc.constantFrom('config' as const, 'vf' as const);
const espKey: fc.Arbitrary<EspKey> = fc.record({ vlan: fc.constantFrom(0, 100), daddr: fc.constantFrom('10.0.0.1', '10.0.0.2', '2001:db8::1'), spi: fc.integer({ min: 0, max: 4 }) });

const desiredArb: fc.Arbitrary<ResolvedDesired> = fc.record({
  uplink: fc.constant(UPLINK),
  ports: fc.array(fc.record({ device: fc.constant('p'), ifindex: fc.oneof(ifindex, fc.constant(UPLINK)), vlan, mac: fc.option(mac, { nil: undefined }) }), { maxLength: 6 }).map((ps) =>
    ps.map((p) => ({ ...p, device: `p${p.ifindex}`, ...(p.mac === undefined ? { mac: undefined } : {}) })),
  ),
  fdb: fc.array(fc.record({ mac, vlan, ifindex: fc.oneof(ifindex, fc.constant(UPLINK)), origin }), { maxLength: 10 }).map((fs) => fs.map((f) => ({ ...f, device: `p${f.ifindex}` }))),
  esp: fc.array(espKey, { maxLength: 6 }),
});

/** A current state some earlier plan produced (plus manual entries and a foreign port). */
const currentArb: fc.Arbitrary<SteerState> = fc
  .tuple(desiredArb, fc.array(fc.record({ mac, vlan: fc.constantFrom(0, 100), ifindex }), { maxLength: 4 }), fc.option(ifindex, { nil: undefined }))
  .map(([d, manual, foreign]) => {
    const base = simulate(empty({ portXdp: new Map(foreign !== undefined ? [[foreign, 'foreign' as PortXdp]] : []) }), planSteer(empty(), d).ops);
    const ports = new Map(base.ports.map((p) => [p.ifindex, p]));
    const extra: FdbRecord[] = manual
      .filter((m) => ports.has(m.ifindex) && !base.fdb.some((f) => f.mac === m.mac && f.vlan === m.vlan) && !m.mac.startsWith('03'))
      .map((m) => ({ ...m, slot: ports.get(m.ifindex)?.slot ?? 0, strip: (ports.get(m.ifindex)?.vlan ?? 0) !== 0, origin: 'manual' as const }));
    const uniq = new Map([...base.fdb, ...extra].map((f) => [fdbId(f), f]));
    return { ...base, fdb: [...uniq.values()] };
  });

describe('planSteer properties', () => {
  it('applying the plan reaches a fixpoint: planning again finds nothing to do', () => {
    fc.assert(
      fc.property(currentArb, desiredArb, (cur, d) => {
        const after = simulate(cur, planSteer(cur, d).ops);
        expect(planSteer(after, d).ops).toEqual([]);
      }),
      { numRuns: 500 },
    );
  });

  it('every entry after apply points at a complete port, with its slot and strip flag', () => {
    fc.assert(
      fc.property(currentArb, desiredArb, (cur, d) => {
        const after = simulate(cur, planSteer(cur, d).ops);
        const ports = new Map<number, PortRecord>(after.ports.map((p) => [p.ifindex, p]));
        const slots = after.ports.map((p) => p.slot);
        expect(new Set(slots).size).toBe(slots.length);
        for (const f of after.fdb) {
          const p = ports.get(f.ifindex);
          expect(p).toBeDefined();
          expect(after.devmap).toContain(f.ifindex);
          expect(f.slot).toBe(p?.slot);
          expect(f.strip).toBe((p?.vlan ?? 0) !== 0);
          if (p && p.vlan !== 0) expect(f.vlan).toBe(p.vlan);
          expect(f.ifindex).not.toBe(UPLINK);
        }
        expect(after.devmap).toContain(UPLINK);
        for (const p of after.ports) expect(after.devmap).toContain(p.ifindex);
        for (const e of after.esp) expect(e.spi).toBeGreaterThan(0);
      }),
      { numRuns: 500 },
    );
  });

  it('ops come in the safe order, and no entry is steered to a port before the port is complete', () => {
    fc.assert(
      fc.property(currentArb, desiredArb, (cur, d) => {
        const { ops } = planSteer(cur, d);
        const rank = ops.map((o) => OP_ORDER.indexOf(o.op));
        expect(rank).toEqual([...rank].sort((a, b) => a - b));
        const lastPortWork = new Map<number, number>();
        ops.forEach((o, i) => {
          if (o.op === 'port-set' || o.op === 'devmap-set') lastPortWork.set(o.op === 'port-set' ? o.port.ifindex : o.ifindex, i);
        });
        ops.forEach((o, i) => {
          if (o.op === 'fdb-set') expect(i).toBeGreaterThan(lastPortWork.get(o.entry.ifindex) ?? -1);
        });
      }),
      { numRuns: 500 },
    );
  });

  it('manual entries survive any reconcile as long as their port does', () => {
    fc.assert(
      fc.property(currentArb, desiredArb, (cur, d) => {
        const after = simulate(cur, planSteer(cur, d).ops);
        const wanted = new Set(d.fdb.map((f) => fdbId({ mac: f.mac, vlan: f.vlan })));
        for (const m of cur.fdb.filter((f) => f.origin === 'manual')) {
          const port = after.ports.find((p) => p.ifindex === m.ifindex);
          const kept = after.fdb.find((f) => fdbId(f) === fdbId(m));
          if (port && (port.vlan === 0 || port.vlan === m.vlan) && !wanted.has(fdbId(m))) expect(kept?.origin).toBe('manual');
        }
      }),
      { numRuns: 300 },
    );
  });
});
