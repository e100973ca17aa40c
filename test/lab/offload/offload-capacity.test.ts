// Issue 5, scenario 3 (lab): 20 CHILD_SAs on one 33-slot port.
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type LabRun } from '../harness/scenario.js';
import type { DeviceRow } from '../../../src/daemon/views.js';
import { events, type KeyAudit, type SaRow } from './support.js';

const byChild = (rows: SaRow[]): Map<string, SaRow[]> => {
  const m = new Map<string, SaRow[]>();
  for (const r of rows) m.set(r.child, [...(m.get(r.child) ?? []), r]);
  return m;
};

describe('offload: more SAs than the device has slots', () => {
  let run: LabRun;
  let full: SaRow[];
  beforeAll(async () => {
    run = (await runInLab('offload-capacity', scenarioScript(import.meta.url, 'offload-capacity.sh'), { timeoutMs: 900_000 })).expectSuccess();
    full = run.json<SaRow[]>('full');
  });

  it('all 20 CHILD_SAs are up in charon', () => {
    expect(run.json<{ installed: number }>('charon').installed).toBe(20);
    expect(full).toHaveLength(40);
  });

  it("the device's table is full: 33 offloaded, the other 7 in software for capacity", () => {
    expect(full.filter((r) => r.state === 'offloaded')).toHaveLength(33);
    const soft = full.filter((r) => r.state === 'software');
    expect(soft).toHaveLength(7);
    for (const r of soft) expect(r.reason).toBe('capacity');
    expect(run.json<{ count: number }>('nsim-full').count).toBe(33);
  });

  it('whole pairs first: at most one CHILD_SA is split between hardware and software', () => {
    const split = [...byChild(full).values()].filter((sas) => new Set(sas.map((s) => s.state)).size > 1);
    expect(split.length).toBeLessThanOrEqual(1);
    expect([...byChild(full).values()].filter((sas) => sas.every((s) => s.state === 'offloaded'))).toHaveLength(16);
  });

  it('learned the table size from ENOSPC and says so', () => {
    const dev = run.json<DeviceRow[]>('devices').find((d) => d.name === 'nsim0');
    expect(dev).toMatchObject({ capacity: 33, capacitySource: 'learned', offloaded: 33 });
    expect(events(run.file('logs/offload-A.log'), 'device.capacity')).toEqual([expect.objectContaining({ dev: 'nsim0', capacity: 33 })]);
    // the SA that hit ENOSPC went straight back to software
    const fb = events(run.file('logs/offload-A.log'), 'sa.fallback');
    expect(fb.length).toBeGreaterThanOrEqual(1);
    expect(fb[0]).toMatchObject({ reason: 'capacity', errno: 'ENOSPC', kernel: 'Device failed to offload this state' });
  });

  it('terminating two offloaded CHILD_SAs promotes software SAs into the freed slots', () => {
    const freed = run.json<SaRow[]>('freed');
    expect(freed).toHaveLength(36);
    expect(freed.filter((r) => r.state === 'offloaded')).toHaveLength(33);
    expect(freed.filter((r) => r.state === 'software')).toHaveLength(3);
    expect(run.json<{ count: number }>('nsim-freed').count).toBe(33);
    // some that were in software before are offloaded now
    const wasSoft = new Set(full.filter((r) => r.state === 'software').map((r) => r.spi));
    expect(freed.filter((r) => wasSoft.has(r.spi) && r.state === 'offloaded').length).toBeGreaterThanOrEqual(3);
  });

  it('no key appears in any log or CLI output', () => {
    expect(run.json<KeyAudit>('keys').leaks).toBe('');
  });
});
