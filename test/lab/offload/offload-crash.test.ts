// Issue 5, scenario 8 (lab): daemon killed mid-swap -> the tunnel recovers
// through a VICI-requested rekey.
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type LabRun } from '../harness/scenario.js';
import { events, type Captured, type KeyAudit, type SaRow } from './support.js';

describe('offload: the daemon dies between DELSA and NEWSA', () => {
  let run: LabRun;
  beforeAll(async () => {
    run = (await runInLab('offload-crash', scenarioScript(import.meta.url, 'offload-crash.sh'), { timeoutMs: 900_000 })).expectSuccess();
  });

  it('leaves one SA of the pair missing and the tunnel broken (the fault is real)', () => {
    expect(run.json<{ states: number }>('after-kill').states).toBe(1);
    expect(run.json<Captured>('ping-broken').rc).not.toBe(0);
  });

  it('the restarted daemon sees the SA is gone with its keys and asks charon to rekey', () => {
    const log = run.file('logs/offload-A.log');
    expect(events(log, 'sa.keys_lost')).toEqual([expect.objectContaining({ conn: 'lab', child: 'gcm', action: 'rekey' })]);
    expect(events(log, 'sa.rekey_requested')).toEqual([expect.objectContaining({ child: 'gcm', reason: 'keys-lost' })]);
  });

  it('the rekeyed CHILD_SA is offloaded and the tunnel works again', () => {
    const r = run.json<SaRow[]>('recovered');
    expect(r.map((x) => x.state)).toEqual(['offloaded', 'offloaded']);
    expect(r[0]?.uniqueid).toBeGreaterThan(1);
    expect(run.json<Captured>('ping').out).toMatch(/3 packets transmitted, 3 received/);
  });

  it('no key appears in any log or CLI output', () => {
    expect(run.json<KeyAudit>('keys').leaks).toBe('');
  });
});
