// Real frames between namespaces through the steering programs attached in
// native mode to veth: the host namespace in the middle has no addresses, no
// bridge and no forwarding, so a ping that gets through was carried by XDP
// alone (uplink -> fdb -> port, and port -> devmap egress -> uplink).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAddon } from '../../../src/native/addon.js';
import { SteerConflictError } from '../../../src/steer/errors.js';
import { Steering, detachSteering, inspectSteering } from '../../../src/steer/steering.js';
import { PEER_MAC, SWITCH_DESIRED, Topology, VM1_MAC, buildSwitch, pingReplies, sh, type Switch } from './fixture.js';

const topo = new Topology();
let sw: Switch;
let steering: Steering;
let pinRoot: string;

beforeAll(() => {
  sw = buildSwitch(topo);
  pinRoot = topo.pinRoot();
  steering = Steering.open({ uplink: 'up0', netns: { name: sw.host }, pinRoot });
});

afterAll(() => {
  steering?.close();
  topo.cleanup();
});

describe('steering real traffic on veth (native XDP)', () => {
  it('attaches natively to the veth uplink and reports it', () => {
    const r = steering.attach();
    expect(r).toMatchObject({ mode: 'native', action: 'attached' });
    expect(steering.reconcile(SWITCH_DESIRED).issues).toEqual([]);
    const st = steering.status();
    expect(st.xdp).toEqual({ programId: r.programId, ours: true, mode: 'native' });
    expect(st.egress).toEqual({ installed: true, programId: r.egressProgramId });
    expect(steering.list().ports.map((p) => [p.device, p.xdp])).toEqual([
      ['p1', 'ours'],
      ['p2', 'ours'],
    ]);
  });

  it('pings cross in both directions through XDP only, counted per entry and per port', () => {
    const before = steering.list();
    expect(pingReplies(topo, sw.wire, '10.9.0.11', 5)).toBe(5);
    expect(pingReplies(topo, sw.wire, '10.9.0.12', 5)).toBe(5);
    expect(pingReplies(topo, sw.vm1, '10.9.0.1', 3)).toBe(3);
    const after = steering.list();
    const fdb = (l: typeof after, mac: string): number => l.fdb.find((f) => f.mac === mac)?.packets ?? -1;
    const port = (l: typeof after, dev: string): { rxPackets: number; txPackets: number } =>
      l.ports.find((p) => p.device === dev)?.counters ?? { rxPackets: -1, txPackets: -1 };
    // 5 requests + 3 replies toward vm1, 5 toward vm2; replies and requests back via the egress program.
    expect(fdb(after, VM1_MAC) - fdb(before, VM1_MAC)).toBe(8);
    expect(port(after, 'p1').rxPackets - port(before, 'p1').rxPackets).toBe(8);
    expect(port(after, 'p1').txPackets - port(before, 'p1').txPackets).toBe(8);
    expect(port(after, 'p2').rxPackets - port(before, 'p2').rxPackets).toBe(5);
    expect(port(after, 'p2').txPackets - port(before, 'p2').txPackets).toBe(5);
    // The host namespace's stack saw none of it.
    expect(sh('ip', 'netns', 'exec', sw.host, 'cat', '/proc/sys/net/ipv4/ip_forward').trim()).toBe('0');
  });

  it('an unknown destination MAC goes to the stack, which drops it here', () => {
    const before = steering.status().verdicts.passFdbMiss.packets;
    expect(pingReplies(topo, sw.wire, '10.9.0.13', 2)).toBe(0);
    expect(steering.status().verdicts.passFdbMiss.packets - before).toBe(2);
  });

  it('egress anti-spoof: a VM sending with another port\'s MAC is dropped and counted', () => {
    const wireRx = (): number => Number(sh('ip', 'netns', 'exec', sw.wire, 'cat', '/sys/class/net/wire0/statistics/rx_packets'));
    const before = steering.list().ports.find((p) => p.device === 'p2')?.counters.spoofed ?? -1;
    const rx0 = wireRx();
    // vm2 impersonates vm1 (a MAC change flushes even permanent neighbours: put ours back)
    const setMac = (mac: string): void => {
      sh('ip', '-n', sw.vm2, 'link', 'set', 'eth0', 'address', mac);
      sh('ip', '-n', sw.vm2, 'neigh', 'replace', '10.9.0.1', 'lladdr', PEER_MAC, 'dev', 'eth0');
    };
    setMac(VM1_MAC);
    try {
      expect(pingReplies(topo, sw.vm2, '10.9.0.1', 4)).toBe(0);
    } finally {
      setMac('02:00:00:00:02:02');
    }
    const after = steering.list().ports.find((p) => p.device === 'p2')?.counters.spoofed ?? -1;
    expect(after - before).toBe(4);
    expect(wireRx() - rx0).toBe(0);
    expect(steering.status().verdicts.egressSpoof.packets).toBeGreaterThanOrEqual(4);
    // With its own MAC back, vm2 gets through again.
    expect(pingReplies(topo, sw.vm2, '10.9.0.1', 2)).toBe(2);
  });

  it('a read-only view from the pins sees the same entries', () => {
    const view = inspectSteering({ uplink: 'up0', netns: { name: sw.host }, pinRoot });
    try {
      expect(view.list().fdb.map((f) => [f.mac, f.port, f.origin])).toEqual([
        [VM1_MAC, 'p1', 'config'],
        ['02:00:00:00:02:02', 'p2', 'config'],
      ]);
      expect(view.status().xdp.ours).toBe(true);
    } finally {
      view.close();
    }
  });
});

describe('attach modes and foreign programs', () => {
  it('falls back to generic XDP on a device without native XDP (macvlan) and says so', () => {
    topo.veth(sw.host, 'lowr', sw.host, 'lowp');
    sh('ip', '-n', sw.host, 'link', 'add', 'link', 'lowr', 'name', 'mv0', 'type', 'macvlan');
    sh('ip', '-n', sw.host, 'link', 'set', 'mv0', 'up');
    const s = Steering.open({ uplink: 'mv0', netns: { name: sw.host }, pinRoot });
    try {
      expect(s.attach()).toMatchObject({ mode: 'generic', action: 'attached' });
      expect(s.status().xdp).toMatchObject({ ours: true, mode: 'generic' });
    } finally {
      s.close();
    }
    expect(detachSteering({ uplink: 'mv0', netns: { name: sw.host }, pinRoot })).toMatchObject({ uplinkXdp: 'detached', pinsLeft: [] });
    const q = loadAddon().xdpQuery(topo.ifindex(sw.host, 'mv0'), { netnsPath: `/run/netns/${sw.host}` });
    expect(q.progId).toBe(0);
  });

  it('never replaces an XDP program that is not ours, and detach leaves it', () => {
    topo.veth(sw.host, 'x0', sw.host, 'x0p');
    topo.xdpPass(sw.host, 'x0');
    const netnsPath = `/run/netns/${sw.host}`;
    const foreign = loadAddon().xdpQuery(topo.ifindex(sw.host, 'x0'), { netnsPath }).progId;
    expect(foreign).toBeGreaterThan(0);
    const s = Steering.open({ uplink: 'x0', netns: { name: sw.host }, pinRoot });
    try {
      expect(() => s.attach()).toThrow(SteerConflictError);
    } finally {
      s.close();
    }
    expect(detachSteering({ uplink: 'x0', netns: { name: sw.host }, pinRoot })).toMatchObject({ uplinkXdp: 'foreign' });
    expect(loadAddon().xdpQuery(topo.ifindex(sw.host, 'x0'), { netnsPath }).progId).toBe(foreign);
  });
});
