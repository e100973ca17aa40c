// ESP exceptions from the daemon's SA model (src/steer/daemon/esp.ts): which
// inbound SAs count, and the VLAN their traffic carries on the uplink, over
// links decoded from real kernel captures (Debian 6.1: a veth with an 802.1Q
// and an 802.1ad device on it; this host: a macvlan on a veth).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RTM_NEWLINK } from '../../../src/link/constants.js';
import { toLink, type Link } from '../../../src/link/link-view.js';
import { decodeRtMessage } from '../../../src/link/messages.js';
import { emptyState } from '../../../src/offload/types.js';
import { espExceptions, inboundKeys, inboundSas, sameKeys, vlanOnUplink, type InboundSa } from '../../../src/steer/daemon/esp.js';
import { addChild } from '../offload/builders.js';
import { asMessage, loadFixture, LAB_FIXTURE_DIR } from '../link/fixtures.js';

function linksOf(id: string, dir?: string): Map<string, Link> {
  const f = dir ? loadFixture(id, dir) : loadFixture(id);
  const out = new Map<string, Link>();
  for (const m of f.received.map(asMessage).filter((x) => x.type === RTM_NEWLINK)) {
    const d = decodeRtMessage(m);
    if (d.family !== 'link') continue;
    const l = toLink(d.header, d.attrs, d.vfList);
    out.set(l.name, l);
  }
  return out;
}

const byIndex = (m: Map<string, Link>): Map<number, Link> => new Map([...m.values()].map((l) => [l.index, l]));
const get = (m: Map<string, Link>, name: string): Link => {
  const l = m.get(name);
  if (!l) throw new Error(`no ${name} in the capture`);
  return l;
};

// v0 (veth) with v0.5 (802.1Q, VLAN 5) and vq (802.1ad, VLAN 100) on it; v1 is v0's peer.
const lab = linksOf('lab-vlan-links', LAB_FIXTURE_DIR);
// v0 (veth) with mv0 (macvlan) on it.
const host = linksOf('link-show-dump');

describe('vlanOnUplink: the VLAN of frames arriving through a device, on the uplink', () => {
  const v0 = get(lab, 'v0');
  const links = byIndex(lab);

  it('the uplink itself: untagged', () => expect(vlanOnUplink(v0.index, v0, links)).toBe(0));
  it('an 802.1Q device on the uplink: its VLAN', () => {
    expect(get(lab, 'v0.5')).toMatchObject({ kind: 'vlan', vlan: { id: 5, protocol: 0x8100 }, parent: v0.index });
    expect(vlanOnUplink(get(lab, 'v0.5').index, v0, links)).toBe(5);
  });
  it('an 802.1ad device on the uplink: none (steering never redirects S-tagged frames)', () => {
    expect(get(lab, 'vq').vlan?.protocol).toBe(0x88a8);
    expect(vlanOnUplink(get(lab, 'vq').index, v0, links)).toBeUndefined();
  });
  it('devices off the uplink (its veth peer, lo, an unknown ifindex): none', () => {
    expect(vlanOnUplink(get(lab, 'v1').index, v0, links)).toBeUndefined();
    expect(vlanOnUplink(get(lab, 'lo').index, v0, links)).toBeUndefined();
    expect(vlanOnUplink(9999, v0, links)).toBeUndefined();
  });
  it('an 802.1Q device on another device: none', () => {
    expect(vlanOnUplink(get(lab, 'v0.5').index, get(lab, 'v1'), links)).toBeUndefined();
  });
  it('a macvlan on the uplink: untagged; on another uplink: none', () => {
    const hl = byIndex(host);
    expect(get(host, 'mv0')).toMatchObject({ kind: 'macvlan', parent: get(host, 'v0').index });
    expect(vlanOnUplink(get(host, 'mv0').index, get(host, 'v0'), hl)).toBe(0);
    expect(vlanOnUplink(get(host, 'mv0').index, get(host, 'v1'), hl)).toBeUndefined();
  });
  it('the uplink enslaved (bridge, bond): the master untagged, an 802.1Q device on the master its VLAN', () => {
    const master = 77;
    const enslaved: Link = { ...v0, master };
    const onMaster: Link = { ...get(lab, 'v0.5'), index: 78, parent: master };
    const withMaster = new Map(links).set(78, onMaster);
    expect(vlanOnUplink(master, enslaved, withMaster)).toBe(0);
    expect(vlanOnUplink(78, enslaved, withMaster)).toBe(5);
    expect(vlanOnUplink(78, v0, withMaster)).toBeUndefined();
  });
  it('a VLAN device whose lower device is in another netns: none (another ifindex space)', () => {
    const remote: Link = { ...get(lab, 'v0.5'), index: 79, linkNetnsId: 3 };
    expect(vlanOnUplink(79, v0, new Map(links).set(79, remote))).toBeUndefined();
  });
});

describe('inboundSas: the inbound ESP SAs the kernel holds', () => {
  it('takes inbound, present (or mid-swap) SAs; not outbound, gone or deleted ones', () => {
    const s = emptyState();
    const a = addChild(s, { uniqueid: 1 });
    const b = addChild(s, { uniqueid: 2, saIn: { present: false, busy: true } });
    addChild(s, { uniqueid: 3, saIn: { present: false } });
    addChild(s, { uniqueid: 4, saIn: { present: true, deleted: true } });
    expect(inboundSas(s)).toEqual([
      { key: a.sin.key, daddr: '10.0.0.1', saddr: '10.0.0.2', spi: a.sin.id.spi },
      { key: b.sin.key, daddr: '10.0.0.1', saddr: '10.0.0.2', spi: b.sin.id.spi },
    ]);
  });

  it('the keys are those SAs’ model keys and compare equal exactly when the set is the same', () => {
    const s = emptyState();
    const a = addChild(s, { uniqueid: 1 });
    const first = inboundKeys(s);
    expect(first).toEqual(new Set(inboundSas(s).map((x) => x.key)));
    expect(first).toEqual(new Set([a.sin.key]));
    addChild(s, { uniqueid: 2 });
    const second = inboundKeys(s);
    expect(sameKeys(first, second)).toBe(false);
    expect(sameKeys(second, first)).toBe(false);
    a.sin.present = false;
    const third = inboundKeys(s);
    expect(third.size).toBe(1);
    expect(sameKeys(second, third)).toBe(false);
    expect(sameKeys(third, inboundKeys(s))).toBe(true);
  });
});

describe('espExceptions', () => {
  const v0 = get(lab, 'v0');
  const links = byIndex(lab);
  const vlan5 = get(lab, 'v0.5').index;

  it('one per SA whose traffic arrives across the uplink, with that VLAN; none for the rest; sorted, no duplicates', () => {
    const sa = (daddr: string, saddr: string, spi: number): InboundSa => ({ key: `${daddr}/${spi}`, daddr, saddr, spi });
    const sas: InboundSa[] = [
      sa('10.0.5.1', '10.0.5.2', 0x200),
      sa('10.0.0.1', '10.0.0.2', 0x100),
      sa('10.0.0.1', '10.0.0.2', 0x100),
      sa('10.0.9.1', '10.0.9.2', 0x300), // arrives elsewhere
      sa('10.0.8.1', '10.0.8.2', 0x400), // no route back
    ];
    const arrival = (sa: InboundSa): number | undefined =>
      sa.daddr === '10.0.5.1' ? vlan5 : sa.daddr === '10.0.0.1' ? v0.index : sa.daddr === '10.0.9.1' ? get(lab, 'v1').index : undefined;
    expect(espExceptions(sas, arrival, v0, links)).toEqual([
      { vlan: 0, daddr: '10.0.0.1', spi: 0x100 },
      { vlan: 5, daddr: '10.0.5.1', spi: 0x200 },
    ]);
  });

  it('property: every exception is an SA arriving on the uplink with vlanOnUplink of its device, each once', () => {
    const devices = [...links.keys(), 9999];
    const sa = fc.record({
      daddr: fc.constantFrom('10.0.0.1', '10.0.5.1', '2001:db8::1'),
      saddr: fc.constantFrom('10.0.0.2', '10.0.5.2'),
      spi: fc.integer({ min: 1, max: 0xffffffff }),
      dev: fc.option(fc.constantFrom(...devices), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(sa, { maxLength: 30 }), (list) => {
        const dev = new Map(list.map((s) => [`${s.daddr}/${s.saddr}/${s.spi}`, s.dev]));
        const sas = list.map(({ daddr, saddr, spi }) => ({ key: `${daddr}/${spi}`, daddr, saddr, spi }));
        const out = espExceptions(sas, (s) => dev.get(`${s.daddr}/${s.saddr}/${s.spi}`), v0, links);
        const keys = out.map((e) => `${e.vlan}/${e.daddr}/${e.spi}`);
        expect(new Set(keys).size).toBe(keys.length);
        for (const e of out) {
          const from = sas.filter((s) => s.daddr === e.daddr && s.spi === e.spi);
          expect(from.some((s) => vlanOnUplink(dev.get(`${s.daddr}/${s.saddr}/${s.spi}`) ?? -1, v0, links) === e.vlan)).toBe(true);
        }
        for (const s of sas) {
          const d = dev.get(`${s.daddr}/${s.saddr}/${s.spi}`);
          const v = d === undefined ? undefined : vlanOnUplink(d, v0, links);
          if (v !== undefined) expect(keys).toContain(`${v}/${s.daddr}/${s.spi}`);
        }
      }),
    );
  });
});
