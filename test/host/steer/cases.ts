// The BPF_PROG_TEST_RUN tables of the steering programs, shared by the host
// suite (this machine's kernel, test/host/steer/testrun.test.ts) and the lab
// (the Debian 6.1 kernel, test/lab/steer/guest.ts): for each frame, the
// verdict, the frame as the program leaves it, and exactly which counters
// move. The maps are real pinned maps populated by Steering.reconcile().
import type { BpfProgram } from '../../../src/steer/bpf.js';
import type { SteerDesired } from '../../../src/steer/desired.js';
import { STEER_STATS, type SteerStatName } from '../../../src/steer/layout.js';
import type { SteerReader } from '../../../src/steer/steering.js';
import type { SteerListView } from '../../../src/steer/views.js';
import * as F from './frames.js';

export const XDP_DROP = 1;
export const XDP_PASS = 2;
export const XDP_REDIRECT = 4;

export const M1 = '02:00:00:00:01:01'; // port p1: access VLAN 100, anti-spoof M1
export const M2 = '02:00:00:00:02:02'; // port p2: trunk, unchecked
export const M3 = '02:00:00:00:03:03'; // on p2, VLAN 200
export const PEER = '02:00:00:00:00:0a'; // the far end, on the wire
const V4 = '10.1.0.1';
const V6 = '2001:db8::1';

/** Devices: uplink up0 and ports p1, p2 (veth, one netns). */
export const TABLE_DESIRED: SteerDesired = {
  ports: [
    { device: 'p1', mac: M1, vlan: 100 },
    { device: 'p2', vlan: 0 },
  ],
  fdb: [
    { mac: M1, vlan: 100, port: 'p1' },
    { mac: M2, vlan: 0, port: 'p2' },
    { mac: M3, vlan: 200, port: 'p2' },
  ],
  esp: [
    { vlan: 100, daddr: V4, spi: 0x100 },
    { vlan: 100, daddr: V6, spi: 0x200 },
    { vlan: 0, daddr: '10.2.0.1', spi: 0x300 },
  ],
};

interface Snapshot {
  verdicts: Record<string, number>;
  list: SteerListView;
}

function snapshot(s: SteerReader): Snapshot {
  const st = s.status();
  return { verdicts: Object.fromEntries(STEER_STATS.map((n) => [n, st.verdicts[n].packets])), list: s.list() };
}

/** Counters that moved between two snapshots, by name. */
function moved(a: Snapshot, b: Snapshot): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of STEER_STATS) if (b.verdicts[n] !== a.verdicts[n]) out[`stat:${n}`] = (b.verdicts[n] ?? 0) - (a.verdicts[n] ?? 0);
  for (const f of b.list.fdb) {
    const before = a.list.fdb.find((x) => x.mac === f.mac && x.vlan === f.vlan)?.packets ?? 0;
    if (f.packets !== before) out[`fdb:${f.mac}/${f.vlan}`] = f.packets - before;
  }
  for (const e of b.list.esp) {
    const before = a.list.esp.find((x) => x.daddr === e.daddr && x.spi === e.spi && x.vlan === e.vlan)?.packets ?? 0;
    if (e.packets !== before) out[`esp:${e.vlan}/${e.daddr}/${e.spiHex}`] = e.packets - before;
  }
  for (const p of b.list.ports) {
    const q = a.list.ports.find((x) => x.ifindex === p.ifindex)?.counters;
    for (const k of ['rxPackets', 'txPackets', 'spoofed', 'tagged'] as const) {
      if (p.counters[k] !== (q?.[k] ?? 0)) out[`${p.device}:${k}`] = p.counters[k] - (q?.[k] ?? 0);
    }
  }
  return out;
}

export interface Case {
  group: 'ingress' | 'truncated' | 'port-rx' | 'egress';
  name: string;
  frame: Buffer;
  verdict: number;
  /** expected output; default: the input unchanged */
  out?: Buffer;
  /** every counter that must move (and nothing else may) */
  counters: Record<string, number>;
  /** port_rx/egress: the device the frame came in on */
  from?: 'p1' | 'p2' | 'lo';
}

export interface CaseEnv {
  steering: SteerReader;
  ingress: BpfProgram;
  portRx: BpfProgram;
  /** steer_egress loaded as plain XDP (BPF_PROG_TEST_RUN refuses devmap programs) */
  egress: BpfProgram;
  netnsPath: string;
  ifindexOf(dev: string): number;
}

export interface CaseResult {
  verdict: number;
  out: string;
  counters: Record<string, number>;
}

export function runCase(env: CaseEnv, c: Case): CaseResult {
  const before = snapshot(env.steering);
  const prog = c.group === 'port-rx' ? env.portRx : c.group === 'egress' ? env.egress : env.ingress;
  const opts = c.from ? { ingressIfindex: c.from === 'lo' ? 1 : env.ifindexOf(c.from), netnsPath: env.netnsPath } : {};
  const r = prog.testRun(c.frame, opts);
  return { verdict: r.retval, out: r.data.toString('hex'), counters: moved(before, snapshot(env.steering)) };
}

/** What runCase must return for c. */
export function expected(c: Case): CaseResult {
  return { verdict: c.verdict, out: (c.out ?? c.frame).toString('hex'), counters: c.counters };
}

const stat = (n: SteerStatName, k = 1): Record<string, number> => ({ [`stat:${n}`]: k });
const l2 = (dst: string, ...tags: (number | readonly [number, number])[]): F.L2 => ({ dst, src: PEER, tags });
const v4 = (dst: string, proto: number, payload: Buffer, extra: Partial<F.Ipv4> = {}): Buffer => F.ipv4({ src: '192.0.2.9', dst, proto, ...extra }, payload);
const v6 = (dst: string, nexthdr: number, payload: Buffer): Buffer => F.ipv6({ src: '2001:db8::9', dst, nexthdr }, payload);
const redirected = (fdb: string, port: string): Record<string, number> => ({ ...stat('redirect'), [`fdb:${fdb}`]: 1, [`${port}:rxPackets`]: 1 });

export function tableCases(): Case[] {
  const tcp100 = F.ethernet(l2(M1, 100), F.ETH_P_IP, v4('10.1.0.7', F.IPPROTO_TCP, F.tcp(1, 80)));
  const ingress: Omit<Case, 'group'>[] = [
    { name: 'tagged, known MAC, access port: tag popped, redirected', frame: tcp100, verdict: XDP_REDIRECT, out: F.untag(tcp100), counters: redirected(`${M1}/100`, 'p1') },
    {
      name: 'tagged, known MAC, trunk port: tag kept, redirected',
      frame: F.ethernet(l2(M3, 200), F.ETH_P_IP, v4('10.3.0.7', F.IPPROTO_TCP, F.tcp(1, 80))),
      verdict: XDP_REDIRECT,
      counters: redirected(`${M3}/200`, 'p2'),
    },
    {
      name: 'untagged, known MAC: redirected unchanged',
      frame: F.ethernet(l2(M2), F.ETH_P_IPV6, v6('2001:db8::2', F.IPPROTO_TCP, F.tcp(1, 80))),
      verdict: XDP_REDIRECT,
      counters: redirected(`${M2}/0`, 'p2'),
    },
    { name: 'ARP to a known MAC: redirected, tag popped', frame: F.ethernet(l2(M1, 100), F.ETH_P_ARP, F.arpRequest(PEER, '10.1.0.9', '10.1.0.7')), verdict: XDP_REDIRECT, out: F.untag(F.ethernet(l2(M1, 100), F.ETH_P_ARP, F.arpRequest(PEER, '10.1.0.9', '10.1.0.7'))), counters: redirected(`${M1}/100`, 'p1') },
    { name: 'unknown MAC, tagged: pass', frame: F.ethernet(l2('02:00:00:00:09:09', 100), F.ETH_P_IP, v4(V4, F.IPPROTO_TCP, F.tcp(1, 2))), verdict: XDP_PASS, counters: stat('passFdbMiss') },
    { name: 'unknown MAC, untagged: pass', frame: F.ethernet(l2('02:00:00:00:09:09'), F.ETH_P_IP, v4(V4, F.IPPROTO_TCP, F.tcp(1, 2))), verdict: XDP_PASS, counters: stat('passFdbMiss') },
    { name: 'known MAC on another VLAN (VLAN miss): pass', frame: F.ethernet(l2(M1, 101), F.ETH_P_IP, v4(V4, F.IPPROTO_TCP, F.tcp(1, 2))), verdict: XDP_PASS, counters: stat('passFdbMiss') },
    { name: 'known MAC untagged, entry is tagged: pass', frame: F.ethernet(l2(M1), F.ETH_P_IP, v4(V4, F.IPPROTO_TCP, F.tcp(1, 2))), verdict: XDP_PASS, counters: stat('passFdbMiss') },
    { name: 'broadcast: pass', frame: F.ethernet(l2('ff:ff:ff:ff:ff:ff', 100), F.ETH_P_ARP, F.arpRequest(PEER, '10.1.0.9', '10.1.0.7')), verdict: XDP_PASS, counters: stat('passFdbMiss') },
    { name: 'priority tag (VID 0): pass', frame: F.ethernet(l2(M2, 0), F.ETH_P_IP, v4(V4, F.IPPROTO_TCP, F.tcp(1, 2))), verdict: XDP_PASS, counters: stat('passVlan') },
    { name: 'VID 4095: pass', frame: F.ethernet(l2(M1, 4095), F.ETH_P_IP, v4(V4, F.IPPROTO_TCP, F.tcp(1, 2))), verdict: XDP_PASS, counters: stat('passVlan') },
    { name: '802.1ad outer tag: pass', frame: F.ethernet(l2(M1, [F.ETH_P_8021AD, 100]), F.ETH_P_IP, v4(V4, F.IPPROTO_TCP, F.tcp(1, 2))), verdict: XDP_PASS, counters: stat('passVlan') },
    { name: 'two 802.1Q tags: pass', frame: F.ethernet(l2(M1, 100, 5), F.ETH_P_IP, v4(V4, F.IPPROTO_TCP, F.tcp(1, 2))), verdict: XDP_PASS, counters: stat('passVlan') },
    { name: 'known MAC, LLDP ethertype: pass', frame: F.ethernet(l2(M1, 100), 0x88cc, Buffer.alloc(40, 1)), verdict: XDP_PASS, counters: stat('passEthertype') },
    // ESP exceptions
    { name: 'ESP v4, SA terminated here: pass', frame: F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_ESP, F.esp(0x100, 1))), verdict: XDP_PASS, counters: { ...stat('passEspLocal'), [`esp:100/${V4}/0x00000100`]: 1 } },
    { name: 'ESP v4, other SPI: steered, tag popped', frame: F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_ESP, F.esp(0x101, 1))), verdict: XDP_REDIRECT, out: F.untag(F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_ESP, F.esp(0x101, 1)))), counters: redirected(`${M1}/100`, 'p1') },
    { name: 'ESP v4, other address: steered', frame: F.ethernet(l2(M1, 100), F.ETH_P_IP, v4('10.1.0.2', F.IPPROTO_ESP, F.esp(0x100, 1))), verdict: XDP_REDIRECT, out: F.untag(F.ethernet(l2(M1, 100), F.ETH_P_IP, v4('10.1.0.2', F.IPPROTO_ESP, F.esp(0x100, 1)))), counters: redirected(`${M1}/100`, 'p1') },
    { name: 'ESP v4 with IP options, SA here: pass', frame: F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_ESP, F.esp(0x100, 2), { options: 8 })), verdict: XDP_PASS, counters: { ...stat('passEspLocal'), [`esp:100/${V4}/0x00000100`]: 1 } },
    { name: 'ESP v6, SA here: pass', frame: F.ethernet(l2(M1, 100), F.ETH_P_IPV6, v6(V6, F.IPPROTO_ESP, F.esp(0x200, 1))), verdict: XDP_PASS, counters: { ...stat('passEspLocal'), [`esp:100/${V6}/0x00000200`]: 1 } },
    { name: 'ESP v6, other SPI: steered', frame: F.ethernet(l2(M1, 100), F.ETH_P_IPV6, v6(V6, F.IPPROTO_ESP, F.esp(0x201, 1))), verdict: XDP_REDIRECT, out: F.untag(F.ethernet(l2(M1, 100), F.ETH_P_IPV6, v6(V6, F.IPPROTO_ESP, F.esp(0x201, 1)))), counters: redirected(`${M1}/100`, 'p1') },
    { name: 'ESP-in-UDP v4 (4500), SA here: pass', frame: F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_UDP, F.udp(4500, 4500, F.esp(0x100, 7)))), verdict: XDP_PASS, counters: { ...stat('passEspLocal'), [`esp:100/${V4}/0x00000100`]: 1 } },
    { name: 'ESP-in-UDP v6 (4500), SA here: pass', frame: F.ethernet(l2(M1, 100), F.ETH_P_IPV6, v6(V6, F.IPPROTO_UDP, F.udp(4500, 4500, F.esp(0x200, 7)))), verdict: XDP_PASS, counters: { ...stat('passEspLocal'), [`esp:100/${V6}/0x00000200`]: 1 } },
    { name: 'ESP-in-UDP v4, other SPI: steered', frame: F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_UDP, F.udp(4500, 4500, F.esp(0x999, 7)))), verdict: XDP_REDIRECT, out: F.untag(F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_UDP, F.udp(4500, 4500, F.esp(0x999, 7))))), counters: redirected(`${M1}/100`, 'p1') },
    { name: 'IKE on 4500 (non-ESP marker) to an SA address: steered (IKE follows the fdb)', frame: F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_UDP, F.udp(4500, 4500, F.ikeOverNatT()))), verdict: XDP_REDIRECT, out: F.untag(F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_UDP, F.udp(4500, 4500, F.ikeOverNatT())))), counters: redirected(`${M1}/100`, 'p1') },
    { name: 'NAT-T keepalive (one byte 0xff): steered', frame: F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_UDP, F.udp(4500, 4500, F.NAT_KEEPALIVE))), verdict: XDP_REDIRECT, out: F.untag(F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_UDP, F.udp(4500, 4500, F.NAT_KEEPALIVE)))), counters: redirected(`${M1}/100`, 'p1') },
    { name: 'UDP to another port carrying an SA SPI: steered', frame: F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_UDP, F.udp(4500, 4501, F.esp(0x100, 7)))), verdict: XDP_REDIRECT, out: F.untag(F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_UDP, F.udp(4500, 4501, F.esp(0x100, 7))))), counters: redirected(`${M1}/100`, 'p1') },
    { name: 'ESP v4 untagged, exception for VLAN 0: pass', frame: F.ethernet(l2(M2), F.ETH_P_IP, v4('10.2.0.1', F.IPPROTO_ESP, F.esp(0x300, 1))), verdict: XDP_PASS, counters: { ...stat('passEspLocal'), ['esp:0/10.2.0.1/0x00000300']: 1 } },
    { name: 'ESP v4 same SA on another VLAN: steered', frame: F.ethernet(l2(M3, 200), F.ETH_P_IP, v4('10.2.0.1', F.IPPROTO_ESP, F.esp(0x300, 1))), verdict: XDP_REDIRECT, counters: redirected(`${M3}/200`, 'p2') },
    { name: 'IPv4 fragment of ESP: pass (SPI may be absent)', frame: F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_ESP, Buffer.alloc(40, 7), { frag: 0x0010 })), verdict: XDP_PASS, counters: stat('passFragment') },
    { name: 'IPv4 first fragment of UDP (MF): pass', frame: F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_UDP, F.udp(4500, 4500, F.esp(0x100, 1)), { frag: 0x2000 })), verdict: XDP_PASS, counters: stat('passFragment') },
    { name: 'IPv4 fragment of TCP: steered', frame: F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_TCP, Buffer.alloc(40, 7), { frag: 0x2000 })), verdict: XDP_REDIRECT, out: F.untag(F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_TCP, Buffer.alloc(40, 7), { frag: 0x2000 }))), counters: redirected(`${M1}/100`, 'p1') },
    { name: 'IPv6 fragment header: pass', frame: F.ethernet(l2(M1, 100), F.ETH_P_IPV6, v6(V6, 44, F.ipv6Fragment(F.IPPROTO_ESP, F.esp(0x200, 1)))), verdict: XDP_PASS, counters: stat('passFragment') },
    { name: 'IPv4 header length below 20: pass', frame: F.ethernet(l2(M1, 100), F.ETH_P_IP, Buffer.from(v4(V4, F.IPPROTO_TCP, F.tcp(1, 2)).fill(0x44, 0, 1))), verdict: XDP_PASS, counters: stat('passMalformed') },
    { name: 'IPv4 version 6 in an IPv4 ethertype: pass', frame: F.ethernet(l2(M1, 100), F.ETH_P_IP, Buffer.from(v4(V4, F.IPPROTO_TCP, F.tcp(1, 2)).fill(0x65, 0, 1))), verdict: XDP_PASS, counters: stat('passMalformed') },
    { name: 'UDP length below its header: pass', frame: F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_UDP, (() => { const u = F.udp(4500, 4500, F.esp(0x100, 1)); u.writeUInt16BE(4, 4); return u; })())), verdict: XDP_PASS, counters: stat('passMalformed') },
  ];

  const bases: [string, Buffer, number[]][] = [
    // eth 14 | tag 18 | IPv4 38 | UDP 46 | SPI 50 ...
    ['tagged ESP-in-UDP v4', F.ethernet(l2(M1, 100), F.ETH_P_IP, v4(V4, F.IPPROTO_UDP, F.udp(4500, 4500, F.esp(0x100, 1)))), [14, 16, 18, 28, 38, 42, 46, 48, 50]],
    // eth 14 | tag 18 | IPv6 58 | SPI 62 ...
    ['tagged ESP v6', F.ethernet(l2(M1, 100), F.ETH_P_IPV6, v6(V6, F.IPPROTO_ESP, F.esp(0x200, 1))), [14, 16, 18, 38, 58, 60, 62]],
    // eth 14 | IPv4 34 | TCP 54
    ['untagged TCP v4', F.ethernet(l2(M2), F.ETH_P_IP, v4('10.2.0.7', F.IPPROTO_TCP, F.tcp(1, 2))), [14, 24, 34, 44]],
    // eth 14 | tag 18 | ARP 46
    ['tagged ARP', F.ethernet(l2(M1, 100), F.ETH_P_ARP, F.arpRequest(PEER, '10.1.0.9', '10.1.0.7')), [14, 18, 30, 45]],
  ];
  const truncated: Case[] = bases.flatMap(([name, frame, cuts]) =>
    cuts.map((cut) => ({
      group: 'truncated' as const,
      name: `${name} cut at ${cut} of ${frame.length} bytes: pass, untouched`,
      frame: frame.subarray(0, cut),
      verdict: XDP_PASS,
      counters: stat('passMalformed'),
    })),
  );

  const unicast = F.ethernet({ dst: PEER, src: M1 }, F.ETH_P_IP, v4('192.0.2.9', F.IPPROTO_TCP, F.tcp(80, 1)));
  const portRx: Case[] = [
    { group: 'port-rx', name: 'unicast from a port: handed to the uplink, unchanged', frame: unicast, from: 'p1', verdict: XDP_REDIRECT, counters: stat('portRedirect') },
    {
      group: 'port-rx',
      name: 'broadcast from a port: left to the stack',
      frame: F.ethernet({ dst: 'ff:ff:ff:ff:ff:ff', src: M1 }, F.ETH_P_ARP, F.arpRequest(M1, '10.1.0.7', '10.1.0.9')),
      from: 'p1',
      verdict: XDP_PASS,
      counters: stat('portPassMcast'),
    },
    { group: 'port-rx', name: 'a device that is not a port: pass', frame: unicast, from: 'lo', verdict: XDP_PASS, counters: stat('portPassUnknown') },
  ];

  const trunkTagged = F.tag(F.ethernet({ dst: PEER, src: M3 }, F.ETH_P_IP, v4('192.0.2.9', F.IPPROTO_TCP, F.tcp(80, 1))), 200);
  const egress: Case[] = [
    { group: 'egress', name: 'from an access port with its own MAC: VLAN pushed, transmitted', frame: unicast, from: 'p1', verdict: XDP_PASS, out: F.tag(unicast, 100), counters: { ...stat('egressTx'), 'p1:txPackets': 1 } },
    {
      group: 'egress',
      name: 'spoofed source MAC: dropped and counted',
      frame: F.ethernet({ dst: PEER, src: '02:00:00:00:01:99' }, F.ETH_P_IP, v4('192.0.2.9', F.IPPROTO_TCP, F.tcp(80, 1))),
      from: 'p1',
      verdict: XDP_DROP,
      counters: { ...stat('egressSpoof'), 'p1:spoofed': 1 },
    },
    { group: 'egress', name: 'a tagged frame from an access port (VLAN hopping): dropped and counted', frame: F.tag(unicast, 200), from: 'p1', verdict: XDP_DROP, counters: { ...stat('egressTagged'), 'p1:tagged': 1 } },
    { group: 'egress', name: 'a trunk port without a MAC check: transmitted unchanged, tags included', frame: trunkTagged, from: 'p2', verdict: XDP_PASS, counters: { ...stat('egressTx'), 'p2:txPackets': 1 } },
    { group: 'egress', name: 'not sent by a port: dropped', frame: unicast, from: 'lo', verdict: XDP_DROP, counters: stat('egressUnknown') },
  ];

  return [...ingress.map((c) => ({ ...c, group: 'ingress' as const })), ...truncated, ...portRx, ...egress];
}
