// Steering inside the real daemon on this host, driven through the real CLI:
// the switch of test/host/steer (uplink up0 and ports p1, p2 in one netns,
// no bridge, no addresses: a frame crosses it only when XDP steers it), a
// charon for VICI (no SAs: this kernel has no ESP; ESP exceptions are the
// lab's), a private bpffs as pin root. Proves: the daemon attaches and
// reconciles the configured uplink and turns rx-vlan-offload off when told;
// steer status/list/add/del/detach work against it with per-entry counters;
// a restart keeps the attachment, the entries and the traffic (no ping lost);
// a reload reconciles the new config; status/list/detach work from the pins
// while no daemon runs; detach removes everything steering created.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SteerDetachReport } from '../../../src/steer/steering.js';
import type { SteerListView } from '../../../src/steer/views.js';
import type { SteerUplinkStatus } from '../../../src/steer/daemon/views.js';
import { Charon, Netns, waitFor } from '../vici/support/charon.js';
import { Topology, VM1_MAC, VM2_MAC, buildSwitch, pingReplies, sh, type Switch } from '../steer/fixture.js';

const ROOT = resolve(import.meta.dirname, '../../..');
const CLI = join(ROOT, 'src/cli/main.ts');

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

const topo = new Topology();
let sw: Switch;
let pinRoot: string;
let charonNs: Netns;
let charon: Charon;
let dir: string;
let config: string;
let socket: string;
let log: string;
let daemon: ChildProcess | undefined;
let daemonErr = '';

function cli(args: readonly string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, '--socket', socket, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, IPSEC_OFFLOAD_CONFIG: '/nonexistent/ipsec-offload.yaml', ...env },
  });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

function json<T>(args: readonly string[], env: NodeJS.ProcessEnv = {}): T {
  const r = cli(['--json', ...args], env);
  if (r.status !== 0) throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

function events(name?: string): Record<string, unknown>[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => name === undefined || e.event === name);
}

function writeConfig(extraFdb: string[] = []): void {
  writeFileSync(
    config,
    [
      `netns: ${sw.host}`,
      'vici:',
      `  socket: ${charon.socketPath}`,
      'control:',
      `  socket: ${socket}`,
      'log:',
      `  file: ${log}`,
      'offload:',
      '  default: false',
      'steer:',
      `  pin_root: ${pinRoot}`,
      '  uplinks:',
      '    - device: up0',
      '      rx_vlan_offload: disable',
      '      ports:',
      `        - { device: p1, mac: "${VM1_MAC}" }`,
      `        - { device: p2, mac: "${VM2_MAC}" }`,
      '      fdb:',
      `        - { mac: "${VM1_MAC}", port: p1 }`,
      ...extraFdb,
      '',
    ].join('\n'),
  );
}

async function startDaemon(): Promise<void> {
  const before = events('daemon.started').length;
  daemonErr = '';
  const p = spawn(process.execPath, ['--import', 'tsx', CLI, 'daemon', '--config', config], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  daemon = p;
  p.stderr?.on('data', (b: Buffer) => (daemonErr += b.toString()));
  await waitFor(
    'the daemon to start',
    () => (events('daemon.started').length > before ? true : p.exitCode !== null ? Promise.reject(new Error(`daemon exited: ${daemonErr}`)) : undefined),
    90_000,
    200,
  );
}

async function stopDaemon(): Promise<void> {
  const p = daemon;
  daemon = undefined;
  if (!p || p.exitCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await exited;
}

const xdpOn = (dev: string): boolean => /\bxdp/.test(sh('ip', '-n', sw.host, '-d', 'link', 'show', dev));
const fdbOf = (l: SteerListView, mac: string) => l.fdb.find((f) => f.mac === mac);

beforeAll(async () => {
  sw = buildSwitch(topo);
  pinRoot = topo.pinRoot();
  charonNs = Netns.create('sdc');
  charon = new Charon({ name: 'steer', netns: charonNs, datapath: 'kernel', swanctlConf: 'connections {\n}\n' });
  await charon.start();
  dir = mkdtempSync(join(tmpdir(), 'steer-daemon-'));
  config = join(dir, 'config.yaml');
  socket = join(dir, 'control.sock');
  log = join(dir, 'offload.log');
  writeConfig();
  await startDaemon();
}, 180_000);

afterAll(async () => {
  await stopDaemon();
  await charon?.destroy();
  charonNs?.delete();
  topo.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('steering in the running daemon', () => {
  it('attaches the configured uplink at start and turns rx-vlan-offload off (rx_vlan_offload: disable)', () => {
    const [s, ...rest] = json<SteerUplinkStatus[]>(['steer', 'status']);
    expect(rest).toEqual([]);
    if (!s?.pinned) throw new Error(`up0 not pinned: ${JSON.stringify(s)}`);
    expect(s.uplink).toBe('up0');
    expect(s.xdp).toMatchObject({ ours: true, mode: 'native' });
    expect(s.egress.installed).toBe(true);
    expect(s.entries.fdb.count).toBe(1);
    expect(s.entries.ports.count).toBe(2);
    expect(s.daemon).toMatchObject({ configured: true, state: 'attached', mode: 'auto', rxVlanOffload: 'disable', error: null });
    expect(s.daemon?.attach).toMatchObject({ action: 'attached', mode: 'native', reusedMaps: [] });
    expect(s.daemon?.vlanOffload).toMatchObject({ action: 'disabled', before: { active: true }, after: { active: false } });
    expect(sh('ip', 'netns', 'exec', sw.host, 'ethtool', '-k', 'up0')).toMatch(/rx-vlan-offload: off/);
    expect(events('steer.attached')).toMatchObject([{ uplink: 'up0', action: 'attached', mode: 'native', reusedMaps: 0 }]);
    expect(events('steer.vlan_offload')).toMatchObject([{ uplink: 'up0', action: 'disabled', level: 'info' }]);
    const rec = events('steer.reconciled')[0];
    expect(rec).toMatchObject({ uplink: 'up0', reason: 'startup', issues: [], esp: 0 });
    expect(rec?.ops).toEqual(expect.arrayContaining([`fdb-set ${VM1_MAC} vlan 0 -> ifindex ${topo.ifindex(sw.host, 'p1')} [config]`, 'port-attach p1 (native)']));
    for (const dev of ['up0', 'p1', 'p2']) expect(xdpOn(dev), dev).toBe(true);
  });

  it('steers the configured MAC only; steer list counts it per entry and per port', () => {
    expect(pingReplies(topo, sw.wire, '10.9.0.11', 3)).toBe(3);
    expect(pingReplies(topo, sw.wire, '10.9.0.12', 2)).toBe(0); // no entry, and no bridge behind the XDP path
    const [l] = json<SteerListView[]>(['steer', 'list', 'up0']);
    if (!l) throw new Error('no listing');
    const e = fdbOf(l, VM1_MAC);
    expect(e).toMatchObject({ vlan: 0, port: 'p1', origin: 'config', strip: false });
    expect(e?.packets).toBeGreaterThanOrEqual(3);
    const p1 = l.ports.find((p) => p.device === 'p1');
    expect(p1?.xdp).toBe('ours');
    expect(p1?.counters.rxPackets).toBeGreaterThanOrEqual(3);
    expect(p1?.counters.txPackets).toBeGreaterThanOrEqual(3); // the replies, back out through the uplink
    const human = cli(['steer', 'list']);
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/^MAC\s+VLAN\s+PORT\s+ACTION\s+ORIGIN\s+PACKETS\s+BYTES$/m);
    expect(human.stdout).toMatch(new RegExp(`^${VM1_MAC}\\s+0\\s+p1\\s+keep\\s+config\\s+\\d+`, 'm'));
    expect(human.stdout).toMatch(/^PORT\s+IFINDEX\s+MAC\s+VLAN\s+XDP\s+RX\s+TX\s+SPOOFED\s+TAGGED$/m);
    const status = cli(['steer', 'status', 'up0']);
    expect(status.stdout).toMatch(/^up0 \(ifindex \d+, netns .*\): steer_ingress id \d+ \(native, tag [0-9a-f]+\)$/m);
    expect(status.stdout).toMatch(/^\s+redirect\s+\d+\s+/m);
  });

  it('steer add: a manual entry toward a port, found by its port; refused ones print each issue (exit 2)', () => {
    const r = json<{ uplink: string; entry: { mac: string; origin: string; port: string } }>(['steer', 'add', VM2_MAC, '--port', 'p2']);
    expect(r).toMatchObject({ uplink: 'up0', entry: { mac: VM2_MAC, port: 'p2', origin: 'manual', vlan: 0 } });
    expect(pingReplies(topo, sw.wire, '10.9.0.12', 3)).toBe(3);
    expect(events('steer.manual')).toMatchObject([{ op: 'add', uplink: 'up0', mac: VM2_MAC, vlan: 0, port: 'p2' }]);

    const owned = cli(['steer', 'add', VM1_MAC, '--port', 'p2']);
    expect(owned.status).toBe(2);
    expect(owned.stderr).toBe(`ipsec-offload: invalid steering request:\n  - add: ${VM1_MAC} vlan 0 is owned by config; change it there\n`);
    const notPort = cli(['steer', 'add', '02:00:00:00:09:09', '--port', 'lo', '--uplink', 'up0']);
    expect(notPort.status).toBe(2);
    expect(notPort.stderr).toContain('  - add: lo is not a steering port');
    const mcast = cli(['steer', 'add', '01:00:5e:00:00:01', '--port', 'p2']);
    expect(mcast.status).toBe(2);
    expect(mcast.stderr).toContain('is not a unicast MAC');
    const badVlan = cli(['steer', 'add', VM2_MAC, '--vlan', '5000', '--port', 'p2']);
    expect(badVlan.status).toBe(2);
    const unknown = cli(['steer', 'add', VM2_MAC, '--port', 'p2', '--uplink', 'nosuch0']);
    expect(unknown.status).toBe(4);
    expect(unknown.stderr).toContain('nosuch0 is not a steered uplink of this daemon (configured: up0)');
  });

  it('a restart keeps the programs attached, the entries (manual too) and the traffic: no ping lost', async () => {
    const before = json<SteerListView[]>(['steer', 'list'])[0];
    const ping = spawn('ip', ['netns', 'exec', sw.wire, 'ping', '-n', '-i', '0.1', '-W', '1', '10.9.0.12'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    ping.stdout.on('data', (b: Buffer) => (out += b.toString()));
    await stopDaemon();
    // No daemon: the programs run on; status and list read the pins (the config file gives pin_root and netns).
    const env = { IPSEC_OFFLOAD_CONFIG: config };
    const offline = cli(['--json', 'steer', 'status'], env);
    expect(offline.status).toBe(0);
    expect(offline.stderr).toContain(`the daemon is not running: reading the pins in ${pinRoot}`);
    const [os] = JSON.parse(offline.stdout) as SteerUplinkStatus[];
    expect(os).toMatchObject({ uplink: 'up0', pinned: true, daemon: null, xdp: { ours: true } });
    const ol = json<SteerListView[]>(['steer', 'list'], env)[0];
    expect(ol && fdbOf(ol, VM2_MAC)).toMatchObject({ origin: 'manual', port: 'p2' });
    await startDaemon();
    await new Promise((r) => setTimeout(r, 1000));
    const exited = new Promise((r) => ping.once('exit', r));
    ping.kill('SIGINT');
    await exited;
    const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
    expect(m, out).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThan(10);
    expect(Number(m?.[2])).toBe(Number(m?.[1]));
    const attached = events('steer.attached');
    expect(attached.at(-1)).toMatchObject({ uplink: 'up0', action: 'kept', reusedMaps: 6 });
    expect(attached.at(-1)?.programId).toBe(attached[0]?.programId);
    const after = json<SteerListView[]>(['steer', 'list'])[0];
    expect(after && fdbOf(after, VM2_MAC)).toMatchObject({ origin: 'manual', port: 'p2' });
    // counters kept too (the entries were never rewritten)
    expect(fdbOf(after as SteerListView, VM1_MAC)?.packets).toBeGreaterThanOrEqual(fdbOf(before as SteerListView, VM1_MAC)?.packets ?? Infinity);
    // already off: nothing to do about rx-vlan-offload this time
    expect(events('steer.vlan_offload')).toHaveLength(1);
  });

  it('steer del removes the manual entry (its traffic stops); again: exit 4', () => {
    expect(json<{ deleted: boolean; uplink: string }>(['steer', 'del', VM2_MAC])).toEqual({ uplink: 'up0', deleted: true });
    expect(pingReplies(topo, sw.wire, '10.9.0.12', 2)).toBe(0);
    const again = cli(['steer', 'del', VM2_MAC]);
    expect(again.status).toBe(4);
    expect(again.stdout).toContain(`no entry ${VM2_MAC} vlan 0`);
    const configOwned = cli(['steer', 'del', VM1_MAC]);
    expect(configOwned.status).toBe(2);
    expect(configOwned.stderr).toContain(`${VM1_MAC} vlan 0 is owned by config; remove it there`);
  });

  it('a reload (SIGHUP) with a new fdb entry reconciles it in', async () => {
    writeConfig([`        - { mac: "${VM2_MAC}", port: p2 }`]);
    const n = events('steer.reconciled').length;
    daemon?.kill('SIGHUP');
    const ev = await waitFor('steer.reconciled after the reload', () => events('steer.reconciled').slice(n).find((e) => String(e.reason).includes('config')), 30_000, 200);
    expect(ev.ops).toEqual([`fdb-set ${VM2_MAC} vlan 0 -> ifindex ${topo.ifindex(sw.host, 'p2')} [config]`]);
    expect(pingReplies(topo, sw.wire, '10.9.0.12', 3)).toBe(3);
  });

  it('steer detach removes everything steering created; the daemon leaves the uplink alone afterwards', async () => {
    const r = json<SteerDetachReport>(['steer', 'detach', 'up0']);
    expect(r).toMatchObject({ uplink: 'up0', found: true, uplinkXdp: 'detached', pinsLeft: [] });
    expect(r.portsDetached.sort()).toEqual([topo.ifindex(sw.host, 'p1'), topo.ifindex(sw.host, 'p2')].sort());
    expect(r.pinsRemoved).toHaveLength(9); // 6 maps + 3 programs
    for (const dev of ['up0', 'p1', 'p2']) expect(xdpOn(dev), dev).toBe(false);
    expect(existsSync(join(pinRoot, 'up0'))).toBe(false);
    expect(pingReplies(topo, sw.wire, '10.9.0.11', 2)).toBe(0);
    expect(events('steer.detached')).toMatchObject([{ uplink: 'up0', uplinkXdp: 'detached', portsDetached: 2, pinsRemoved: 9, pinsLeft: [] }]);
    // link events and passes do not bring it back
    sh('ip', '-n', sw.host, 'link', 'set', 'p2', 'down');
    sh('ip', '-n', sw.host, 'link', 'set', 'p2', 'up');
    await new Promise((res) => setTimeout(res, 1500));
    const [s] = json<SteerUplinkStatus[]>(['steer', 'status']);
    expect(s).toMatchObject({ uplink: 'up0', pinned: false, daemon: { state: 'detached' } });
    expect(xdpOn('up0')).toBe(false);
    const human = cli(['steer', 'status']);
    expect(human.stdout).toContain('up0: nothing pinned');
    expect(human.stdout).toContain('detached by steer detach');
    const list = cli(['steer', 'add', VM2_MAC, '--port', 'p2', '--uplink', 'up0']);
    expect(list.status).toBe(4);
    expect(list.stderr).toContain('up0 was detached (steer detach)');
  });

  it('without a daemon: detach from the pins finds nothing left (exit 4), status says nothing is pinned', async () => {
    await stopDaemon();
    const env = { IPSEC_OFFLOAD_CONFIG: config };
    const d = cli(['steer', 'detach', 'up0'], env);
    expect(d.status).toBe(4);
    expect(d.stdout).toContain(`nothing pinned for up0 at ${join(pinRoot, 'up0')}`);
    const s = cli(['steer', 'status', 'up0'], env);
    expect(s.status).toBe(4);
    expect(s.stderr).toContain('no steering for up0: nothing pinned');
  });
});
