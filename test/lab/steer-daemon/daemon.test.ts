// Steering in the running daemon on an 802.1Q uplink (Debian 6.1 lab kernel
// with 8021q), driven through the real CLI: the daemon attaches the
// configured trunk uplink, turns its VLAN RX offload off, steers VLAN 100
// frames to an access port (tag popped and pushed back); ESP exceptions
// follow the daemon's SAs (a CHILD_SA between two charons brings one for its
// inbound SA on VLAN 100; terminating it removes it) and really keep the SA's
// ESP in the kernel while this host's own MAC is steered away; a restart
// keeps everything; detach removes everything.
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type Captured, type LabRun } from '../harness/scenario.js';
import type { SteerDetachReport } from '../../../src/steer/steering.js';
import type { SteerListView } from '../../../src/steer/views.js';
import type { SteerUplinkStatus } from '../../../src/steer/daemon/views.js';

let run: LabRun;
let macs: { a: string; b: string; g1: string };
let spiIn: string;

beforeAll(async () => {
  run = (await runInLab('steer-daemon', scenarioScript(import.meta.url, 'daemon.sh'), { timeoutMs: 1_500_000 })).expectSuccess();
  macs = run.json<{ a: string; b: string; g1: string }>('macs');
  spiIn = run.json<{ in: string }>('spi').in;
});

const received = (c: Captured): number => Number(/(\d+) received/.exec(c.out)?.[1] ?? -1);
const list = (name: string): SteerListView => {
  const [l, ...rest] = run.json<SteerListView[]>(name);
  if (!l || rest.length) throw new Error(`${name}: expected one uplink, got ${1 + rest.length}`);
  return l;
};
const fdb = (l: SteerListView, mac: string, vlan: number) => l.fdb.find((f) => f.mac === mac && f.vlan === vlan);
const events = (name: string): Record<string, unknown>[] =>
  run
    .file('logs/offload-A.log')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.event === name);

describe('steering in the daemon, on an 802.1Q uplink', () => {
  it('attaches the trunk uplink at start and turns its VLAN RX offload off', () => {
    const [s] = run.json<SteerUplinkStatus[]>('status_start');
    if (!s?.pinned) throw new Error(`not pinned: ${JSON.stringify(s)}`);
    expect(s).toMatchObject({ uplink: 'vethA', xdp: { ours: true, mode: 'native' }, egress: { installed: true } });
    expect(s.pinDir).toBe('/sys/fs/bpf/ipsec-offload/vethA');
    expect(s.daemon).toMatchObject({ configured: true, state: 'attached', error: null, attach: { action: 'attached' }, vlanOffload: { action: 'disabled' } });
    expect(run.json<Captured>('ethtool_a').out).toMatch(/rx-vlan-offload: off/);
  });

  it('steers VLAN 100 frames to the access port, tag popped, and the replies back tagged', () => {
    expect(received(run.json<Captured>('ping_guest'))).toBe(3);
    const l = list('list_guest');
    expect(fdb(l, macs.g1, 100)).toMatchObject({ port: 'p1', strip: true, origin: 'config' });
    expect(fdb(l, macs.g1, 100)?.packets).toBeGreaterThanOrEqual(3);
    const p1 = l.ports.find((p) => p.device === 'p1');
    expect(p1).toMatchObject({ vlan: 100, mac: macs.g1, xdp: 'ours' });
    expect(p1?.counters.rxPackets).toBeGreaterThanOrEqual(3);
    expect(p1?.counters.txPackets).toBeGreaterThanOrEqual(3);
    expect(l.esp).toEqual([]);
  });

  it('a CHILD_SA up: an exception for its inbound SA, on the VLAN its traffic arrives on', () => {
    expect(spiIn).toMatch(/^0x[0-9a-f]{8}$/);
    const l = list('list_esp');
    expect(l.esp).toMatchObject([{ vlan: 100, daddr: '10.0.0.1', spiHex: spiIn }]);
    const added = events('steer.reconciled').find((e) => (e.ops as string[]).some((o) => o.startsWith('esp-add')));
    expect(added).toMatchObject({ uplink: 'vethA', ops: [`esp-add vlan 100 10.0.0.1 spi ${spiIn}`], esp: 1 });
    expect(String(added?.reason)).toContain('sas');
  });

  it('with its own MAC steered away (steer add), the SA’s ESP still reaches the kernel; plain traffic does not', () => {
    expect(run.json<Captured>('add_own').rc).toBe(0);
    expect(JSON.parse(run.json<Captured>('add_own').out)).toMatchObject({ uplink: 'vethA', entry: { mac: macs.a, vlan: 100, port: 'p1', origin: 'manual', strip: true } });
    expect(received(run.json<Captured>('ping_tunnel'))).toBe(5);
    expect(received(run.json<Captured>('ping_plain'))).toBe(0);
    const l = list('list_own');
    expect(l.esp[0]?.packets).toBeGreaterThanOrEqual(5);
    expect(fdb(l, macs.a, 100)?.packets).toBeGreaterThanOrEqual(3);
    const del = run.json<Captured>('del_own');
    expect(del.rc).toBe(0);
    expect(JSON.parse(del.out)).toEqual({ uplink: 'vethA', deleted: true });
    expect(events('steer.manual').map((e) => e.op)).toEqual(['add', 'del']);
  });

  it('status and list print tables with the counters', () => {
    const s = run.json<Captured>('status_text').out;
    expect(s).toMatch(/^vethA \(ifindex \d+, netns nsA\): steer_ingress id \d+ \(native, tag [0-9a-f]+\)$/m);
    expect(s).toMatch(/^\s+passEspLocal\s+[1-9]\d*\s/m);
    const t = run.json<Captured>('list_text').out;
    expect(t).toMatch(new RegExp(`^${macs.a}\\s+100\\s+p1\\s+pop\\s+manual\\s+[1-9]`, 'm'));
    expect(t).toMatch(new RegExp(`^100\\s+10\\.0\\.0\\.1\\s+${spiIn}\\s+[1-9]`, 'm'));
  });

  it('a restart keeps the program attached and steering on, then keeps (does not replace) it', () => {
    expect(run.json<Captured>('xdp_stopped').out).toMatch(/prog\/xdp id \d+/);
    expect(received(run.json<Captured>('ping_guest_stopped'))).toBe(3);
    const [s] = run.json<SteerUplinkStatus[]>('status_restart');
    expect(s).toMatchObject({ pinned: true, daemon: { state: 'attached', attach: { action: 'kept' } } });
    const attached = events('steer.attached');
    expect(attached.map((e) => e.action)).toEqual(['attached', 'kept']);
    expect(attached[1]?.programId).toBe(attached[0]?.programId);
    expect(list('list_restart').esp).toMatchObject([{ vlan: 100, spiHex: spiIn }]);
    expect(fdb(list('list_restart'), macs.g1, 100)?.packets).toBeGreaterThanOrEqual(6);
  });

  it('the CHILD_SA terminated: its exception goes', () => {
    expect(list('list_after').esp).toEqual([]);
    expect(events('steer.reconciled').some((e) => (e.ops as string[]).includes(`esp-delete vlan 100 10.0.0.1 spi ${spiIn}`))).toBe(true);
  });

  it('steer detach removes the programs from the uplink and the port, and every pin', () => {
    const d = run.json<SteerDetachReport>('detach');
    expect(d).toMatchObject({ uplink: 'vethA', found: true, uplinkXdp: 'detached', pinsLeft: [] });
    expect(d.portsDetached).toHaveLength(1);
    expect(d.pinsRemoved).toHaveLength(9);
    const links = run.json<Captured>('links_after').out;
    expect(links).not.toMatch(/xdp/);
    expect(run.json<Captured>('pins_after').out.trim()).toBe('');
    expect(received(run.json<Captured>('ping_guest_after'))).toBe(0);
    const [s] = run.json<SteerUplinkStatus[]>('status_detached');
    expect(s).toMatchObject({ uplink: 'vethA', pinned: false, daemon: { state: 'detached' } });
    expect(events('steer.detached')).toMatchObject([{ uplink: 'vethA', uplinkXdp: 'detached', portsDetached: 1, pinsRemoved: 9 }]);
  });
});
