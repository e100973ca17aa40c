// sa.add decided: what the host installs for a VF's CHILD_SA, or the reason
// it refuses. One table of requests against one VF's allowance and the
// ownership of all VFs; then what the host copy of an SA keeps and drops.
import { describe, expect, it } from 'vitest';
import { SecretBytes } from '../../../src/netlink/codec/secret.js';
import { authorizeChild, hostPolicy, portMask, selectorPairs, type VfAllowance } from '../../../src/vf/pf/host-child.js';
import { addOwnedChild, emptyOwnership, removeOwnedChild, type Ownership } from '../../../src/vf/pf/ownership.js';
import { parsePrefix } from '../../../src/vf/pf/prefixes.js';
import type { ChildSpec } from '../../../src/vf/protocol/codec.js';
import { child, gcmSa, ts } from './builders.js';

const allowance = (o: Partial<VfAllowance> = {}): VfAllowance => ({
  name: 't0',
  ifId: 100,
  addresses: ['192.168.10.2', '10.10.0.0/24'].map((a) => parsePrefix(a) as NonNullable<ReturnType<typeof parsePrefix>>),
  maxSas: 6,
  ...o,
});

function owning(build: (o: Ownership) => void = () => undefined): Ownership {
  const o = emptyOwnership();
  build(o);
  return o;
}

const run = (c: ChildSpec, o = owning(), vf = allowance()) => authorizeChild({ vf, child: c, ownership: o, now: 1000, reqid: () => 0xc0000007 });

/** The accepted record of a child (as authorize builds it), added to ownership under `vf`. */
function installed(o: Ownership, vf: string, c: ChildSpec, ifId = 100): void {
  const r = authorizeChild({ vf: allowance({ name: vf, ifId, addresses: [parsePrefix('0.0.0.0/0') as NonNullable<ReturnType<typeof parsePrefix>>], maxSas: 100 }), child: c, ownership: o, now: 0, reqid: () => 1 });
  if (!r.ok || r.present) throw new Error('setup child refused');
  addOwnedChild(o, vf, ifId, r.record);
}

type Want = 'ok' | 'present' | { reason: string; message?: RegExp };

const rows: [string, () => ChildSpec, () => Ownership, Want, VfAllowance?][] = [
  ['a tunnel CHILD_SA inside the allowance', () => child(), owning, 'ok'],
  ['the same CHILD_SA again (agent resync)', () => child(), () => owning((o) => installed(o, 't0', child())), 'present'],
  ['the same uniqueid with other SAs', () => child({ spiIn: 0xc0000099 }), () => owning((o) => installed(o, 't0', child())), { reason: 'duplicate' }],
  ['transport mode', () => child({ mode: 0 }), owning, { reason: 'unsupported', message: /tunnel-mode/ }],
  ['an outer address that is not the VF\'s (forged: another VF\'s)', () => child({ local: '192.168.11.2' }), owning, { reason: 'address-not-allowed', message: /192\.168\.11\.2 is not an address of VF t0/ }],
  ['a local selector outside the allowance', () => child({ localTs: [ts('10.10.0.0/16')] }), owning, { reason: 'address-not-allowed', message: /10\.10\.0\.0\/16/ }],
  ['a local selector of another VF', () => child({ localTs: [ts('10.11.0.0/24')] }), owning, { reason: 'address-not-allowed' }],
  ['beyond the SA quota', () => child({ uniqueid: 9, spiIn: 0xc9, spiOut: 0xd9 }), () => owning((o) => {
    installed(o, 't0', child({ uniqueid: 1, spiIn: 0xc1, spiOut: 0xd1 }));
    installed(o, 't0', child({ uniqueid: 2, spiIn: 0xc2, spiOut: 0xd2 }));
    installed(o, 't0', child({ uniqueid: 3, spiIn: 0xc3, spiOut: 0xd3 }));
  }), { reason: 'quota', message: /6 of its 6 SAs/ }],
  ['an outbound SA another VF holds (same destination and SPI)', () => child({ spiOut: 0xd1 }), () => owning((o) => installed(o, 't1', child({ local: '192.168.11.2', spiIn: 0xe1, spiOut: 0xd1, localTs: [ts('10.11.0.0/24')] }), 101)), { reason: 'spi-collision', message: /another VF/ }],
  ['an SA of its own other CHILD_SA', () => child({ uniqueid: 2, spiOut: 0xd1 }), () => owning((o) => installed(o, 't0', child({ uniqueid: 1, spiIn: 0xc1, spiOut: 0xd1 }))), { reason: 'spi-collision', message: /CHILD_SA #1/ }],
  ['an SA installed before and removed (retired)', () => child({ uniqueid: 2, spiIn: 0xc1, spiOut: 0xd2 }), () => owning((o) => {
    installed(o, 't0', child({ uniqueid: 1, spiIn: 0xc1, spiOut: 0xd1 }));
    removeOwnedChild(o, 't0', 1, 5000);
  }), { reason: 'retired', message: /rekey CHILD_SA #2/ }],
  ['a retired SA after its retirement ended', () => child({ uniqueid: 2, spiIn: 0xc1, spiOut: 0xd2 }), () => owning((o) => {
    installed(o, 't0', child({ uniqueid: 1, spiIn: 0xc1, spiOut: 0xd1 }));
    removeOwnedChild(o, 't0', 1, 999);
  }), 'ok'],
  ['a port range the kernel cannot express', () => child({ remoteTs: [ts('10.20.0.0/24', { proto: 6, from: 80, to: 90 })] }), owning, { reason: 'unsupported', message: /port range/ }],
  ['selectors of different families only', () => child({ remoteTs: [ts('fd00::/64')] }), owning, { reason: 'unsupported', message: /one address family/ }],
];

describe('authorizeChild', () => {
  it.each(rows)('%s', (_name, c, o, want, vf) => {
    const r = run(c(), o(), vf);
    if (want === 'ok') expect(r).toMatchObject({ ok: true, present: false });
    else if (want === 'present') expect(r).toEqual({ ok: true, present: true });
    else {
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.reason).toBe(want.reason);
        if (want.message) expect(r.message).toMatch(want.message);
      }
    }
  });

  it('SA contents the host cannot terminate are refused as unsupported', () => {
    const cases: [string, (c: ChildSpec) => void, RegExp][] = [
      ['NAT-T', (c) => void (c.saIn.encap = { type: 'espinudp', sport: 4500, dport: 4500, oa: '' }), /UDP encapsulation/],
      ['AH', (c) => void (c.saOut.proto = 'ah'), /protocol ah/],
      ['IPcomp', (c) => void (c.saOut.comp = { name: 'deflate' }), /IPcomp/],
      ['no cipher', (c) => void delete c.saIn.aead, /no encryption/],
      ['reqid of another CHILD_SA', (c) => void (c.saIn.reqid = 99), /reqid 99/],
      ['mismatched directions', (c) => void (c.saOut.daddr = '192.168.20.9'), /same two addresses/],
      ['security label', (c) => void (c.saIn.secCtx = { doi: 1, alg: 1, ctx: 'x' } as never), /security labels/],
    ];
    for (const [name, mutate, msg] of cases) {
      const c = child();
      mutate(c);
      const r = run(c);
      expect(r.ok, name).toBe(false);
      if (!r.ok) {
        expect(r.reason, name).toBe('unsupported');
        expect(r.message, name).toMatch(msg);
      }
    }
  });

  it('an inbound SPI another VF uses (other destination) is accepted but kept in software: spi-collision', () => {
    const o = owning((x) => installed(x, 't1', child({ local: '192.168.11.2', spiIn: 0xc0000001, spiOut: 0xd9, localTs: [ts('10.11.0.0/24')] }), 101));
    const r = run(child(), o);
    expect(r).toMatchObject({ ok: true, present: false, record: { software: 'spi-collision' } });
  });

  it('the reqid is allocated only for an accepted CHILD_SA', () => {
    let calls = 0;
    authorizeChild({ vf: allowance(), child: child({ mode: 0 }), ownership: owning(), now: 0, reqid: () => ++calls });
    expect(calls).toBe(0);
    authorizeChild({ vf: allowance(), child: child(), ownership: owning(), now: 0, reqid: () => ++calls });
    expect(calls).toBe(1);
  });
});

describe('the host copy', () => {
  it('rebuilds the SA: ESP tunnel, the VF if_id, the host reqid, keys and replay state; no mark, offload, encap, selector or counters from the tenant', () => {
    const c = child({ esn: true });
    Object.assign(c.saIn, {
      mark: { value: 7, mask: 0xff },
      setMark: { value: 1 },
      ifId: 5,
      offload: { ifindex: 3, dir: 'in', packet: false },
      current: { bytes: 5n, packets: 1n, addTime: 1n, useTime: 0n },
      extraFlags: ['dont-encap-dscp'],
      coaddr: '1.2.3.4',
      pcpu: 3,
      flags: ['esn', 'noecn', 'wildrecv'],
      selector: { ...c.saIn.selector, saddr: '10.0.0.0', prefixlenS: 8 },
    });
    const r = run(c);
    if (!r.ok || r.present) throw new Error('refused');
    const h = r.sas.in;
    expect(h).toMatchObject({ proto: 'esp', mode: 'tunnel', ifId: 100, reqid: 0xc0000007, flags: ['esn'], daddr: '192.168.10.2', spi: 0xc0000001, esn: { replayWindow: 128 } });
    for (const k of ['mark', 'setMark', 'offload', 'current', 'extraFlags', 'coaddr', 'pcpu', 'encap', 'stats']) expect(h, k).not.toHaveProperty(k);
    expect(h.selector.family).toBe('unspec');
    expect(h.aead?.key).toBe(c.saIn.aead?.key);
    expect(r.record).toMatchObject({ uniqueid: 1, reqid: 0xc0000007, tenantReqid: 1, sas: [{ dir: 'in', spi: 0xc0000001 }, { dir: 'out', spi: 0xc1000001 }] });
    expect(JSON.stringify(r.record)).not.toMatch(/key|3132/i);
  });

  it('policies: out local->remote, in and fwd remote->local, per pair of selectors, templated on the SA and the VF if_id', () => {
    const r = run(child({ localTs: [ts('10.10.0.0/24'), ts('192.168.10.2/32', { proto: 17, from: 53, to: 53 })], remoteTs: [ts('10.20.0.0/24')] }));
    if (!r.ok || r.present) throw new Error('refused');
    expect(r.record.policies.map((p) => `${p.dir} ${p.selector.saddr}/${p.selector.prefixlenS} ${p.selector.daddr}/${p.selector.prefixlenD} p${p.selector.proto}`)).toEqual([
      'out 10.10.0.0/24 10.20.0.0/24 p0',
      'in 10.20.0.0/24 10.10.0.0/24 p0',
      'fwd 10.20.0.0/24 10.10.0.0/24 p0',
      'out 192.168.10.2/32 10.20.0.0/24 p17',
      'in 10.20.0.0/24 192.168.10.2/32 p17',
      'fwd 10.20.0.0/24 192.168.10.2/32 p17',
    ]);
    const out = hostPolicy(r.record.policies[0] as never, r.record, 100);
    expect(out).toMatchObject({ dir: 'out', ifId: 100, action: 'allow', templates: [{ saddr: '192.168.10.2', daddr: '192.168.20.2', proto: 'esp', mode: 'tunnel', reqid: 0xc0000007 }] });
    const fwd = hostPolicy(r.record.policies[2] as never, r.record, 100);
    expect(fwd.templates[0]).toMatchObject({ saddr: '192.168.20.2', daddr: '192.168.10.2' });
    const narrow = hostPolicy(r.record.policies[3] as never, r.record, 100);
    expect(narrow.priority).toBeLessThan(out.priority);
  });

  it('routes to the remote selectors only with a route table', () => {
    const r = run(child(), owning(), allowance({ routeTable: 100 }));
    expect(r).toMatchObject({ ok: true, record: { routes: ['10.20.0.0/24'] } });
    const none = run(child());
    expect(none).toMatchObject({ ok: true, record: { routes: [] } });
  });

  it('port ranges as port + mask', () => {
    expect(portMask(0, 65535)).toEqual({ port: 0, mask: 0 });
    expect(portMask(80, 80)).toEqual({ port: 80, mask: 0xffff });
    expect(portMask(1024, 2047)).toEqual({ port: 1024, mask: 0xfc00 });
    expect(portMask(1000, 2000)).toBeUndefined();
    expect(selectorPairs([ts('10.0.0.0/8', { proto: 6 })], [ts('10.1.0.0/16', { proto: 17 })])).toMatchObject({ ok: false });
  });

  it('keys cross intact (the same SecretBytes), nothing copies them', () => {
    const key = SecretBytes.copyOf(Buffer.alloc(20, 7));
    const c = child();
    c.saOut = { ...gcmSa({ saddr: '192.168.10.2', daddr: '192.168.20.2', spi: 0xc1000001 }), aead: { name: 'rfc4106(gcm(aes))', key, icvBits: 128 } };
    const r = run(c);
    if (!r.ok || r.present) throw new Error('refused');
    expect(r.sas.out.aead?.key).toBe(key);
  });
});
