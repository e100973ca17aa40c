// XDP steering on real 802.1Q sub-interfaces in the Debian 6.1 lab kernel:
// VLAN + MAC steering with real traffic (tags popped and pushed), VLAN miss,
// egress anti-spoof and VLAN-hopping drops, VLAN RX offload detection, a
// daemon restart under a ping flood, generic fallback on a VLAN device, the
// host suite's BPF_PROG_TEST_RUN table on this kernel, and detach.
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type Captured, type LabRun } from '../harness/scenario.js';
import type { SteerAttachReport, SteerDetachReport, SteerReconcileReport } from '../../../src/steer/steering.js';
import type { SteerListView, SteerStatusView } from '../../../src/steer/views.js';
import type { VlanOffloadReport } from '../../../src/steer/vlan-offload.js';

interface Listing {
  status: SteerStatusView;
  list: SteerListView;
}
interface Lifetime {
  attach: SteerAttachReport;
  reconcile: SteerReconcileReport;
  list: SteerListView;
}

const M1 = '02:00:00:00:01:01';
const M2 = '02:00:00:00:02:02';

let run: LabRun;
beforeAll(async () => {
  run = (await runInLab('steer-vlan', scenarioScript(import.meta.url, 'vlan.sh'), { timeoutMs: 1_500_000 })).expectSuccess();
});

const received = (c: Captured): number => Number(/(\d+) received/.exec(c.out)?.[1] ?? -1);
const fdb = (l: Listing, mac: string, vlan: number): number => l.list.fdb.find((f) => f.mac === mac && f.vlan === vlan)?.packets ?? -1;
const port = (l: Listing, dev: string): SteerListView['ports'][number]['counters'] => {
  const p = l.list.ports.find((x) => x.device === dev);
  if (!p) throw new Error(`no port ${dev}`);
  return p.counters;
};

describe('XDP steering on 802.1Q (Debian 6.1)', () => {
  it('loads on the 6.1 verifier, attaches natively to the veth uplink, installs the desired state', () => {
    const start = run.json<Lifetime>('start');
    expect(start.attach).toMatchObject({ action: 'attached', mode: 'native' });
    expect(start.reconcile.issues).toEqual([]);
    expect(start.list.fdb.map((f) => [f.mac, f.vlan, f.port, f.strip])).toEqual([
      [M1, 100, 'p1', true],
      [M2, 200, 'p2', false],
    ]);
  });

  it('detects VLAN RX offload on the uplink: warns, turns it off when told, then finds it off', () => {
    const r = run.json<{ warn: VlanOffloadReport; disable: VlanOffloadReport; again: VlanOffloadReport }>('vlan_offload');
    expect(r.warn).toMatchObject({ action: 'warn', before: { active: true, fixed: false } });
    expect(r.disable).toMatchObject({ action: 'disabled', after: { active: false } });
    expect(r.again.action).toBe('ok');
    expect(run.json<Captured>('offload_now').out).toMatch(/rx-vlan-offload: off/);
  });

  it('a sender with tx-vlan-offload on (veth default) hides the tag from XDP: not steered', () => {
    expect(received(run.json<Captured>('ping_oob'))).toBe(0);
    const l = run.json<Listing>('after_oob');
    expect(l.status.verdicts.redirect.packets).toBe(0);
    expect(l.status.verdicts.passFdbMiss.packets).toBeGreaterThanOrEqual(3);
    expect(fdb(l, M1, 100)).toBe(0);
  });

  it('tagged frames are steered by VLAN + MAC: popped toward the access port, kept toward the trunk, pushed back', () => {
    expect(received(run.json<Captured>('ping100'))).toBe(5);
    expect(received(run.json<Captured>('ping200'))).toBe(5);
    expect(received(run.json<Captured>('ping_from_v1'))).toBe(3);
    const a = run.json<Listing>('after_oob');
    const b = run.json<Listing>('after_tagged');
    // 5 requests of ping100 + 3 replies to v1's pings; 5 requests to v2
    expect(fdb(b, M1, 100) - fdb(a, M1, 100)).toBe(8);
    expect(fdb(b, M2, 200) - fdb(a, M2, 200)).toBe(5);
    expect(port(b, 'p1').rxPackets - port(a, 'p1').rxPackets).toBe(8);
    expect(port(b, 'p1').txPackets - port(a, 'p1').txPackets).toBe(8);
    expect(port(b, 'p2').txPackets - port(a, 'p2').txPackets).toBe(5);
  });

  it('the right MAC on the wrong VLAN is not steered', () => {
    expect(received(run.json<Captured>('ping101'))).toBe(0);
    const a = run.json<Listing>('after_oob');
    const b = run.json<Listing>('after_tagged');
    expect(b.status.verdicts.passFdbMiss.packets - a.status.verdicts.passFdbMiss.packets).toBeGreaterThanOrEqual(2);
  });

  it('egress drops and counts a spoofed source MAC and a tagged frame from an access port', () => {
    expect(received(run.json<Captured>('ping_spoof'))).toBe(0);
    expect(received(run.json<Captured>('ping_hop'))).toBe(0);
    expect(received(run.json<Captured>('ping_after_abuse'))).toBe(2);
    const a = run.json<Listing>('after_tagged');
    const b = run.json<Listing>('after_abuse');
    expect(port(b, 'p1').spoofed - port(a, 'p1').spoofed).toBe(3);
    expect(port(b, 'p1').tagged - port(a, 'p1').tagged).toBe(3);
    expect(b.status.verdicts.egressSpoof.packets - a.status.verdicts.egressSpoof.packets).toBe(3);
    expect(b.status.verdicts.egressTagged.packets - a.status.verdicts.egressTagged.packets).toBe(3);
  });

  it('a daemon restart under a ping flood keeps the programs and entries and loses nothing', () => {
    const start = run.json<Lifetime>('start');
    const again = run.json<Lifetime>('restart');
    expect(again.attach).toMatchObject({ action: 'kept', programId: start.attach.programId, egressProgramId: start.attach.egressProgramId });
    expect(again.attach.reusedMaps).toHaveLength(6);
    expect(again.reconcile.applied).toEqual([]);
    const flood = run.json<{ sent: number; received: number; rounds: number }>('flood');
    expect(flood.rounds).toBeGreaterThanOrEqual(2); // pings ran before, during and after
    expect(flood.sent).toBeGreaterThanOrEqual(100);
    expect(flood.received).toBe(flood.sent);
  });

  it('falls back to generic XDP on an 802.1Q device and reports it', () => {
    expect(run.json<SteerAttachReport>('generic')).toMatchObject({ mode: 'generic', action: 'attached' });
    expect(run.json<SteerDetachReport>('generic_detach')).toMatchObject({ uplinkXdp: 'detached', pinsLeft: [] });
  });

  it('the host suite\'s BPF_PROG_TEST_RUN table passes on this kernel', () => {
    const t = run.json<{ issues: unknown[]; results: { name: string; ok: boolean; got: unknown; want: unknown }[] }>('table');
    expect(t.issues).toEqual([]);
    expect(t.results.length).toBeGreaterThan(60);
    expect(t.results.filter((r) => !r.ok)).toEqual([]);
  });

  it('steer detach removes the programs from the uplink and ports and all pins', () => {
    const d = run.json<SteerDetachReport>('detach');
    expect(d).toMatchObject({ found: true, uplinkXdp: 'detached', pinsLeft: [] });
    expect(d.portsDetached).toHaveLength(2);
    expect(d.pinsRemoved).toHaveLength(9);
    expect(run.json<Captured>('links_after').out).not.toMatch(/prog\/xdp/);
  });
});
