import { describe, expect, it } from 'vitest';
import {
  applyBusy,
  applyChildren,
  applyChildDown,
  applyChildRekey,
  applyDevice,
  applyForget,
  applyIkeDown,
  applyInstalled,
  applyKernelSa,
  applyKernelSnapshot,
  applyOffloadFailure,
  type ChildInfo,
  type KernelSaInfo,
} from '../../../src/offload/model.js';
import { emptyState, saKey } from '../../../src/offload/types.js';
import { plan } from '../../../src/offload/planner.js';
import { defaultPlannerConfig } from '../../../src/offload/policy.js';
import { GCM } from './builders.js';

const child = (uniqueid: number, spiIn: number, spiOut: number, over: Partial<ChildInfo> = {}): ChildInfo => ({
  uniqueid,
  reqid: uniqueid,
  name: 'gcm',
  ike: { name: 'lab', uniqueid: 1 },
  state: 'INSTALLED',
  mode: 'TRANSPORT',
  localAddr: '10.0.0.1',
  remoteAddr: '10.0.0.2',
  spiIn,
  spiOut,
  esn: false,
  encap: false,
  ...over,
});
const kernel = (daddr: string, saddr: string, spi: number, over: Partial<KernelSaInfo> = {}): KernelSaInfo => ({
  id: { daddr, spi, proto: 50, family: 2 },
  saddr,
  reqid: 1,
  shape: { esn: false, encap: false, aead: GCM, tfcpad: false, mode: 'transport' },
  bytes: 0n,
  packets: 0n,
  ...over,
});
const inKey = (spi: number) => saKey({ daddr: '10.0.0.1', spi, proto: 50, family: 2 });

describe('offload model reducers', () => {
  it('attributes kernel SAs to CHILD_SAs by SPI and direction, and ignores the rest', () => {
    const s = emptyState(1000);
    applyChildren(s, [child(7, 0xc1, 0xc2)], true);
    const sin = applyKernelSa(s, kernel('10.0.0.1', '10.0.0.2', 0xc1));
    const sout = applyKernelSa(s, kernel('10.0.0.2', '10.0.0.1', 0xc2));
    const foreign = applyKernelSa(s, kernel('10.0.0.9', '10.0.0.1', 0xdead));
    expect(sin?.dir).toBe('in');
    expect(sout?.dir).toBe('out');
    expect(foreign).toBeUndefined();
    expect(s.children.get('7')?.saIn).toBe(sin?.key);
    expect(s.sas.size).toBe(2);
  });

  it('kernel SAs seen before charon reports the child are linked when it does', () => {
    const s = emptyState(1000);
    expect(applyKernelSa(s, kernel('10.0.0.1', '10.0.0.2', 0xc1))).toBeUndefined();
    applyChildren(s, [child(7, 0xc1, 0xc2)], false);
    applyKernelSa(s, kernel('10.0.0.1', '10.0.0.2', 0xc1));
    expect(s.sas.get(inKey(0xc1))?.child).toBe('7');
  });

  it('a complete list-sas marks children it does not mention as gone; a partial one does not', () => {
    const s = emptyState(1);
    applyChildren(s, [child(1, 1, 2), child(2, 3, 4)], true);
    applyChildren(s, [child(3, 5, 6)], false);
    expect([...s.children.values()].filter((c) => c.gone)).toHaveLength(0);
    applyChildren(s, [child(2, 3, 4)], true);
    expect(s.children.get('1')?.gone).toBe(true);
    expect(s.children.get('1')?.goneReason).toBe('vanished');
    expect(s.children.get('3')?.gone).toBe(true);
    expect(s.children.get('2')?.gone).toBe(false);
  });

  it('CHILD_SAs that are not installed are not managed', () => {
    const s = emptyState(1);
    applyChildren(s, [child(1, 1, 2, { state: 'CREATED' }), child(2, 3, 4, { state: 'REKEYED' })], true);
    expect(s.children.size).toBe(0);
  });

  it('child down, IKE down and child rekey mark the right children gone', () => {
    const s = emptyState(1);
    applyChildren(s, [child(1, 1, 2), child(2, 3, 4, { ike: { name: 'other', uniqueid: 9 } })], true);
    applyChildDown(s, 1);
    expect(s.children.get('1')?.gone).toBe(true);
    expect(s.children.get('1')?.goneReason).toBe('down');
    applyIkeDown(s, 9);
    expect(s.children.get('2')?.gone).toBe(true);
    applyChildren(s, [child(5, 10, 11)], false);
    applyChildRekey(s, 5, child(6, 12, 13));
    expect(s.children.get('5')?.gone).toBe(true);
    expect(s.children.get('6')?.gone).toBe(false);
  });

  it('device down marks the SAs offloaded to it missing (the kernel deleted them silently)', () => {
    const s = emptyState(1);
    applyDevice(s, { ifindex: 3, name: 'eth0', up: true, espOffload: true, addresses: ['10.0.0.1'] });
    applyChildren(s, [child(1, 0xc1, 0xc2)], true);
    applyKernelSa(s, kernel('10.0.0.1', '10.0.0.2', 0xc1, { offloadIfindex: 3 }));
    applyKernelSa(s, kernel('10.0.0.2', '10.0.0.1', 0xc2));
    applyDevice(s, { ifindex: 3, name: 'eth0', up: false, espOffload: true, addresses: ['10.0.0.1'] });
    expect(s.sas.get(inKey(0xc1))?.present).toBe(false);
    expect([...s.sas.values()].filter((x) => x.present)).toHaveLength(1);
  });

  it('a snapshot lacking an SA means someone deleted it (never reinstalled) ...', () => {
    const s = emptyState(1);
    applyChildren(s, [child(1, 0xc1, 0xc2)], true);
    applyKernelSnapshot(s, [kernel('10.0.0.1', '10.0.0.2', 0xc1), kernel('10.0.0.2', '10.0.0.1', 0xc2)]);
    applyKernelSnapshot(s, [kernel('10.0.0.1', '10.0.0.2', 0xc1)]);
    const gone = [...s.sas.values()].find((x) => !x.present);
    expect(gone?.deleted).toBe(true);
  });

  it('... unless it was offloaded to a device that is down: that is the silent flush', () => {
    const s = emptyState(1);
    applyDevice(s, { ifindex: 3, name: 'eth0', up: true, espOffload: true, addresses: ['10.0.0.1'] });
    applyChildren(s, [child(1, 0xc1, 0xc2)], true);
    applyKernelSnapshot(s, [kernel('10.0.0.1', '10.0.0.2', 0xc1, { offloadIfindex: 3 }), kernel('10.0.0.2', '10.0.0.1', 0xc2)]);
    s.devices.get(3)!.up = false;
    applyKernelSnapshot(s, [kernel('10.0.0.2', '10.0.0.1', 0xc2)]);
    const gone = [...s.sas.values()].find((x) => !x.present);
    expect(gone?.deleted).toBeUndefined();
  });

  it('a list-sas charon answered while its events came says nothing about the CHILD_SAs those events reported, either way', () => {
    // The cli lab's CI failure (stop 14): the daemon's startup list-sas was
    // requested, the CHILD_SA came up (child-updown, its SAs read), and the
    // list, produced while charon was still installing it, lacked it.
    const s = emptyState(1);
    const requestedAt = s.epoch;
    applyChildren(s, [child(1, 0xc1, 0xc2)], false);
    applyKernelSa(s, kernel('10.0.0.1', '10.0.0.2', 0xc1));
    applyChildren(s, [], true, requestedAt);
    expect(s.children.get('1')).toMatchObject({ gone: false });
    expect(s.sas.get(inKey(0xc1))?.child).toBe('1');
    // Down by event while the list still had it INSTALLED: it stays down.
    const listed = s.epoch;
    applyChildDown(s, 1);
    applyChildren(s, [child(1, 0xc1, 0xc2)], true, listed);
    expect(s.children.get('1')).toMatchObject({ gone: true, goneReason: 'down' });
    // A list requested after the events counts again: a child it lacks is gone.
    applyChildren(s, [child(2, 0xd1, 0xd2)], false);
    applyChildren(s, [], true, s.epoch);
    expect(s.children.get('2')).toMatchObject({ gone: true, goneReason: 'vanished' });
    // Without requestedAt (no request in flight) the list is the truth, as before.
    applyChildren(s, [child(3, 0xe1, 0xe2)], false);
    applyChildren(s, [], true);
    expect(s.children.get('3')?.gone).toBe(true);
  });

  it('a dump the kernel answered during a swap says nothing about that SA, either way', () => {
    const s = emptyState(1);
    applyDevice(s, { ifindex: 3, name: 'eth0', up: true, espOffload: true, addresses: ['10.0.0.1'] });
    applyChildren(s, [child(1, 0xc1, 0xc2)], true);
    applyKernelSnapshot(s, [kernel('10.0.0.1', '10.0.0.2', 0xc1), kernel('10.0.0.2', '10.0.0.1', 0xc2)]);
    const out = saKey({ daddr: '10.0.0.2', spi: 0xc2, proto: 50, family: 2 });
    // Requested, then the out SA's promote ran (DELSA, NEWSA on eth0) while
    // the kernel answered in its gap; the answer is applied after the swap.
    const requestedAt = s.epoch;
    applyBusy(s, out, true);
    applyKernelSa(s, kernel('10.0.0.2', '10.0.0.1', 0xc2, { offloadIfindex: 3 }));
    applyBusy(s, out, false);
    applyKernelSnapshot(s, [kernel('10.0.0.1', '10.0.0.2', 0xc1)], requestedAt);
    expect(s.sas.get(out)).toMatchObject({ present: true, offloadIfindex: 3 });
    expect(s.sas.get(out)?.deleted).toBeUndefined();
    // (Taken for a delete, the SA would be forgotten: gone from `sa list`.)
    expect(plan(s, defaultPlannerConfig).actions).not.toContainEqual({ type: 'forget', sa: out });
    // Answered before the swap: its software copy must not undo the promote.
    const before = s.epoch;
    applyBusy(s, out, true);
    applyBusy(s, out, false);
    applyKernelSnapshot(s, [kernel('10.0.0.1', '10.0.0.2', 0xc1), kernel('10.0.0.2', '10.0.0.1', 0xc2)], before);
    expect(s.sas.get(out)?.offloadIfindex).toBe(3);
    // A dump requested after the swap counts again.
    applyKernelSnapshot(s, [kernel('10.0.0.1', '10.0.0.2', 0xc1)], s.epoch);
    expect(s.sas.get(out)?.deleted).toBe(true);
    expect(plan(s, defaultPlannerConfig).actions).toContainEqual({ type: 'forget', sa: out });
  });

  it('learns capacity and ESN support from failures, never overriding configured capacity', () => {
    const s = emptyState(1);
    applyDevice(s, { ifindex: 3, name: 'eth0', up: true, espOffload: true, addresses: [] });
    applyDevice(s, { ifindex: 4, name: 'eth1', up: true, espOffload: true, addresses: [] });
    s.devices.get(4)!.capacity = 100;
    s.devices.get(4)!.capacitySource = 'config';
    applyOffloadFailure(s, 'x', 3, 'capacity', { capacity: 33 });
    applyOffloadFailure(s, 'x', 3, 'esn-unsupported', { esnUnsupported: true });
    applyOffloadFailure(s, 'x', 4, 'capacity', { capacity: 7 });
    expect(s.devices.get(3)).toMatchObject({ capacity: 33, capacitySource: 'learned', esn: 'unsupported' });
    expect(s.devices.get(4)?.capacity).toBe(100);
  });

  it('tracks traffic as a smoothed byte rate', () => {
    const s = emptyState(0);
    applyChildren(s, [child(1, 0xc1, 0xc2)], true);
    applyKernelSa(s, kernel('10.0.0.1', '10.0.0.2', 0xc1, { bytes: 0n }));
    s.now = 10_000;
    applyKernelSa(s, kernel('10.0.0.1', '10.0.0.2', 0xc1, { bytes: 1_000_000n }));
    const r = s.sas.get(inKey(0xc1))!.rate;
    expect(r).toBeGreaterThan(40_000);
    expect(r).toBeLessThan(100_000);
  });

  it('end to end with the planner: a reinstalled SA of a child charon took down is removed, then forgotten', () => {
    const s = emptyState(1);
    applyDevice(s, { ifindex: 3, name: 'eth0', up: true, espOffload: true, addresses: ['10.0.0.1'] });
    applyChildren(s, [child(1, 0xc1, 0xc2)], true);
    const sa = applyKernelSa(s, kernel('10.0.0.1', '10.0.0.2', 0xc1))!;
    applyInstalled(s, sa.key, 3);
    applyChildDown(s, 1);
    const saActions = () => plan(s, defaultPlannerConfig).actions.filter((a) => a.type !== 'probe');
    // charon deletes a rekeyed CHILD_SA's SAs itself, some of them late: wait.
    expect(saActions()).toEqual([]);
    s.now += defaultPlannerConfig.zombieGraceMs;
    expect(saActions()).toEqual([{ type: 'remove', sa: sa.key }]);
    s.sas.get(sa.key)!.present = false;
    expect(saActions()).toEqual([{ type: 'forget', sa: sa.key }]);
    applyForget(s, sa.key);
    expect(s.sas.size).toBe(0);
    expect(s.children.size).toBe(0);
  });

  it('end to end with the planner: SAs of a child that vanished (charon restarted) are left in the kernel, unmanaged', () => {
    const s = emptyState(1);
    applyDevice(s, { ifindex: 3, name: 'eth0', up: true, espOffload: true, addresses: ['10.0.0.1'] });
    applyChildren(s, [child(1, 0xc1, 0xc2)], true);
    const sa = applyKernelSa(s, kernel('10.0.0.1', '10.0.0.2', 0xc1))!;
    applyInstalled(s, sa.key, 3);
    applyChildren(s, [], true);
    expect(plan(s, defaultPlannerConfig).actions.filter((a) => a.type !== 'probe')).toEqual([{ type: 'forget', sa: sa.key }]);
  });
});
