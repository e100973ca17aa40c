// steer.o on this host's kernel through BPF_PROG_TEST_RUN (tables in
// cases.ts, shared with the lab): verdict, output frame and exactly which
// counters moved, for every frame. Maps populated by Steering.reconcile().
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultObjectFile, loadSteerObject, type LoadedObject } from '../../../src/steer/object.js';
import { STEER_STATS, u32Key } from '../../../src/steer/layout.js';
import { encodeFdbKey, encodeFdbValue, encodePort } from '../../../src/steer/records.js';
import { Steering } from '../../../src/steer/steering.js';
import { M1, PEER, TABLE_DESIRED, XDP_PASS, expected, runCase, tableCases, type Case, type CaseEnv } from './cases.js';
import * as F from './frames.js';
import { Topology } from './fixture.js';

const topo = new Topology();
let env: CaseEnv;
let steering: Steering;
let egressAsXdp: LoadedObject;

beforeAll(() => {
  const ns = topo.ns('tr');
  topo.veth(ns, 'up0', ns, 'wire0');
  topo.veth(ns, 'p1', ns, 'p1peer');
  topo.veth(ns, 'p2', ns, 'p2peer');
  steering = Steering.open({ uplink: 'up0', netns: { name: ns }, pinRoot: topo.pinRoot() });
  steering.attach(); // the uplink's devmap entry is what steer_port_rx redirects to
  expect(steering.reconcile(TABLE_DESIRED).issues).toEqual([]);
  // The same object once more, steer_egress loaded as a plain XDP program:
  // BPF_PROG_TEST_RUN refuses devmap programs. Same pinned maps.
  egressAsXdp = loadSteerObject(defaultObjectFile(), steering.pinDir, { steer_egress: 'xdp' });
  env = {
    steering,
    ingress: steering.programs.ingress,
    portRx: steering.programs.portRx,
    egress: egressAsXdp.programs.egress,
    netnsPath: `/run/netns/${ns}`,
    ifindexOf: (dev) => topo.ifindex(ns, dev),
  };
});

afterAll(() => {
  if (egressAsXdp) {
    Object.values(egressAsXdp.maps).forEach((m) => m.close());
    Object.values(egressAsXdp.programs).forEach((p) => p.close());
  }
  steering?.close();
  topo.cleanup();
});

const groups: [Case['group'], string][] = [
  ['ingress', 'steer_ingress verdicts, output frames and counters (BPF_PROG_TEST_RUN)'],
  ['truncated', 'truncated frames never redirect (cut at every header boundary)'],
  ['port-rx', 'steer_port_rx: frames from ports to the uplink'],
  ['egress', 'steer_egress: anti-spoof and VLAN push toward the uplink'],
];
for (const [group, title] of groups) {
  describe(title, () => {
    for (const c of tableCases().filter((x) => x.group === group)) it(c.name, () => expect(runCase(env, c)).toEqual(expected(c)));
  });
}

it('the kernel itself refuses test frames shorter than an Ethernet header', () => {
  expect(() => steering.programs.ingress.testRun(Buffer.alloc(13))).toThrow(/EINVAL/);
});

describe('entries that point nowhere', () => {
  const u32 = (n: number): Buffer => u32Key.encode({ value: n });

  it('an fdb entry whose port is not in steer_ports: pass, nothing changed', () => {
    const key = encodeFdbKey({ mac: '02:00:00:00:04:04', vlan: 300 });
    steering.maps.fdb.update(key, steering.maps.fdb.replicate(encodeFdbValue({ mac: '02:00:00:00:04:04', vlan: 300, ifindex: 999, slot: 9, strip: true, origin: 'manual' })));
    try {
      const frame = F.ethernet({ dst: '02:00:00:00:04:04', src: PEER, tags: [300] }, F.ETH_P_IP, F.ipv4({ src: '192.0.2.9', dst: '10.4.0.1', proto: F.IPPROTO_TCP }, F.tcp(1, 2)));
      const before = steering.status().verdicts.passPortMiss.packets;
      const r = steering.programs.ingress.testRun(frame);
      expect(r.retval).toBe(XDP_PASS);
      expect(r.data.equals(frame)).toBe(true);
      expect(steering.status().verdicts.passPortMiss.packets - before).toBe(1);
    } finally {
      steering.maps.fdb.delete(key);
    }
  });

  it('a port whose uplink is not in steer_ports: left to the stack', () => {
    steering.maps.portInfo.update(u32(1), encodePort({ ifindex: 1, mac: undefined, vlan: 0, uplink: 999, slot: 9 }));
    try {
      const before = steering.status().verdicts.portPassUplink.packets;
      const frame = F.ethernet({ dst: PEER, src: M1 }, F.ETH_P_IP, F.ipv4({ src: '10.1.0.7', dst: '192.0.2.9', proto: F.IPPROTO_TCP }, F.tcp(1, 2)));
      expect(steering.programs.portRx.testRun(frame, { ingressIfindex: 1, netnsPath: env.netnsPath }).retval).toBe(XDP_PASS);
      expect(steering.status().verdicts.portPassUplink.packets - before).toBe(1);
    } finally {
      steering.maps.portInfo.delete(u32(1));
    }
  });
});

it('the table covers every verdict counter a test run can reach', () => {
  const seen = new Set(tableCases().flatMap((c) => Object.keys(c.counters).filter((k) => k.startsWith('stat:')).map((k) => k.slice(5))));
  for (const s of ['passPortMiss', 'portPassUplink']) seen.add(s); // 'entries that point nowhere' above
  // Not reachable through BPF_PROG_TEST_RUN: frames shorter than an Ethernet
  // header (the kernel refuses them) and bpf_xdp_adjust_head failing (test
  // runs always have XDP_PACKET_HEADROOM).
  const unreachable = ['passNotEth', 'passAdjust', 'portPassMalformed', 'egressMalformed', 'egressAdjust'];
  expect([...seen, ...unreachable].sort()).toEqual([...STEER_STATS].sort());
});
