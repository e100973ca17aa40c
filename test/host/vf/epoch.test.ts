// The agent's epoch source on this host's kernel: charon's process, found
// through its VICI socket (SO_PEERCRED) and /proc. It must be the same on
// every read while charon runs (VICI's stats.uptime.since is not: see
// src/vf/agent/epoch.ts) and change when charon restarts.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Charon, Netns } from '../vici/support/charon.js';
import { charonProcess } from '../../../src/vf/agent/epoch.js';

let ns: Netns;
let charon: Charon;

beforeAll(async () => {
  ns = Netns.create('vfep');
  charon = new Charon({ name: 'ep', netns: ns, datapath: 'libipsec', swanctlConf: 'connections {\n}\n' });
  await charon.start();
}, 60_000);

afterAll(async () => {
  await charon?.destroy();
  ns?.delete();
});

describe('charonProcess', () => {
  it("names charon's process (pid and start time), the same on every read", async () => {
    const a = await charonProcess(charon.socketPath);
    expect(a).toMatch(/^pid \d+ start \d+$/);
    const pid = Number(/^pid (\d+)/.exec(a as string)?.[1]);
    expect(readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('charon');
    for (let i = 0; i < 5; i++) expect(await charonProcess(charon.socketPath)).toBe(a);
  });

  it('changes when charon restarts', async () => {
    const before = await charonProcess(charon.socketPath);
    await charon.stop();
    expect(await charonProcess(charon.socketPath)).toBeUndefined();
    await charon.start();
    const after = await charonProcess(charon.socketPath);
    expect(after).toMatch(/^pid \d+ start \d+$/);
    expect(after).not.toBe(before);
  }, 60_000);

  it('nothing listening: undefined', async () => {
    expect(await charonProcess('/nonexistent/charon.vici', 1000)).toBeUndefined();
  });
});
