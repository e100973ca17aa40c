// Steering entries from SR-IOV VF info read on the PF (netdevsim, Debian 6.1):
// each VF's MAC + VLAN as configured on the PF steers to the VF's switchdev
// representor, with anti-spoof on the VF's MAC and its VLAN as the port's
// access VLAN; a VF without a MAC is skipped. netdevsim carries no traffic,
// so this proves the control plane against real VF reporting and real
// attach behaviour (native on the PF, generic on representors).
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type LabRun } from '../harness/scenario.js';
import type { SteerAttachReport, SteerDetachReport, SteerReconcileReport } from '../../../src/steer/steering.js';
import type { SteerListView } from '../../../src/steer/views.js';

interface VfResult {
  vfs: { vf: number; mac: string; vlan: number }[];
  skipped: { vf: number; reason: string }[];
  attach: SteerAttachReport;
  reconcile: SteerReconcileReport;
  again: SteerReconcileReport;
  list: SteerListView;
}

let run: LabRun;
let reps: { pf: string; rep0: string; rep1: string; rep2: string };
let r: VfResult;
beforeAll(async () => {
  run = (await runInLab('steer-vf', scenarioScript(import.meta.url, 'vf.sh'), { timeoutMs: 900_000 })).expectSuccess();
  reps = run.json('reps');
  r = run.json<VfResult>('vf');
});

describe('steering from VF info on the PF (netdevsim, switchdev representors)', () => {
  it('reads the VFs as the PF configured them', () => {
    expect(r.vfs.map((v) => [v.vf, v.mac, v.vlan])).toEqual([
      [0, '02:00:00:00:0a:00', 100],
      [1, '02:00:00:00:0a:01', 0],
      [2, '00:00:00:00:00:00', 0],
    ]);
    expect(r.skipped).toEqual([{ vf: 2, reason: 'no MAC set on the PF' }]);
  });

  it('attaches natively to the PF and generically to the representors (no native XDP there)', () => {
    expect(r.attach).toMatchObject({ mode: 'native', action: 'attached' });
    expect(r.reconcile.issues).toEqual([]);
    const attached = r.reconcile.applied.filter((a) => a.op.op === 'port-attach').map((a) => [a.op.op === 'port-attach' ? a.op.device : '', a.mode]);
    expect(attached).toEqual([
      [reps.rep0, 'generic'],
      [reps.rep1, 'generic'],
    ]);
    expect(r.again.applied).toEqual([]);
  });

  it('one entry and one port per VF: VF MAC + VLAN -> representor, anti-spoof and access VLAN from the VF', () => {
    expect(r.list.fdb.map((f) => [f.mac, f.vlan, f.port, f.origin, f.strip])).toEqual([
      ['02:00:00:00:0a:01', 0, reps.rep1, 'vf', false],
      ['02:00:00:00:0a:00', 100, reps.rep0, 'vf', true],
    ]);
    expect(r.list.ports.map((p) => [p.device, p.mac, p.vlan, p.xdp])).toEqual([
      [reps.rep0, '02:00:00:00:0a:00', 100, 'ours'],
      [reps.rep1, '02:00:00:00:0a:01', 0, 'ours'],
    ]);
    expect(r.list.esp).toMatchObject([{ vlan: 100, daddr: '10.100.0.1', spi: 0x4242 }]);
  });

  it('a VF reset on the PF (new MAC and VLAN, or MAC cleared): nothing of its old settings stays in the maps', () => {
    const after = run.json<VfResult>('vf_reset');
    expect(after.vfs.map((v) => [v.vf, v.mac, v.vlan])).toEqual([
      [0, '02:00:00:00:0b:00', 200],
      [1, '00:00:00:00:00:00', 0],
      [2, '00:00:00:00:00:00', 0],
    ]);
    expect(after.reconcile.issues).toEqual([]);
    const deleted = after.reconcile.applied.flatMap((a) => (a.op.op === 'fdb-delete' ? [[a.op.key.mac, a.op.key.vlan]] : []));
    expect(deleted.sort()).toEqual([
      ['02:00:00:00:0a:00', 100],
      ['02:00:00:00:0a:01', 0],
    ]);
    expect(after.list.fdb.map((f) => [f.mac, f.vlan, f.port, f.origin, f.strip])).toEqual([['02:00:00:00:0b:00', 200, reps.rep0, 'vf', true]]);
    expect(after.list.ports.map((p) => [p.device, p.mac, p.vlan])).toEqual([[reps.rep0, '02:00:00:00:0b:00', 200]]);
  });

  it('detach removes it all again', () => {
    expect(run.json<SteerDetachReport>('detach')).toMatchObject({ found: true, uplinkXdp: 'detached', pinsLeft: [] });
    // VF 1's port went with its MAC (the reset above): one port left to detach.
    expect(run.json<SteerDetachReport>('detach').portsDetached).toHaveLength(1);
  });
});
