// Issue 5, scenario 1 (lab): CHILD_SA up -> both SAs offloaded, `ip xfrm
// state` and the NIC's own table agree; a ping crosses the tunnel.
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type LabRun } from '../harness/scenario.js';
import { events, type Captured, type KeyAudit, type SaRow } from './support.js';

describe('offload: a CHILD_SA is moved onto the NIC', () => {
  let run: LabRun;
  let sas: SaRow[];
  beforeAll(async () => {
    run = (await runInLab('offload-basic', scenarioScript(import.meta.url, 'offload-basic.sh'), { timeoutMs: 600_000 })).expectSuccess();
    sas = run.json<SaRow[]>('sas');
  });

  it('both SAs of the CHILD_SA are offloaded to the device that owns the local address', () => {
    expect(sas).toHaveLength(2);
    for (const r of sas) {
      expect(r).toMatchObject({ conn: 'lab', child: 'gcm', state: 'offloaded', reason: 'offloaded', dev: 'nsim0', esn: false });
    }
    expect(sas.map((r) => r.dir).sort()).toEqual(['in', 'out']);
  });

  it('the kernel reports both with XFRMA_OFFLOAD_DEV on nsim0 (ip xfrm state)', () => {
    const x = run.file('results/xfrm-a.xfrm');
    expect(x.match(/crypto offload parameters: dev nsim0 dir out/g)).toHaveLength(1);
    expect(x.match(/crypto offload parameters: dev nsim0 dir in/g)).toHaveLength(1);
  });

  it("the NIC's own SA table holds exactly those two SPIs", () => {
    const t = run.text('nsim-table');
    expect(t).toMatch(/^SA count=2 /);
    for (const r of sas) expect(t).toContain(`spi=${r.spi}`);
  });

  it('a ping crosses the tunnel and the ESP counters move', () => {
    const p = run.json<Captured>('ping');
    expect(p.out).toMatch(/5 packets transmitted, 5 received/);
    expect(run.json<Captured>('counters').out).toMatch(/\d+\(bytes\), [5-9]\d*\(packets\)|\(bytes\), \d{2,}\(packets\)/);
  });

  it('logs sa.installed (software) then sa.offloaded for each SA, with the swap gap', () => {
    const log = run.file('logs/offload-A.log');
    expect(events(log, 'sa.installed')).toHaveLength(2);
    const off = events(log, 'sa.offloaded');
    expect(off).toHaveLength(2);
    for (const e of off) expect(e).toMatchObject({ dev: 'nsim0', conn: 'lab', child: 'gcm' });
    for (const e of events(log, 'sa.swap')) expect(e).toMatchObject({ op: 'promote', finalState: 'delsa' });
  });

  it('no key appears in any log or CLI output', () => {
    const a = run.json<KeyAudit>('keys');
    expect(a.keys).toBeGreaterThanOrEqual(2); // one key per SA; the peer holds the same two
    expect(a.leaks).toBe('');
  });
});
