// Throwaway network namespaces and a private bpffs for the steering host
// tests. Names carry a random suffix; everything is removed in cleanup(),
// which the tests call from afterAll. The pin root is a bpffs mounted on a
// fresh temporary directory: tests never touch /sys/fs/bpf.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadAddon } from '../../../src/native/addon.js';

export function sh(cmd: string, ...args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class Topology {
  readonly suffix = Math.random().toString(36).slice(2, 8);
  private readonly namespaces: string[] = [];
  private pinMount: string | undefined;
  private readonly fds: number[] = [];

  /**
   * A new netns named st<role>-<suffix>, lo up, IPv6 off: router
   * solicitations and DAD would otherwise cross the XDP hooks at random
   * moments and move the counters the tests compare.
   */
  ns(role: string): string {
    const name = `st${role}-${this.suffix}`;
    sh('ip', 'netns', 'add', name);
    this.namespaces.push(name);
    sh('ip', 'netns', 'exec', name, 'sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1');
    sh('ip', '-n', name, 'link', 'set', 'lo', 'up');
    return name;
  }

  /** veth pair a@nsA <-> b@nsB, both up, optional MACs. */
  veth(nsA: string, a: string, nsB: string, b: string, macs: { a?: string; b?: string } = {}): void {
    sh(
      'ip', 'link', 'add', a, 'netns', nsA, ...(macs.a ? ['address', macs.a] : []),
      'type', 'veth', 'peer', 'name', b, 'netns', nsB, ...(macs.b ? ['address', macs.b] : []),
    );
    sh('ip', '-n', nsA, 'link', 'set', a, 'up');
    sh('ip', '-n', nsB, 'link', 'set', b, 'up');
  }

  ifindex(ns: string, dev: string): number {
    return loadAddon().ifNameToIndex(dev, { netnsPath: `/run/netns/${ns}` });
  }

  /**
   * veth only transmits redirected frames when the receiving peer runs XDP
   * (or has NAPI/GRO on): give the far ends the project's xdp_pass program.
   */
  xdpPass(ns: string, dev: string): void {
    const a = loadAddon();
    const obj = a.bpfLoadObject(join(import.meta.dirname, '../../../dist/bpf/xdp_pass.o'), {});
    for (const m of obj.maps) this.fds.push(m.fd);
    for (const p of obj.programs) this.fds.push(p.fd);
    const prog = obj.programs[0];
    if (!prog) throw new Error('xdp_pass.o has no program');
    a.xdpAttach(this.ifindex(ns, dev), prog.fd, { mode: 'native', netnsPath: `/run/netns/${ns}` });
  }

  /** A private bpffs on a fresh temporary directory. */
  pinRoot(): string {
    const dir = mkdtempSync(join(tmpdir(), 'steer-pins-'));
    loadAddon().bpffsMount(dir);
    this.pinMount = dir;
    return dir;
  }

  exec(ns: string, cmd: string, ...args: string[]): string {
    return sh('ip', 'netns', 'exec', ns, cmd, ...args);
  }

  /** Exit status of a command in ns (no throw). */
  status(ns: string, cmd: string, ...args: string[]): number {
    try {
      sh('ip', 'netns', 'exec', ns, cmd, ...args);
      return 0;
    } catch (e) {
      return (e as { status?: number }).status ?? -1;
    }
  }

  cleanup(): void {
    const a = loadAddon();
    for (const fd of this.fds.splice(0)) a.bpfClose(fd);
    for (const ns of this.namespaces.splice(0).reverse()) {
      try {
        sh('ip', 'netns', 'del', ns);
      } catch {
        // already gone
      }
    }
    if (this.pinMount) {
      // Everything pinned below goes with the mount.
      sh('umount', this.pinMount);
      rmSync(this.pinMount, { recursive: true, force: true });
      this.pinMount = undefined;
    }
  }
}

export const PEER_MAC = '02:00:00:00:00:0a';
export const VM1_MAC = '02:00:00:00:01:01';
export const VM2_MAC = '02:00:00:00:02:02';

export interface Switch {
  /** holds the uplink up0 and the ports p1, p2; no addresses, no forwarding */
  host: string;
  /** the far end of the uplink: wire0 10.9.0.1 */
  wire: string;
  /** behind p1: eth0 10.9.0.11 */
  vm1: string;
  /** behind p2: eth0 10.9.0.12 */
  vm2: string;
}

/**
 * wire0 (ns wire) ==veth== up0 (ns host) ; p1 (host) ==veth== eth0 (vm1) ;
 * p2 (host) ==veth== eth0 (vm2). Untagged (this kernel has no 802.1Q).
 * Neighbours are static: ARP broadcasts are left to the host stack by
 * design, and the host namespace has no bridge to carry them.
 */
export function buildSwitch(topo: Topology): Switch {
  const s: Switch = { host: topo.ns('h'), wire: topo.ns('w'), vm1: topo.ns('v1'), vm2: topo.ns('v2') };
  topo.veth(s.host, 'up0', s.wire, 'wire0', { b: PEER_MAC });
  topo.veth(s.host, 'p1', s.vm1, 'eth0', { b: VM1_MAC });
  topo.veth(s.host, 'p2', s.vm2, 'eth0', { b: VM2_MAC });
  sh('ip', '-n', s.wire, 'addr', 'add', '10.9.0.1/24', 'dev', 'wire0');
  sh('ip', '-n', s.vm1, 'addr', 'add', '10.9.0.11/24', 'dev', 'eth0');
  sh('ip', '-n', s.vm2, 'addr', 'add', '10.9.0.12/24', 'dev', 'eth0');
  sh('ip', '-n', s.wire, 'neigh', 'add', '10.9.0.11', 'lladdr', VM1_MAC, 'dev', 'wire0');
  sh('ip', '-n', s.wire, 'neigh', 'add', '10.9.0.12', 'lladdr', VM2_MAC, 'dev', 'wire0');
  sh('ip', '-n', s.wire, 'neigh', 'add', '10.9.0.13', 'lladdr', '02:00:00:00:03:03', 'dev', 'wire0');
  for (const vm of [s.vm1, s.vm2]) sh('ip', '-n', vm, 'neigh', 'add', '10.9.0.1', 'lladdr', PEER_MAC, 'dev', 'eth0');
  topo.xdpPass(s.wire, 'wire0');
  topo.xdpPass(s.vm1, 'eth0');
  topo.xdpPass(s.vm2, 'eth0');
  return s;
}

/** The desired state for buildSwitch: both VMs untagged, anti-spoof on. */
export const SWITCH_DESIRED = {
  ports: [
    { device: 'p1', mac: VM1_MAC },
    { device: 'p2', mac: VM2_MAC },
  ],
  fdb: [
    { mac: VM1_MAC, port: 'p1' },
    { mac: VM2_MAC, port: 'p2' },
  ],
  esp: [{ daddr: '10.9.0.11', spi: 0x1001 }],
};

/** Replies received by `ping -c count -i interval` from ns to addr. */
export function pingReplies(topo: Topology, ns: string, addr: string, count = 3, interval = '0.2'): number {
  let out: string;
  try {
    out = topo.exec(ns, 'ping', '-q', '-c', String(count), '-i', interval, '-W', '1', addr);
  } catch (e) {
    out = String((e as { stdout?: string }).stdout ?? '');
  }
  const m = /(\d+) received/.exec(out);
  return m ? Number(m[1]) : 0;
}
