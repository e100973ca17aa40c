// Issue 5, scenario 2 (lab): an ESN CHILD_SA stays in software with reason
// esn-unsupported (netdevsim 6.1 has no ESN offload), and the tunnel works.
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type LabRun } from '../harness/scenario.js';
import type { DeviceRow } from '../../../src/daemon/views.js';
import { events, type Captured, type KeyAudit, type SaRow } from './support.js';

describe('offload: ESN on a device without ESN offload', () => {
  let run: LabRun;
  beforeAll(async () => {
    run = (await runInLab('offload-esn', scenarioScript(import.meta.url, 'offload-esn.sh'), { timeoutMs: 600_000 })).expectSuccess();
  });

  it('charon brings the ESN CHILD_SA up (hw_offload = no)', () => {
    expect(run.json<Captured>('initiate').rc).toBe(0);
    expect(run.file('results/xfrm-a.xfrm')).toMatch(/flag esn/);
  });

  it('both SAs stay in software, reason esn-unsupported', () => {
    const sas = run.json<SaRow[]>('sas');
    expect(sas).toHaveLength(2);
    for (const r of sas) expect(r).toMatchObject({ child: 'gcm-esn', state: 'software', reason: 'esn-unsupported', esn: true });
    expect(run.file('results/xfrm-a.xfrm')).not.toMatch(/crypto offload parameters/);
    expect(run.json<{ count: number }>('nsim').count).toBe(0);
  });

  it('the daemon learned it by probing the device with a throwaway SA, not by breaking the tunnel', () => {
    const dev = run.json<DeviceRow[]>('devices').find((d) => d.name === 'nsim0');
    expect(dev?.esn).toBe('unsupported');
    const log = run.file('logs/offload-A.log');
    expect(events(log, 'device.probed')).toEqual([expect.objectContaining({ dev: 'nsim0', esn: 'unsupported' })]);
    expect(events(log, 'sa.swap')).toHaveLength(0);
  });

  it('the tunnel works', () => {
    expect(run.json<Captured>('ping').out).toMatch(/5 packets transmitted, 5 received/);
  });

  it('no key appears in any log or CLI output', () => {
    expect(run.json<KeyAudit>('keys').leaks).toBe('');
  });
});
