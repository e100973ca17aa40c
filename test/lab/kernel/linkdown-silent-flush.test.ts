// Regression test for a kernel fact the daemon exists to handle: setting the
// offload device down deletes every SA offloaded to it and sends no XFRM
// notification (xfrm_dev_state_flush only writes an audit record).
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type LabRun } from '../harness/scenario.js';


describe('offload device down (lab kernel)', () => {
  let run: LabRun;
  beforeAll(async () => {
    run = (await runInLab('linkdown-silent-flush', scenarioScript(import.meta.url, 'linkdown-silent-flush.sh'), { timeoutMs: 300_000 })).expectSuccess();
  });

  it('deletes every SA offloaded to the device, and only those', () => {
    const c = run.json<{ before: number; after: number; afterUp: number; tableAfter: number }>('counts');
    expect(c.before).toBe(3);
    expect(c.after).toBe(1);
    expect(c.tableAfter).toBe(0);
    expect(run.file('results/remaining.txt')).toMatch(/spi 0x00000300/);
  });

  it('does not bring them back on link up', () => {
    expect(run.json<{ afterUp: number }>('counts').afterUp).toBe(1);
  });

  it('sends no XFRM notification for the deleted SAs', () => {
    const mon = run.file('results/monitor.txt');
    // The monitor saw the control SAs before and after the link went down ...
    expect(mon).toMatch(/spi 0x00000999/);
    expect(mon).toMatch(/spi 0x00000998/);
    // ... but nothing about the two offloaded SAs the kernel deleted.
    expect(mon).not.toMatch(/spi 0x00000100/);
    expect(mon).not.toMatch(/spi 0x00000101/);
  });
});
