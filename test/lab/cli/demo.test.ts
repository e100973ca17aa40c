// `npm run demo` as a test: the same guest script (scripts/demo/guest.sh) in
// a fresh VM; its summary (computed from the daemon's log, the ping and the
// key audit) must show what the README says the demo proves.
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, type LabRun } from '../harness/scenario.js';
import { expectNoKeyLeaks } from '../harness/key-audit.js';

interface Summary {
  installed: number;
  offloaded: number;
  deviceDown: { lostSas: number; reinstalled: number; ms: number | null } | null;
  deviceUp: { reoffloaded: number; ms: number | null } | null;
  demoted: number;
  swaps: { count: number; minGapMs: number; maxGapMs: number; finalStates: string[] };
  ping: { sent: number; received: number } | null;
}

describe('the demo', () => {
  let run: LabRun;
  let s: Summary;
  beforeAll(async () => {
    const script = `DEMO_COLOR=never\n${readFileSync(new URL('../../../scripts/demo/guest.sh', import.meta.url), 'utf8')}`;
    run = (await runInLab('demo', script, { timeoutMs: 1_700_000 })).expectSuccess();
    s = run.json<Summary>('summary');
  });

  it('narrates every step and ends with the summary', () => {
    for (const h of ['== 1. Two hosts', '== 2. charon brings up a CHILD_SA', '== 3. nsim0 goes down', '== 4. An operator pins', '== 5. What the log says', '== Summary']) {
      expect(run.output).toContain(h);
    }
    expect(run.text('summary')).toMatch(/nsim0 down: the kernel silently dropped 2 offloaded SAs/);
  });

  it('offloads the CHILD_SA, survives the device going down and re-offloads it when it is back', () => {
    expect(s.installed).toBe(2);
    expect(s.deviceDown).toMatchObject({ lostSas: 2, reinstalled: 2 });
    expect(s.deviceUp).toMatchObject({ reoffloaded: 2 });
    expect(s.demoted).toBe(2);
  });

  it('every swap carried the final replay state from the kernel', () => {
    expect(s.swaps.count).toBeGreaterThanOrEqual(6); // 2 promotions, 2 after the device is back, 2 demotions, 2 promotions
    expect(s.swaps.finalStates).toEqual(['delsa']);
  });

  it('the ping kept flowing apart from the gap', () => {
    expect(s.ping?.sent).toBeGreaterThan(20);
    expect((s.ping?.received ?? 0) / (s.ping?.sent ?? 1)).toBeGreaterThan(0.6);
  });

  it('no key in any log or output file', () => {
    expectNoKeyLeaks(run, 'keys', 2);
  });
});
