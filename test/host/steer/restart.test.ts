// Daemon restarts and upgrades: each "daemon" is a separate process that
// opens, attaches, reconciles and exits without detaching. Rounds of pings
// run across the switch for as long as it runs; a restart (same build) must keep the very same
// programs attached and the entries and counters intact, an upgrade (a
// different build of steer.o) must swap every program atomically - and
// neither may lose a packet. Then `steer detach` removes exactly what
// steering created.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadAddon } from '../../../src/native/addon.js';
import { SteerPinError } from '../../../src/steer/errors.js';
import { Steering, detachSteering, type SteerAttachReport, type SteerReconcileReport } from '../../../src/steer/steering.js';
import type { SteerListView } from '../../../src/steer/views.js';
import { SWITCH_DESIRED, Topology, VM1_MAC, buildSwitch, sh, type Switch } from './fixture.js';

interface Lifetime {
  attach: SteerAttachReport;
  reconcile: SteerReconcileReport;
  list: SteerListView;
}

const topo = new Topology();
let sw: Switch;
let pinRoot: string;
let variantDir: string;
let variant: string;

beforeAll(() => {
  sw = buildSwitch(topo);
  pinRoot = topo.pinRoot();
  // "The next release": the same source built for BPF ISA v3 (ALU32/JMP32),
  // so every program has different instructions and a different tag.
  variantDir = mkdtempSync(join(tmpdir(), 'steer-variant-'));
  variant = join(variantDir, 'steer.o');
  const root = join(import.meta.dirname, '../../..');
  execFileSync('clang', ['-O2', '-mcpu=v3', '-g', '-target', 'bpf', `-I${root}/bpf`, `-I/usr/include/${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}-linux-gnu`, '-c', `${root}/bpf/steer.bpf.c`, '-o', variant]);
});

afterAll(() => {
  topo.cleanup();
  if (variantDir) rmSync(variantDir, { recursive: true, force: true });
});

const daemonArgs = (objectFile?: string): string[] => [
  '--import',
  'tsx',
  join(import.meta.dirname, 'daemon-run.ts'),
  JSON.stringify({ uplink: 'up0', netns: { name: sw.host }, pinRoot, desired: SWITCH_DESIRED, ...(objectFile ? { objectFile } : {}) }),
];

function daemon(objectFile?: string): Lifetime {
  return JSON.parse(execFileSync(process.execPath, daemonArgs(objectFile), { encoding: 'utf8' })) as Lifetime;
}

/** One round of pings from the wire to vm1; every reply is waited for. */
function pingRound(count: number): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    const p = spawn('ip', ['netns', 'exec', sw.wire, 'ping', '-q', '-c', String(count), '-i', '0.005', '-W', '1', '10.9.0.11']);
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('error', reject);
    p.on('close', () => {
      const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
      if (!m) reject(new Error(`ping said: ${out}`));
      else resolve([Number(m[1]), Number(m[2])]);
    });
  });
}

interface Flooded {
  life: Lifetime;
  sent: number;
  received: number;
  rounds: number;
}

/**
 * Runs a daemon lifetime in its own process while rounds of pings run back to
 * back: one round is already in flight when the daemon starts, rounds follow
 * while it runs, and one more starts after it exited (before, during, after).
 */
async function daemonUnderTraffic(objectFile?: string): Promise<Flooded> {
  let sent = 0;
  let received = 0;
  let rounds = 0;
  const round = async (): Promise<void> => {
    const [s, r] = await pingRound(100);
    sent += s;
    received += r;
    rounds++;
  };
  const before = round();
  const child = spawn(process.execPath, daemonArgs(objectFile));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let finished = false;
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => ((finished = true), resolve(code))));
  await before;
  while (!finished) await round();
  await round();
  const code = await exited;
  if (code !== 0) throw new Error(`daemon exited ${code}: ${stderr}`);
  return { life: JSON.parse(stdout) as Lifetime, sent, received, rounds };
}

const xdpOn = (dev: string): number => loadAddon().xdpQuery(topo.ifindex(sw.host, dev), { netnsPath: `/run/netns/${sw.host}` }).progId;
const fdbPackets = (l: SteerListView): number => l.fdb.find((f) => f.mac === VM1_MAC)?.packets ?? -1;

describe('restart and upgrade without a traffic gap', () => {
  let first: Lifetime;

  it('first start: attaches and installs the entries', () => {
    first = daemon();
    expect(first.attach).toMatchObject({ action: 'attached', mode: 'native', reusedMaps: [] });
    expect(first.reconcile.issues).toEqual([]);
    expect(first.list.fdb).toHaveLength(2);
    expect(xdpOn('up0')).toBe(first.attach.programId);
  });

  it('restart with the same build: same programs, entries and counters kept, no packet lost', async () => {
    const r = await daemonUnderTraffic();
    expect(r.rounds).toBeGreaterThanOrEqual(2); // pings before, during and after
    expect(r.received).toBe(r.sent);
    const second = r.life;
    expect(second.attach).toMatchObject({ action: 'kept', programId: first.attach.programId, egressProgramId: first.attach.egressProgramId, portsUpgraded: [] });
    expect(second.attach.reusedMaps.sort()).toEqual(['steer_esp', 'steer_fdb', 'steer_port_info', 'steer_port_stat', 'steer_ports', 'steer_stats']);
    expect(second.reconcile.applied).toEqual([]); // nothing to change
    // Counters were not reset: the new daemon already sees pings of the first round.
    expect(fdbPackets(second.list)).toBeGreaterThan(fdbPackets(first.list));
    expect(xdpOn('up0')).toBe(first.attach.programId);
  });

  it('upgrade to a different build: every program swapped atomically, entries kept, no packet lost', async () => {
    const p1Before = xdpOn('p1');
    const r = await daemonUnderTraffic(variant);
    expect(r.rounds).toBeGreaterThanOrEqual(2);
    expect(r.received).toBe(r.sent);
    const third = r.life;
    expect(third.attach.action).toBe('replaced');
    expect(third.attach.programId).not.toBe(first.attach.programId);
    expect(third.attach.egressProgramId).not.toBe(first.attach.egressProgramId);
    expect(third.attach.portsUpgraded.sort()).toEqual([topo.ifindex(sw.host, 'p1'), topo.ifindex(sw.host, 'p2')].sort());
    expect(xdpOn('up0')).toBe(third.attach.programId);
    expect(xdpOn('p1')).not.toBe(p1Before);
    expect(third.reconcile.applied).toEqual([]);
    expect(third.list.fdb.map((f) => f.mac)).toEqual(first.list.fdb.map((f) => f.mac));
    // And back: the pinned programs are the variant's now, the default build replaces them.
    const fourth = daemon();
    expect(fourth.attach.action).toBe('replaced');
    expect(fourth.attach.programId).not.toBe(third.attach.programId);
  });
});

describe('steer detach', () => {
  it('removes everything steering created and nothing else', () => {
    // Not ours: an XDP program on another device, and files next to and inside our pin dir.
    topo.veth(sw.host, 'other0', sw.host, 'other1');
    topo.xdpPass(sw.host, 'other0');
    const foreignProg = xdpOn('other0');
    const a = loadAddon();
    const fd = a.bpfProgGetFdById(foreignProg);
    try {
      sh('mkdir', '-p', join(pinRoot, 'someone-else'));
      a.bpfObjPin(fd, join(pinRoot, 'someone-else', 'prog'));
      a.bpfObjPin(fd, join(pinRoot, 'up0', 'not-ours'));
    } finally {
      a.bpfClose(fd);
    }

    const r = detachSteering({ uplink: 'up0', netns: { name: sw.host }, pinRoot });
    expect(r.found).toBe(true);
    expect(r.uplinkXdp).toBe('detached');
    expect(r.portsDetached.sort()).toEqual([topo.ifindex(sw.host, 'p1'), topo.ifindex(sw.host, 'p2')].sort());
    expect(r.pinsRemoved.sort()).toEqual(
      ['steer_egress', 'steer_esp', 'steer_fdb', 'steer_ingress', 'steer_port_info', 'steer_port_rx', 'steer_port_stat', 'steer_ports', 'steer_stats'].sort(),
    );
    expect(r.pinsLeft).toEqual(['not-ours']);
    expect(xdpOn('up0')).toBe(0);
    expect(xdpOn('p1')).toBe(0);
    expect(xdpOn('p2')).toBe(0);
    expect(xdpOn('other0')).toBe(foreignProg);
    expect(readdirSync(join(pinRoot, 'up0'))).toEqual(['not-ours']);
    expect(existsSync(join(pinRoot, 'someone-else', 'prog'))).toBe(true);
    // Steering is gone: the wire's frames now reach the (address-less) host stack.
    expect(topo.status(sw.wire, 'ping', '-c', '1', '-W', '1', '10.9.0.11')).not.toBe(0);
    // A second detach finds nothing of ours.
    expect(detachSteering({ uplink: 'up0', netns: { name: sw.host }, pinRoot })).toMatchObject({ uplinkXdp: 'none', pinsRemoved: [], pinsLeft: ['not-ours'] });
  });
});

describe('pins of another layout', () => {
  it('are refused with an error that says what to do, and left untouched', () => {
    // What an older build with a 16-byte fdb value would have left behind.
    const dir = join(pinRoot, 'old0');
    sh('mkdir', '-p', dir);
    sh('bpftool', 'map', 'create', join(dir, 'steer_fdb'), 'type', 'percpu_hash', 'key', '8', 'value', '16', 'entries', '4096', 'name', 'steer_fdb');
    topo.veth(sw.host, 'old0', sw.host, 'old1');
    let err: unknown;
    try {
      Steering.open({ uplink: 'old0', netns: { name: sw.host }, pinRoot }).close();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SteerPinError);
    expect((err as Error).message).toMatch(/steer_fdb.*does not match.*steer detach, then attach again/);
    expect(readdirSync(dir)).toEqual(['steer_fdb']);
    expect(detachSteering({ uplink: 'old0', netns: { name: sw.host }, pinRoot })).toMatchObject({ pinsRemoved: ['steer_fdb'], pinsLeft: [] });
  });
});
