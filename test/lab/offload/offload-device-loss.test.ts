// Issue 5, scenario 4 (lab): offload device down with traffic -> SAs back in
// software within 1 s, traffic resumes; device up -> re-promoted.
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type LabRun } from '../harness/scenario.js';
import { events, type KeyAudit, type SaRow } from './support.js';

interface Times {
  down: number;
  software: number;
  up: number;
  offloaded: number;
}

/** Reply timestamps (seconds) of `ping -D`. */
function replies(text: string): number[] {
  return [...text.matchAll(/^\[(\d+\.\d+)\] \d+ bytes from/gm)].map((m) => Number(m[1]));
}

describe('offload: the offload device goes down and up under traffic', () => {
  let run: LabRun;
  let t: Times;
  let log: string;
  beforeAll(async () => {
    run = (await runInLab('offload-device-loss', scenarioScript(import.meta.url, 'offload-device-loss.sh'), { timeoutMs: 600_000 })).expectSuccess();
    t = run.json<Times>('times');
    log = run.file('logs/offload-A.log');
  });

  it('starts offloaded', () => {
    const before = run.json<SaRow[]>('before');
    expect(before.map((r) => r.state)).toEqual(['offloaded', 'offloaded']);
  });

  it('notices the silent loss from rtnetlink and reinstalls both SAs in software within 1 s', () => {
    const down = events(log, 'device.down');
    expect(down).toEqual([expect.objectContaining({ dev: 'nsim0', lostSas: 2 })]);
    const noticed = Date.parse(String(down[0]?.time)) / 1000;
    const re = events(log, 'sa.reinstalled');
    expect(re).toHaveLength(2);
    // outbound first: without it every packet sent is lost
    expect(re[0]?.dir).toBe('out');
    for (const e of re) {
      expect(e).toMatchObject({ reason: 'device-loss' });
      const at = Date.parse(String(e.time)) / 1000;
      // The daemon's own reaction, from the rtnetlink event: under 1 s.
      expect(at - noticed).toBeLessThan(1);
      // End to end from `ip link set down` (its process start and the kernel's
      // notification included): TCG on a shared 2-core machine, so looser.
      expect(at - t.down).toBeLessThan(3);
    }
    console.log(`device loss: noticed ${(noticed - t.down).toFixed(2)} s after the link went down, software again ${(Math.max(...re.map((e) => Date.parse(String(e.time)) / 1000)) - t.down).toFixed(2)} s after (TCG)`);
    // the reinstalled copies are software SAs the kernel has again
    expect(run.file('results/xfrm-down.xfrm').match(/^src /gm)).toHaveLength(2);
    expect(run.file('results/xfrm-down.xfrm')).not.toMatch(/crypto offload/);
    const down2 = run.json<SaRow[]>('down');
    for (const r of down2) expect(r).toMatchObject({ state: 'software', reason: 'device-down' });
  });

  it('outbound sequence numbers moved forward past anything the lost copy may have sent', () => {
    const out = events(log, 'sa.reinstalled').find((e) => e.dir === 'out');
    expect(Number(out?.margin)).toBeGreaterThan(0);
  });

  it('traffic resumes: replies come back within a second of the reinstall', () => {
    const r = replies(run.file('results/ping.txt'));
    const afterReinstall = r.filter((x) => x > t.down && x < t.down + 1.5);
    expect(afterReinstall.length).toBeGreaterThan(0);
    // and replies keep coming while the device is down
    expect(r.filter((x) => x > t.software && x < t.up).length).toBeGreaterThanOrEqual(15);
  });

  it('re-promotes both SAs when the device is back', () => {
    expect(events(log, 'device.up')).toEqual([expect.objectContaining({ dev: 'nsim0' })]);
    const after = run.json<SaRow[]>('after');
    for (const r of after) expect(r).toMatchObject({ state: 'offloaded', dev: 'nsim0' });
    expect(run.json<{ count: number }>('nsim').count).toBe(2);
    // replies after re-promotion
    expect(replies(run.file('results/ping.txt')).filter((x) => x > t.offloaded).length).toBeGreaterThan(5);
  });

  it('no key appears in any log or CLI output', () => {
    expect(run.json<KeyAudit>('keys').leaks).toBe('');
  });
});
