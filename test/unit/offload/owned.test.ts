// pf role: CHILD_SAs a VF agent owns (ChildRecord.owner), as the planner and
// the reducers treat them: the PF's device, the VF's quota of hardware slots,
// a forced software placement, removal at once when the PF drops them, no
// rekey ever asked of charon, and charon's view (sync state, list-sas, IKE
// events) never touching them. Charon's own CHILD_SAs keep every rule of
// planner.test.ts (those tests run unchanged).
import { describe, expect, it } from 'vitest';
import { plan, type Action } from '../../../src/offload/planner.js';
import { defaultPlannerConfig, type PlannerConfig } from '../../../src/offload/policy.js';
import { applyChildren, applyIkeDown, applyIkeRekey, applyKernelSa, applyOwnedChild, applyOwnedChildDown, type ChildInfo } from '../../../src/offload/model.js';
import { saKey, type ChildOwner, type OffloadState } from '../../../src/offload/types.js';
import { addChild, device, GCM, withDevice } from './builders.js';

const cfg = (over: Partial<PlannerConfig> = {}): PlannerConfig => ({ ...defaultPlannerConfig, devices: new Map(), ...over });
const of = (actions: Action[], type: string): string[] => actions.filter((a) => a.type === type).map((a) => ('sa' in a ? a.sa : 'child' in a ? a.child : ''));

/** A VF's CHILD_SA: local address is the tenant's (no host device owns it). */
function addOwned(s: OffloadState, uniqueid: number, owner: ChildOwner, o: Parameters<typeof addChild>[1] extends infer P ? Partial<P & object> : never = {}) {
  const r = addChild(s, { uniqueid, local: '192.168.10.2', remote: '192.168.20.2', ike: owner.vf, ...o });
  s.children.delete(r.child.key);
  const key = `vf:${owner.vf}:${uniqueid}`;
  r.child.key = key;
  r.child.owner = owner;
  r.sin.child = key;
  r.sout.child = key;
  s.children.set(key, r.child);
  return r;
}

const PF = 'nsim0';
const t0 = (hwSlots = 4, software?: 'spi-collision'): ChildOwner => ({ vf: 't0', device: PF, hwSlots, ...(software ? { software } : {}) });
const pf = (over: Partial<Parameters<typeof device>[0]> = {}) => device({ ifindex: 3, name: PF, addresses: ['192.168.30.1'], ...over });

describe('planner: a VF-owned CHILD_SA', () => {
  it('goes to the PF device (owner.device), though no device holds the tenant address', () => {
    const s = withDevice(pf());
    addOwned(s, 1, t0());
    const p = plan(s, cfg());
    expect(p.actions.map((a) => a.type)).toEqual(['promote', 'promote']);
    expect([...p.decisions.values()].map((d) => d.reason)).toEqual(['offloaded', 'offloaded']);
    // The same CHILD_SA owned by charon would find no device.
    const c = withDevice(pf());
    addChild(c, { uniqueid: 1, local: '192.168.10.2' });
    expect([...plan(c, cfg()).decisions.values()].map((d) => d.reason)).toEqual(['no-device', 'no-device']);
  });

  it('a VF gets at most hwSlots slots: whole pairs first, then the outbound SA of the next; the rest stay in software with vf-quota', () => {
    const s = withDevice(pf());
    addOwned(s, 1, t0(3));
    const b = addOwned(s, 2, t0(3));
    const p = plan(s, cfg());
    expect(of(p.actions, 'promote')).toHaveLength(3);
    expect(p.decisions.get(b.sin.key)).toMatchObject({ target: { kind: 'software' }, reason: 'vf-quota' });
    expect(p.decisions.get(b.sout.key)?.reason).toBe('offloaded');
  });

  it('quotas are per VF; device capacity still applies on top (capacity, not vf-quota, when the table is full)', () => {
    const s = withDevice(pf({ capacity: 4, capacitySource: 'config' }));
    addOwned(s, 1, t0(4));
    addOwned(s, 2, { vf: 't1', device: PF, hwSlots: 4 });
    const c = addOwned(s, 3, { vf: 't2', device: PF, hwSlots: 4 });
    const p = plan(s, cfg());
    expect(of(p.actions, 'promote')).toHaveLength(4);
    expect(p.decisions.get(c.sin.key)?.reason).toBe('capacity');
    const zero = withDevice(pf());
    const z = addOwned(zero, 1, t0(0));
    expect(plan(zero, cfg()).decisions.get(z.sout.key)?.reason).toBe('vf-quota');
  });

  it('SAs already on the device keep their slots (no churn); a quota lowered below them demotes the excess, busiest kept', () => {
    const s = withDevice(pf());
    const a = addOwned(s, 1, t0(4), { sa: { offloadIfindex: 3 } });
    a.sin.rate = 10;
    a.sout.rate = 500;
    expect(plan(s, cfg()).actions).toEqual([]);
    for (const c of s.children.values()) if (c.owner) c.owner.hwSlots = 1;
    const p = plan(s, cfg());
    expect(p.actions).toEqual([{ type: 'demote', sa: a.sin.key, reason: 'vf-quota' }]);
    expect(p.decisions.get(a.sout.key)?.reason).toBe('offloaded');
  });

  it('owner.software (an SPI another VF uses in this table) keeps it in software, even pinned', () => {
    const s = withDevice(pf());
    const a = addOwned(s, 1, t0(4, 'spi-collision'));
    s.pins.sa.set(a.sout.key, 'offload');
    const p = plan(s, cfg());
    expect(p.actions).toEqual([]);
    expect([...p.decisions.values()].map((d) => d.reason)).toEqual(['spi-collision', 'spi-collision']);
  });

  it('removed at once when the PF drops it (no zombie grace), offloaded or not', () => {
    const s = withDevice(pf());
    const a = addOwned(s, 1, t0(), { sa: { offloadIfindex: 3 } });
    applyOwnedChildDown(s, a.child.key);
    expect(of(plan(s, cfg({ zombieGraceMs: 60_000 })).actions, 'remove').sort()).toEqual([a.sin.key, a.sout.key].sort());
    // gone from the kernel: forgotten
    a.sin.present = false;
    a.sout.present = false;
    expect(plan(s, cfg()).actions.map((x) => x.type)).toEqual(['forget', 'forget']);
  });

  it('never asks charon to rekey it: not for lost keys, not for sequence exhaustion, not for SAs never seen', () => {
    const s = withDevice(pf());
    const a = addOwned(s, 1, t0(), { sa: { keysHeld: false } });
    a.sin.present = false;
    a.sout.seq = { oseq: 0xf8000000, oseqHi: 0, seq: 0, seqHi: 0, at: 0 };
    const neverSeen = addOwned(s, 2, t0());
    s.sas.delete(neverSeen.sin.key);
    delete neverSeen.child.saIn;
    const p = plan(s, cfg({ missingGraceMs: 0 }));
    expect(p.actions.filter((x) => x.type === 'rekey')).toEqual([]);
    expect(p.decisions.get(a.sin.key)?.reason).toBe('missing');
  });

  it("charon's view being stale holds charon's SAs back, not a VF's", () => {
    const s = withDevice(pf({ addresses: ['10.0.0.1', '192.168.30.1'] }));
    addChild(s, { uniqueid: 7 });
    const v = addOwned(s, 1, t0());
    s.charonSynced = false;
    const promoted = of(plan(s, cfg()).actions, 'promote');
    expect(promoted.sort()).toEqual([v.sin.key, v.sout.key].sort());
  });
});

describe('reducers: a VF-owned CHILD_SA', () => {
  const info = (uniqueid: number): ChildInfo => ({
    uniqueid,
    reqid: 0xc0000001,
    name: 'net',
    ike: { name: 't0', uniqueid: 0 },
    state: 'INSTALLED',
    mode: 'TUNNEL',
    localAddr: '192.168.10.2',
    remoteAddr: '192.168.20.2',
    spiIn: 0xc0000001,
    spiOut: 0xc1000001,
    esn: false,
    encap: false,
    ifIdIn: 100,
    ifIdOut: 100,
  });
  const kernel = (daddr: string, saddr: string, spi: number) => ({
    id: { daddr, spi, proto: 50, family: 2, ifId: 100 },
    saddr,
    reqid: 0xc0000001,
    shape: { esn: false, encap: false, aead: GCM, tfcpad: false, mode: 'tunnel' },
    bytes: 0n,
    packets: 0n,
  });

  it('lives under the PF key; kernel SAs attach to it; list-sas (complete) and IKE events leave it alone', () => {
    const s = withDevice(pf());
    const rec = applyOwnedChild(s, 'vf:t0:5', info(5), t0());
    expect(rec).toMatchObject({ key: 'vf:t0:5', uniqueid: 5, owner: t0(), gone: false });
    const sin = applyKernelSa(s, kernel('192.168.10.2', '192.168.20.2', 0xc0000001));
    expect(sin).toMatchObject({ child: 'vf:t0:5', dir: 'in', key: saKey({ daddr: '192.168.10.2', spi: 0xc0000001, proto: 50, family: 2, ifId: 100 }) });
    applyChildren(s, [], true);
    applyIkeDown(s, 0);
    applyIkeRekey(s, 0, { name: 'other', uniqueid: 9 });
    expect(s.children.get('vf:t0:5')).toMatchObject({ gone: false, ike: { name: 't0', uniqueid: 0 } });
    applyOwnedChildDown(s, 'vf:t0:5');
    expect(s.children.get('vf:t0:5')).toMatchObject({ gone: true, goneReason: 'down', goneAt: s.now });
  });

  it('applyOwnedChildDown never touches a charon CHILD_SA', () => {
    const s = withDevice(pf());
    addChild(s, { uniqueid: 5 });
    applyOwnedChildDown(s, '5');
    expect(s.children.get('5')?.gone).toBe(false);
  });
});
