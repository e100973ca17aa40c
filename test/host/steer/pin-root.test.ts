// Where pins can live, from inside `ip netns exec` (a mount namespace of its
// own with a fresh sysfs, so no bpffs on /sys/fs/bpf): mounting bpffs there
// would make a private instance that vanishes with the process and leaves
// the programs attached with no pins; it is refused with the reason. A
// bpffs mounted beforehand in the host's mount namespace is inherited (the
// same instance): pins made through it are seen from outside.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Topology } from './fixture.js';

interface Probe {
  ok: boolean;
  /** PID 1's mount namespace against the probe's: 'other' on a plain kernel, 'unknown' where a sandbox hides PID 1's */
  mountNs: string;
  name?: string;
  message?: string;
}

const topo = new Topology();
let ns: string;
const probe = (root?: string): Probe => {
  const script = join(import.meta.dirname, 'pin-root-probe.ts');
  const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', script, ...(root ? [root] : [])], { encoding: 'utf8' });
  return JSON.parse(out) as Probe;
};

beforeAll(() => {
  ns = topo.ns('pin');
});
afterAll(() => topo.cleanup());

describe('pin root from inside ip netns exec', () => {
  it('the default pin root: no bpffs there, and mounting one would not outlive the daemon: refused, with what to do instead', () => {
    const p = probe();
    expect(p).toMatchObject({ ok: false, name: 'SteerPinError' });
    expect(p.mountNs).not.toBe('same');
    expect(p.message).toMatch(/^\/sys\/fs\/bpf\/ipsec-offload: not on a bpf filesystem, and this process is not (provably )?in PID 1's mount namespace/);
    expect(p.message).toMatch(/set netns: in the config/);
  });

  it('a pin root on a bpffs mounted before (the same instance): accepted, and what it creates is seen from the host', () => {
    const mounted = topo.pinRoot();
    mkdirSync(join(mounted, 'outside'));
    const root = join(mounted, 'ipsec-offload');
    expect(existsSync(root)).toBe(false);
    expect(probe(root)).toMatchObject({ ok: true });
    expect(existsSync(root)).toBe(true);
  });
});
