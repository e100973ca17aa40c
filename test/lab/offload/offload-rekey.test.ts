// Issue 5, scenario 5 (lab): ten rekeys -> new SAs promoted, old ones gone,
// hardware slot count stable.
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type LabRun } from '../harness/scenario.js';
import { events, type KeyAudit, type SaRow } from './support.js';

describe('offload: SAs follow ten rekeys', () => {
  let run: LabRun;
  beforeAll(async () => {
    run = (await runInLab('offload-rekey', scenarioScript(import.meta.url, 'offload-rekey.sh'), { timeoutMs: 900_000 })).expectSuccess();
  });

  it('ten rekeys happened', () => {
    const r = run.json<{ first: number; last: number }>('rekeys');
    expect(r.last).toBeGreaterThan(r.first);
    expect(run.file('results/slots.txt').split('\n').filter((l) => l.includes('settled'))).toHaveLength(10);
  });

  it('the current CHILD_SA is offloaded; nothing of the old ones is left', () => {
    const final = run.json<SaRow[]>('final');
    expect(final).toHaveLength(2);
    for (const r of final) expect(r).toMatchObject({ child: 'gcm', state: 'offloaded', dev: 'nsim0' });
    expect(final[0]?.uniqueid).toBe(run.json<{ last: number }>('rekeys').last);
    expect(run.json<{ states: number }>('kernel').states).toBe(2);
    expect(run.json<{ count: number }>('nsim-final').count).toBe(2);
  });

  it('every new CHILD_SA was promoted (two sa.offloaded each), none reinstalled or removed by us', () => {
    const log = run.file('logs/offload-A.log');
    const off = events(log, 'sa.offloaded');
    const children = new Set(off.map((e) => e.uniqueid));
    expect(children.size).toBe(11);
    for (const id of children) expect(off.filter((e) => e.uniqueid === id)).toHaveLength(2);
    // charon deletes the old SAs; the daemon neither resurrects nor races it
    expect(events(log, 'sa.reinstalled')).toEqual([]);
    expect(events(log, 'sa.removed')).toEqual([]);
  });

  it('the hardware slot count is bounded while a rekey overlaps and back to 2 after each one', () => {
    const lines = run.file('results/slots.txt').split('\n').filter(Boolean);
    const promoted = lines.filter((l) => l.includes('promoted')).map((l) => Number(l.split(' ')[2]));
    const settled = lines.filter((l) => l.includes('settled')).map((l) => Number(l.split(' ')[2]));
    expect(settled).toEqual(Array.from({ length: 10 }, () => 2));
    for (const n of promoted) expect(n).toBeLessThanOrEqual(4);
  });

  it('traffic kept flowing across the rekeys', () => {
    const m = /(\d+) packets transmitted, (\d+) received/.exec(run.file('results/ping.txt'));
    expect(m).not.toBeNull();
    const [sent, got] = [Number(m?.[1]), Number(m?.[2])];
    expect(got / sent).toBeGreaterThan(0.9);
  });

  it('no key appears in any log or CLI output', () => {
    expect(run.json<KeyAudit>('keys').leaks).toBe('');
  });
});
