// The VICI client against real charons on the lab kernel (Debian 6.1, kernel
// XFRM datapath), one VM boot for four parts (guest side: vici.sh and
// guest-vici.ts): child-updown with real CHILD_SAs checked against
// `ip xfrm state` on both sides (and ESN), child-rekey with the old CHILD_SA's
// way out, list-sas of many CHILD_SAs against swanctl and the kernel, and an
// event storm while commands run.
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type LabRun } from '../harness/scenario.js';
import { childName, childPort, confFiles, swanctlPair } from './swanctl-gen.js';
import type { KernelSa } from './xfrm-text.js';

const CONNS = 3;
const CHILDREN = 20; // 60 CHILD_SAs in 3 IKE_SAs
const TOTAL = CONNS * CHILDREN;
const ROUNDS = 3;

interface Child {
  key: string;
  name: string;
  uniqueid: number;
  reqid: number;
  state: string;
  mode: string;
  protocol?: string;
  esn: boolean;
  spiIn: number;
  spiOut: number;
  spiInHex: string;
  spiOutHex: string;
  encrAlg?: string;
  encrKeysize?: number;
  installTime?: number;
  rekeyTime?: number;
  lifeTime?: number;
  localTs: string[];
  remoteTs: string[];
}

let run: LabRun;
beforeAll(async () => {
  const { a, b } = swanctlPair({ conns: CONNS, children: CHILDREN });
  const prelude = `${confFiles('"$LAB_TMP/many"', { 'a.conf': a, 'b.conf': b })}MANY_CONNS=${CONNS}\nMANY_CHILDREN=${CHILDREN}\nSTORM_ROUNDS=${ROUNDS}\n`;
  run = (await runInLab('vici', prelude + scenarioScript(import.meta.url, 'vici.sh'), { timeoutMs: 1_800_000 })).expectSuccess();
}, 2_000_000);

/** A phase's results; a failed phase throws with its own output. */
function phase<T>(name: string): T {
  const rc = run.json<{ rc: number }>(`${name}-rc`).rc;
  if (rc !== 0) throw new Error(`guest phase ${name} exited ${rc}:\n${run.text(`${name}.log`).split('\n').slice(-40).join('\n')}`);
  return run.json<T>(name);
}

const sa = (list: KernelSa[], dst: string, spi: number): KernelSa | undefined => list.find((s) => s.dst === dst && s.spi === spi);

describe('child-updown with real CHILD_SAs (swanctl/host-a|host-b)', () => {
  interface Part {
    initiate: { success: string; lastLog: string };
    upA: Child;
    upB: Child;
    ikeA: { name: string; state: string; localHost: string; remoteHost: string };
    kernelA: KernelSa[];
    kernelB: KernelSa[];
    listed: Child;
    terminate: { matches: number; terminated: number };
    downA: Child;
    downB: Child;
    ikeDownA: { up: boolean; name: string } | null;
    downOrderA: string[];
    goneMs: number | null;
    kernelAfterA: KernelSa[];
    kernelAfterB: KernelSa[];
  }
  const part = (name: 'gcm' | 'gcm-esn'): Part => phase<Record<string, Part>>('updown')[name] as Part;

  for (const name of ['gcm', 'gcm-esn'] as const) {
    it(`${name}: up on both sides; the SPIs are the ones in ip xfrm state, mirrored on the peer`, () => {
      const p = part(name);
      expect(p.initiate.success).toBe('yes');
      expect(p.initiate.lastLog).toMatch(new RegExp(`^CHILD_SA ${name}\\{\\d+\\} established with SPIs`));
      expect(p.ikeA).toEqual({ name: 'lab', state: 'ESTABLISHED', localHost: '10.0.0.1', remoteHost: '10.0.0.2' });
      expect(p.upA).toMatchObject({ name, key: `${name}-${p.upA.uniqueid}`, state: 'INSTALLED', mode: 'TRANSPORT', protocol: 'ESP', encrAlg: 'AES_GCM_16', encrKeysize: 128 });
      expect(p.upA.spiIn).toBe(parseInt(p.upA.spiInHex, 16));
      expect(p.upA.spiOut).toBe(parseInt(p.upA.spiOutHex, 16));
      expect(p.upA.localTs).toEqual(['10.0.0.1/32']);
      expect(p.upA.remoteTs).toEqual(['10.0.0.2/32']);
      // A's inbound SA (to 10.0.0.1) and outbound SA (to 10.0.0.2), nothing else
      expect(p.kernelA).toHaveLength(2);
      const inA = sa(p.kernelA, '10.0.0.1', p.upA.spiIn);
      const outA = sa(p.kernelA, '10.0.0.2', p.upA.spiOut);
      for (const k of [inA, outA]) expect(k).toMatchObject({ proto: 'esp', mode: 'transport', reqid: p.upA.reqid, aead: { name: 'rfc4106(gcm(aes))', icvBits: 128 } });
      // the responder: the same two SAs, its in is A's out. It picks its child
      // config by traffic selectors alone, and gcm / gcm-esn have the same:
      // B calls both 'gcm' (its first), and negotiates ESN for gcm-esn anyway.
      expect(p.upB).toMatchObject({ name: 'gcm', state: 'INSTALLED', spiIn: p.upA.spiOut, spiOut: p.upA.spiIn, localTs: ['10.0.0.2/32'], remoteTs: ['10.0.0.1/32'] });
      expect(p.kernelB).toHaveLength(2);
      expect(sa(p.kernelB, '10.0.0.2', p.upB.spiIn)).toMatchObject({ reqid: p.upB.reqid, mode: 'transport' });
      expect(sa(p.kernelB, '10.0.0.1', p.upB.spiOut)).toMatchObject({ reqid: p.upB.reqid, mode: 'transport' });
      // list-sas shows the same CHILD_SA
      expect(p.listed).toMatchObject({ uniqueid: p.upA.uniqueid, spiIn: p.upA.spiIn, spiOut: p.upA.spiOut, reqid: p.upA.reqid, state: 'INSTALLED' });
    });
  }

  it('esn=1 only on the ESN child, on both sides, as the kernel has it', () => {
    const plain = part('gcm');
    const esn = part('gcm-esn');
    expect(plain.upA.esn).toBe(false);
    expect(plain.upB.esn).toBe(false);
    for (const k of [...plain.kernelA, ...plain.kernelB]) expect(k.flags).not.toContain('esn');
    expect(esn.upA.esn).toBe(true);
    expect(esn.upB.esn).toBe(true);
    for (const k of [...esn.kernelA, ...esn.kernelB]) {
      expect(k.flags).toContain('esn');
      expect(k.esnContext).toBe(true);
    }
  });

  it('down on terminate (CHILD_SA, then IKE_SA) with the same SPIs; the kernel SAs go with it', () => {
    for (const name of ['gcm', 'gcm-esn'] as const) {
      const p = part(name);
      expect(p.downA).toMatchObject({ uniqueid: p.upA.uniqueid, spiIn: p.upA.spiIn, spiOut: p.upA.spiOut });
      expect(p.downB).toMatchObject({ uniqueid: p.upB.uniqueid, spiIn: p.upB.spiIn, spiOut: p.upB.spiOut });
      expect(p.goneMs).not.toBeNull();
      expect(p.kernelAfterA).toEqual([]);
      expect(p.kernelAfterB).toEqual([]);
    }
    expect(part('gcm').terminate).toEqual({ matches: 1, terminated: 1 });
    expect(part('gcm').downOrderA).toEqual(['child-updown:down']);
    // an IKE_SA going down: ike-updown first, then the child-updown of its CHILD_SA
    expect(part('gcm-esn').ikeDownA).toEqual({ up: false, name: 'lab' });
    expect(part('gcm-esn').downOrderA).toEqual(['ike-updown:down', 'child-updown:down']);
  });
});

describe('child-rekey (rekey_time 8 s, test/lab/vici/swanctl/rekey-*.conf)', () => {
  interface Rekey {
    up: Child;
    upB: Child;
    upToRekeyMs: number;
    event: { ike: { name: string; state: string; childSas: number }; rekeys: { name: string; old: Child; new: Child }[]; topKeys: string[] };
    peer: { ike: string; rekeys: { name: string; old: Child; new: Child }[] };
    kernelA: KernelSa[];
    kernelB: KernelSa[];
    listedAtRekey: Child[];
    timeline: { ms: number; listed: string | null; aIn: boolean; aOut: boolean; bIn: boolean; bOut: boolean }[];
    goneMs: number | null;
    second: { old: Child; new: Child } | null;
    kernelAfter2: KernelSa[];
    downsForOld: number;
    downsB: number;
  }
  const r = (): Rekey => phase<Rekey>('rekey');

  it('arrives after rekey_time with the old and the new CHILD_SA, keyed by the child name', () => {
    const { up, event, upToRekeyMs } = r();
    expect(upToRekeyMs).toBeLessThan(90_000);
    expect(event.topKeys).toEqual(['rk']);
    expect(event.ike).toMatchObject({ name: 'rk', state: 'ESTABLISHED', childSas: 0 });
    expect(event.rekeys).toHaveLength(1);
    const [pair] = event.rekeys;
    expect(pair?.name).toBe('rk');
    expect(pair?.old).toMatchObject({ key: 'rk', name: 'rk', uniqueid: up.uniqueid, reqid: up.reqid, spiIn: up.spiIn, spiOut: up.spiOut, state: 'REKEYED', mode: 'TRANSPORT' });
    expect(pair?.new).toMatchObject({ key: 'rk', name: 'rk', reqid: up.reqid, state: 'INSTALLED', mode: 'TRANSPORT', protocol: 'ESP', encrAlg: 'AES_GCM_16', esn: false });
    expect(pair?.new.uniqueid).not.toBe(up.uniqueid);
    expect(pair?.new.spiIn).not.toBe(up.spiIn);
    expect(pair?.new.spiOut).not.toBe(up.spiOut);
    // charon's own clock (seconds): the old one ran its rekey_time (8 s, no
    // randomisation) and is due; the new one starts over (life_time 120 s)
    expect(pair?.old.installTime).toBeGreaterThanOrEqual(8);
    expect(pair?.old.rekeyTime).toBeLessThanOrEqual(0);
    expect(pair?.new.rekeyTime).toBeGreaterThanOrEqual(6);
    expect(pair?.new.rekeyTime).toBeLessThanOrEqual(8);
    expect(pair?.new.lifeTime).toBeGreaterThan(110);
    expect(pair?.new.lifeTime).toBeLessThanOrEqual(120);
  });

  it('the new SPIs are in both kernels at the event, mirrored in the responder\'s child-rekey', () => {
    const { event, kernelA, kernelB, peer, up } = r();
    const n = event.rekeys[0]?.new as Child;
    expect(sa(kernelA, '10.0.0.1', n.spiIn)).toMatchObject({ reqid: n.reqid, mode: 'transport' });
    expect(sa(kernelA, '10.0.0.2', n.spiOut)).toMatchObject({ reqid: n.reqid, mode: 'transport' });
    expect(sa(kernelB, '10.0.0.2', n.spiOut)).toBeDefined();
    expect(sa(kernelB, '10.0.0.1', n.spiIn)).toBeDefined();
    expect(peer.ike).toBe('rk');
    expect(peer.rekeys[0]?.old).toMatchObject({ spiIn: up.spiOut, spiOut: up.spiIn });
    expect(peer.rekeys[0]?.new).toMatchObject({ spiIn: n.spiOut, spiOut: n.spiIn, state: 'INSTALLED' });
  });

  it('the old CHILD_SA lingers (not INSTALLED), then leaves list-sas and both kernels without a child-updown down', () => {
    const { up, listedAtRekey, timeline, goneMs, downsForOld, downsB } = r();
    const lingering = listedAtRekey.find((c) => c.uniqueid === up.uniqueid);
    if (lingering) expect(lingering.state).not.toBe('INSTALLED');
    expect(listedAtRekey.filter((c) => c.state === 'INSTALLED')).toHaveLength(1);
    expect(goneMs).not.toBeNull();
    expect(timeline.at(-1)).toMatchObject({ listed: null, aIn: false, aOut: false, bIn: false, bOut: false });
    expect(downsForOld).toBe(0);
    expect(downsB).toBe(0);
  });

  it('the next rekey starts from the previous new CHILD_SA (a chain), and the kernel follows', () => {
    const { event, second, kernelAfter2 } = r();
    const n = event.rekeys[0]?.new as Child;
    expect(second?.old).toMatchObject({ uniqueid: n.uniqueid, spiIn: n.spiIn, spiOut: n.spiOut });
    expect(second?.new.uniqueid).not.toBe(n.uniqueid);
    expect(sa(kernelAfter2, '10.0.0.1', second?.new.spiIn as number)).toBeDefined();
    expect(sa(kernelAfter2, '10.0.0.2', second?.new.spiOut as number)).toBeDefined();
  });
});

describe(`list-sas streaming ${TOTAL} CHILD_SAs in ${CONNS} IKE_SAs`, () => {
  interface Many {
    total: number;
    ikesas: { total: number; halfOpen: number };
    ours: { name: string; uniqueid: number; state: string; children: { key: string; name: string; uniqueid: number; state: string; spiIn: number; spiOut: number; localTs: string[]; mode: string }[] }[];
    streamedEvents: number;
    swanctl: { key: string; name: string; uniqueid: number; state: string; spiIn: number; spiOut: number }[];
    swanctlIkeSas: string[];
    kernelA: { src: string; dst: string; spi: number; mode: string; sel: string }[];
    kernelB: { src: string; dst: string; spi: number; mode: string; sel: string }[];
    policiesA: number;
    ikeOnly: { name: string; children: number }[];
    v2: { name: string; children: string[] }[];
  }
  const m = (): Many => phase<Many>('many');
  const ourChildren = () => m().ours.flatMap((ike) => ike.children);

  it('one list-sa event per IKE_SA, every CHILD_SA installed on its own port selector', () => {
    const { ours, streamedEvents, ikesas } = m();
    expect(ikesas.total).toBe(CONNS);
    expect(streamedEvents).toBe(CONNS);
    expect(ours.map((i) => i.name).sort()).toEqual(['v1', 'v2', 'v3']);
    for (const ike of ours) {
      expect(ike.state).toBe('ESTABLISHED');
      expect(ike.children).toHaveLength(CHILDREN);
      const i = Number(ike.name.slice(1));
      for (const c of ike.children) {
        const j = Number(c.name.slice(`v${i}c`.length));
        expect(c.name).toBe(childName(i, j));
        expect(c).toMatchObject({ key: `${c.name}-${c.uniqueid}`, state: 'INSTALLED', mode: 'TRANSPORT' });
        expect(c.localTs).toEqual([`10.0.0.1/32[udp/${childPort({ children: CHILDREN }, i, j)}]`]);
      }
    }
    expect(new Set(ourChildren().map((c) => c.name)).size).toBe(TOTAL);
  });

  it('the same CHILD_SAs, SPIs and IKE_SAs as swanctl --list-sas --raw', () => {
    const { swanctl, swanctlIkeSas } = m();
    const key = (c: { key: string; uniqueid: number; state: string; spiIn: number; spiOut: number }) => `${c.key} ${c.uniqueid} ${c.state} ${c.spiIn} ${c.spiOut}`;
    expect(swanctl).toHaveLength(TOTAL);
    expect(ourChildren().map(key).sort()).toEqual(swanctl.map(key).sort());
    expect([...swanctlIkeSas].sort()).toEqual(['v1', 'v2', 'v3']);
  });

  it('the same SAs as ip xfrm state in both namespaces (two per CHILD_SA)', () => {
    const { kernelA, kernelB, policiesA } = m();
    const spis = ourChildren().flatMap((c) => [c.spiIn, c.spiOut]).sort((x, y) => x - y);
    expect(kernelA).toHaveLength(2 * TOTAL);
    expect(kernelA.map((s) => s.spi).sort((x, y) => x - y)).toEqual(spis);
    expect(kernelB.map((s) => s.spi).sort((x, y) => x - y)).toEqual(spis);
    for (const c of ourChildren()) {
      // charon gives the SAs host selectors; the ports are in the policies
      expect(kernelA.find((s) => s.spi === c.spiOut)).toMatchObject({ dst: '10.0.0.2', mode: 'transport', sel: 'src 10.0.0.1/32 dst 10.0.0.2/32' });
      expect(kernelA.find((s) => s.spi === c.spiIn)).toMatchObject({ dst: '10.0.0.1', mode: 'transport', sel: 'src 10.0.0.2/32 dst 10.0.0.1/32' });
    }
    // an in and an out policy per CHILD_SA (plus charon's per-socket bypass policies)
    expect(policiesA).toBeGreaterThanOrEqual(2 * TOTAL);
  });

  it('filters: IKE_SAs without children (listIkeSas), one connection (ike = v2)', () => {
    const { ikeOnly, v2 } = m();
    expect(ikeOnly.map((i) => i.name).sort()).toEqual(['v1', 'v2', 'v3']);
    expect(ikeOnly.every((i) => i.children === 0)).toBe(true);
    expect(v2).toHaveLength(1);
    expect(v2[0]?.name).toBe('v2');
    expect([...(v2[0]?.children ?? [])].sort()).toEqual(Array.from({ length: CHILDREN }, (_, j) => childName(2, j + 1)).sort());
  });
});

describe(`an event storm (${ROUNDS} x ${TOTAL} rekeys + log events) while commands run`, () => {
  interface Storm {
    rekeyMatches: number[];
    stormError: string | null;
    batches: number;
    commands: number;
    mismatches: string[];
    errors: string[];
    events: { total: number; childRekey: number; log: number; rekeyPairs: number };
    rekeysWithoutLog: number;
    chain: { moved: number; matchesInstalled: number; installed: number; chainMs: number | null };
    kernel: { count: number; kernelMs: number | null; missing: number; extra: number };
  }
  const s = (): Storm => {
    phase('many'); // the storm runs in the same guest phase, after the listing
    return run.json<Storm>('storm');
  };

  it('every reply is its own (version, stats, list-sas, get-conns, list-conns, filtered list-sas at once, repeatedly)', () => {
    const { batches, mismatches, errors, stormError, rekeyMatches } = s();
    expect(stormError).toBeNull();
    expect(rekeyMatches).toEqual(Array.from({ length: ROUNDS }, () => TOTAL));
    expect(errors).toEqual([]);
    expect(mismatches).toEqual([]);
    expect(batches).toBeGreaterThan(2);
  });

  it('no event lost: one child-rekey per rekey, a log line for each, the rekey chains end at what charon and the kernel hold', () => {
    const { events, rekeysWithoutLog, chain, kernel } = s();
    expect(events.childRekey).toBe(ROUNDS * TOTAL);
    expect(events.rekeyPairs).toBe(ROUNDS * TOTAL);
    expect(events.log).toBeGreaterThan(2 * ROUNDS * TOTAL);
    expect(rekeysWithoutLog).toBe(0);
    expect(chain).toMatchObject({ moved: TOTAL, matchesInstalled: TOTAL, installed: TOTAL });
    expect(chain.chainMs).not.toBeNull();
    expect(kernel).toMatchObject({ count: 2 * TOTAL, missing: 0, extra: 0 });
  });
});
