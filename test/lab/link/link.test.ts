// Links the host kernel cannot make, on the lab's Debian 6.1 kernel with
// netdevsim: xfrm and vlan interfaces created and read back, SR-IOV VF
// settings set and read back through VF info, a VF list past 64 KiB, and
// esp-hw-offload as ethtool netlink reports it for netdevsim.
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type Captured, type LabRun } from '../harness/scenario.js';

let run: LabRun;
let pf: string;

beforeAll(async () => {
  run = (await runInLab('link', scenarioScript(import.meta.url, 'link.sh'), { timeoutMs: 600_000 })).expectSuccess();
  pf = run.text('pf').trim();
});

type Json = Record<string, unknown>;
const ipLink = (name: string): Json | undefined => (JSON.parse(run.json<Captured>('ip_links').out) as Json[]).find((l) => l.ifname === name);

describe('xfrm interfaces', () => {
  it('are created with if_id and an underlying link, and read back', () => {
    const x = run.json<{ withLink: Json; plain: Json; duplicateIfId: Json; pfIndex: number }>('xfrm');
    expect(x.withLink).toMatchObject({ name: 'ipsec5', kind: 'xfrm', xfrm: { ifId: 5, link: x.pfIndex, collectMetadata: false } });
    expect(x.plain).toMatchObject({ name: 'ipsec6', kind: 'xfrm', xfrm: { ifId: 6, link: 0 } });
    expect(ipLink('ipsec5')).toMatchObject({ linkinfo: { info_kind: 'xfrm', info_data: { if_id: '0x5' } } });
  });

  it('a second interface with the same if_id is refused', () => {
    const x = run.json<{ duplicateIfId: Json }>('xfrm');
    expect(x.duplicateIfId).toMatchObject({ ok: false, name: 'NetlinkError', code: 'EEXIST' });
  });

  it('comes up (no carrier concept: operstate unknown)', () => {
    expect(run.json<Json>('xfrm-up')).toMatchObject({ up: true, running: true, lowerUp: true, operstate: 'unknown' });
  });
});

describe('vlan interfaces', () => {
  it('802.1Q and 802.1ad on the netdevsim port', () => {
    const v = run.json<{ q: Json; ad: Json; pfIndex: number }>('vlan');
    expect(v.q).toMatchObject({ name: `${pf}.100`, kind: 'vlan', parent: v.pfIndex, vlan: { id: 100, protocol: 0x8100 } });
    expect(v.ad).toMatchObject({ name: 'svlan200', kind: 'vlan', parent: v.pfIndex, vlan: { id: 200, protocol: 0x88a8 } });
    expect(ipLink('svlan200')).toMatchObject({ linkinfo: { info_kind: 'vlan', info_data: { protocol: '802.1ad', id: 200 } } });
  });
});

describe('SR-IOV VF settings on netdevsim', () => {
  type Vf = { vf: number; mac: string; vlan: number; qos: number; vlanProto: number; trust?: boolean; spoofchk?: boolean; linkState?: string; stats?: Json };
  const vfs = (): { link: { numVf: number; vfs: Vf[]; vfListTruncation?: Json }; withStats: { vfs: Vf[] }; badVf: Json; multicastMac: Json } => run.json('vfs');

  it('MAC, VLAN/QoS (802.1Q and 802.1ad), trust, spoofchk and link state read back', () => {
    const { link } = vfs();
    expect(link.numVf).toBe(4);
    expect(link.vfListTruncation).toBeUndefined();
    expect(link.vfs[0]).toMatchObject({ vf: 0, mac: '02:00:00:00:00:10', vlan: 10, qos: 3, vlanProto: 0x8100, trust: true, spoofchk: false, linkState: 'enable' });
    expect(link.vfs[1]).toMatchObject({ vf: 1, mac: '02:00:00:00:00:11', vlan: 20, qos: 0, vlanProto: 0x88a8, linkState: 'disable' });
    expect(link.vfs[2]).toMatchObject({ vf: 2, spoofchk: true, trust: false, linkState: 'auto' });
    expect(link.vfs[3]).toMatchObject({ vf: 3, mac: '02:00:00:00:00:13' });
    expect(link.vfs[0]?.stats).toBeUndefined(); // RTEXT_FILTER_SKIP_STATS by default
    expect(vfs().withStats.vfs[0]?.stats).toBeDefined();
  });

  it('agrees with iproute2’s reading of the same VF info', () => {
    const theirs = (ipLink(pf)?.vfinfo_list ?? []) as Json[];
    const ours = vfs().link.vfs;
    expect(theirs).toHaveLength(4);
    theirs.forEach((t, i) => {
      const o = ours[i] as Vf;
      expect(o.vf).toBe(t.vf);
      expect(o.mac).toBe(t.address);
      if (t.spoofchk !== undefined) expect(o.spoofchk).toBe(t.spoofchk);
      if (t.trust !== undefined) expect(o.trust).toBe(t.trust);
      if (t.link_state !== undefined) expect(o.linkState).toBe(String(t.link_state).toLowerCase());
    });
  });

  it('a VF index past the last VF and a multicast MAC are refused', () => {
    expect(vfs().badVf).toMatchObject({ ok: false, code: 'EINVAL' });
    expect(vfs().multicastMac).toMatchObject({ ok: false, code: 'EINVAL' });
  });
});

describe('a VF list longer than 64 KiB (250 VFs)', () => {
  type Many = { numVf: number; vfs: { vf: number }[]; vfListTruncation?: { device: string; expected: number; decoded: number; recovered: boolean; message: string } };
  const many = (): { skipStats: Many; withStats: Many; listed: Many } => run.json('many');

  it('without stats it fits (250 x 196 B): no warning', () => {
    expect(many().skipStats.vfs).toHaveLength(250);
    expect(many().skipStats.vfListTruncation).toBeUndefined();
  });

  it('with stats the kernel wraps the nest length: detected, named, and every VF recovered (GET and dump)', () => {
    for (const l of [many().withStats, many().listed]) {
      expect(l.numVf).toBe(250);
      expect(l.vfs.map((v) => v.vf)).toEqual(Array.from({ length: 250 }, (_, i) => i));
      expect(l.vfListTruncation).toMatchObject({ device: pf, expected: 250, decoded: 250, recovered: true });
    }
  });

  it('iproute2 6.1 sees the same truncation and says so', () => {
    expect(run.json<Captured>('ip_many').out).toContain(`Truncated VF list: ${pf}`);
  });
});

describe('esp-hw-offload through ethtool netlink', () => {
  type F = { active: boolean; fixed: boolean; requested: boolean };
  const features = (): { pf: Record<string, F>; esp: F; rxVlan: F; xfrmEsp: F } => run.json('features');

  it('netdevsim: on [fixed], as `ethtool -k` prints it', () => {
    expect(features().esp).toMatchObject({ active: true, fixed: true });
    const printed = (JSON.parse(run.json<Captured>('ethtool_pf').out) as Record<string, F>[])[0] as Record<string, F>;
    expect(features().esp).toEqual(printed['esp-hw-offload']);
  });

  it('every netdevsim feature agrees with ethtool --json -k', () => {
    const printed = (JSON.parse(run.json<Captured>('ethtool_pf').out) as Record<string, F | string>[])[0] as Record<string, F | string>;
    let n = 0;
    for (const [name, v] of Object.entries(printed)) {
      if (typeof v === 'string' || v.fixed === null || !(name in features().pf)) continue;
      expect(features().pf[name], name).toEqual(v);
      n++;
    }
    expect(n).toBeGreaterThan(40);
  });

  it('an xfrm interface has no ESP offload of its own', () => {
    expect(features().xfrmEsp).toMatchObject({ active: false, fixed: true });
  });
});
