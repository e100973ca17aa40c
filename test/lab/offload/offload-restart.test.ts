// Issue 5, scenario 7 (lab): daemon restart -> no SA churn; charon restart ->
// resync, nothing resurrected or lost.
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type LabRun } from '../harness/scenario.js';
import { events, type Captured, type KeyAudit, type SaRow } from './support.js';

describe('offload: restarts of the daemon and of charon', () => {
  let run: LabRun;
  beforeAll(async () => {
    run = (await runInLab('offload-restart', scenarioScript(import.meta.url, 'offload-restart.sh'), { timeoutMs: 1_200_000 })).expectSuccess();
  });

  it('a restarted daemon adopts the offloaded SAs without touching them', () => {
    const before = run.json<SaRow[]>('before');
    const after = run.json<SaRow[]>('after-daemon');
    expect(after.map((r) => [r.spi, r.state, r.dev])).toEqual(before.map((r) => [r.spi, r.state, r.dev]));
    expect(run.json<{ count: number }>('nsim-after-daemon').count).toBe(2);
    const log = run.file('results/daemon-restart.log');
    for (const e of ['sa.swap', 'sa.offloaded', 'sa.demoted', 'sa.reinstalled', 'sa.removed', 'sa.fallback']) expect(events(log, e)).toEqual([]);
    expect(events(log, 'daemon.started')).toHaveLength(1);
  });

  it('charon stopping deletes its SAs and the daemon resurrects none', () => {
    expect(run.json<{ states: number }>('kernel-charon-down').states).toBe(0);
    expect(run.json<{ states: number }>('kernel-charon-up').states).toBe(0);
    expect(run.json<SaRow[]>('after-charon')).toEqual([]);
    const log = run.file('logs/offload-A.log');
    expect(events(log, 'vici.reconnected').length).toBeGreaterThanOrEqual(1);
    expect(events(log, 'sa.reinstalled')).toEqual([]);
  });

  it('after charon is back, a new CHILD_SA is offloaded and works: nothing lost', () => {
    const r = run.json<SaRow[]>('reinitiated');
    expect(r.map((x) => x.state)).toEqual(['offloaded', 'offloaded']);
    expect(run.json<Captured>('ping').out).toMatch(/3 packets transmitted, 3 received/);
  });

  it('charon crashing leaves its SAs in the kernel; the daemon stops managing them and deletes nothing', () => {
    expect(run.json<SaRow[]>('after-crash')).toEqual([]);
    expect(run.json<{ states: number }>('kernel-after-crash').states).toBe(2);
    expect(events(run.file('logs/offload-A.log'), 'sa.removed')).toEqual([]);
  });

  it('no key appears in any log or CLI output', () => {
    expect(run.json<KeyAudit>('keys').leaks).toBe('');
  });
});
