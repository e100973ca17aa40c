// Reducers: how events from charon (VICI), the kernel (XFRM, rtnetlink) and
// the executor change the offload state. Each takes a small neutral input
// (adapters in src/daemon build them from VICI/XFRM/link types), so this
// module depends on nothing but the model.
import { saKey, type ChildOwner, type ChildRecord, type DeviceRecord, type OffloadState, type Reason, type SaDir, type SaId, type SaRecord, type SaShape } from './types.js';

/** A CHILD_SA as charon reports it (list-sas, child-updown, child-rekey). */
export interface ChildInfo {
  uniqueid: number;
  reqid: number;
  name: string;
  ike: { name: string; uniqueid: number };
  state: string;
  mode: string;
  localAddr: string;
  remoteAddr: string;
  spiIn?: number;
  spiOut?: number;
  esn: boolean;
  encap: boolean;
  markIn?: { value: number; mask: number };
  markOut?: { value: number; mask: number };
  ifIdIn?: number;
  ifIdOut?: number;
}

/** An SA as the kernel reports it (dump, GETSA, NEWSA/UPDSA events). */
export interface KernelSaInfo {
  id: SaId;
  saddr: string;
  reqid: number;
  shape: SaShape;
  offloadIfindex?: number;
  bytes: bigint;
  packets: bigint;
  seq?: { oseq: number; oseqHi: number; seq: number; seqHi: number };
}

export interface DeviceInfo {
  ifindex: number;
  name: string;
  up: boolean;
  espOffload: boolean;
  addresses: string[];
}

/** A CHILD_SA's SA ids, derived the way the kernel keys them. */
export function childSaIds(c: ChildInfo, family: number): { in?: SaId; out?: SaId } {
  const mk = (daddr: string, spi: number, mark?: { value: number; mask: number }, ifId?: number): SaId => ({
    daddr,
    spi,
    proto: 50,
    family,
    ...(mark && (mark.value || mark.mask) ? { mark } : {}),
    ...(ifId ? { ifId } : {}),
  });
  return {
    ...(c.spiIn !== undefined ? { in: mk(c.localAddr, c.spiIn, c.markIn, c.ifIdIn) } : {}),
    ...(c.spiOut !== undefined ? { out: mk(c.remoteAddr, c.spiOut, c.markOut, c.ifIdOut) } : {}),
  };
}

function childRecord(c: ChildInfo, now: number, prev?: ChildRecord): ChildRecord {
  return {
    key: String(c.uniqueid),
    uniqueid: c.uniqueid,
    reqid: c.reqid,
    name: c.name,
    ike: { ...c.ike },
    state: c.state,
    mode: c.mode,
    localAddr: c.localAddr,
    remoteAddr: c.remoteAddr,
    ...(c.spiIn !== undefined ? { spiIn: c.spiIn } : {}),
    ...(c.spiOut !== undefined ? { spiOut: c.spiOut } : {}),
    esn: c.esn,
    encap: c.encap,
    ...(prev?.saIn ? { saIn: prev.saIn } : {}),
    ...(prev?.saOut ? { saOut: prev.saOut } : {}),
    gone: false,
    since: prev?.since ?? now,
    ...(prev?.rekeyRequested ? { rekeyRequested: prev.rekeyRequested } : {}),
    ...(prev?.touched !== undefined ? { touched: prev.touched } : {}),
  };
}


/**
 * A record changed after a snapshot (SAD dump, list-sas) was requested at
 * epoch `requestedAt`: the snapshot may predate the change, so it says
 * nothing about that record.
 */
const changedSince = (touched: number | undefined, requestedAt: number): boolean => (touched ?? 0) > requestedAt;

/** Only installed CHILD_SAs have SAs worth managing. */
const LIVE = new Set(['INSTALLED', 'REKEYING', 'UPDATING']);

/**
 * charon reports CHILD_SAs. `complete` (a full list-sas) marks every child it
 * does not mention as gone; child-updown up is not complete, and marks the
 * children it reports as touched by an event.
 *
 * `requestedAt` is state.epoch when the list was requested. charon answers a
 * list-sas while it keeps establishing, rekeying and deleting, and its events
 * come on another connection: a CHILD_SA an event reported after the request
 * may be missing from the list (it was being installed when charon listed
 * that IKE_SA), or still in it after it went down. Such a child is left as
 * the event made it, both ways: not marked gone, not brought back.
 */
export function applyChildren(state: OffloadState, children: readonly ChildInfo[], complete: boolean, requestedAt?: number): void {
  const newer = (c: ChildRecord | undefined): boolean => requestedAt !== undefined && changedSince(c?.touched, requestedAt);
  const seen = new Set<string>();
  for (const c of children) {
    if (!LIVE.has(c.state)) continue;
    const key = String(c.uniqueid);
    seen.add(key);
    const prev = state.children.get(key);
    if (complete && newer(prev)) continue;
    const rec = childRecord(c, state.now, prev);
    if (!complete) rec.touched = ++state.epoch;
    state.children.set(key, rec);
    linkChildSas(state, rec, c);
  }
  if (complete) {
    for (const [key, c] of state.children) {
      // A VF's CHILD_SAs are not charon's: list-sas never mentions them.
      if (seen.has(key) || c.gone || c.owner || newer(c)) continue;
      c.gone = true;
      c.goneReason = 'vanished';
      c.goneAt = state.now;
    }
  }
}

/** Attaches SAs already in the model (from the kernel) to their child. */
function linkChildSas(state: OffloadState, rec: ChildRecord, c: ChildInfo): void {
  for (const sa of state.sas.values()) {
    const dir = matchDir(c, sa.id);
    if (!dir) continue;
    sa.child = rec.key;
    sa.dir = dir;
    if (dir === 'in') rec.saIn = sa.key;
    else rec.saOut = sa.key;
  }
}

function matchDir(c: ChildInfo | ChildRecord, id: SaId): SaDir | undefined {
  if (id.proto !== 50) return undefined;
  if (c.spiIn === id.spi && c.localAddr === id.daddr) return 'in';
  if (c.spiOut === id.spi && c.remoteAddr === id.daddr) return 'out';
  return undefined;
}

export function applyChildDown(state: OffloadState, uniqueid: number): void {
  const c = state.children.get(String(uniqueid));
  if (c && !c.gone) {
    c.gone = true;
    c.goneReason = 'down';
    c.goneAt = state.now;
    c.touched = ++state.epoch;
  }
}

/** The IKE_SA went down: all its CHILD_SAs with it. */
export function applyIkeDown(state: OffloadState, ikeUniqueid: number): void {
  for (const c of state.children.values()) {
    if (c.ike.uniqueid !== ikeUniqueid || c.gone || c.owner) continue;
    c.gone = true;
    c.goneReason = 'down';
    c.goneAt = state.now;
    c.touched = ++state.epoch;
  }
}

/**
 * pf role: a VF agent's CHILD_SA, under a key of the PF's choosing (never a
 * charon uniqueid). Its SAs attach as the kernel reports them, as charon's do.
 */
export function applyOwnedChild(state: OffloadState, key: string, c: ChildInfo, owner: ChildOwner): ChildRecord {
  const prev = state.children.get(key);
  const rec: ChildRecord = { ...childRecord(c, state.now, prev), key, owner: { ...owner } };
  state.children.set(key, rec);
  linkChildSas(state, rec, c);
  return rec;
}

/** pf role: the PF removes a VF's CHILD_SA; the planner deletes its SAs at once. */
export function applyOwnedChildDown(state: OffloadState, key: string): void {
  const c = state.children.get(key);
  if (!c || !c.owner || c.gone) return;
  c.gone = true;
  c.goneReason = 'down';
  c.goneAt = state.now;
}

/** child-rekey: the old CHILD_SA is replaced (charon deletes its SAs itself). */
export function applyChildRekey(state: OffloadState, oldUniqueid: number, replacement: ChildInfo): void {
  applyChildDown(state, oldUniqueid);
  applyChildren(state, [replacement], false);
}

/** ike-rekey: children move to the new IKE_SA (same CHILD_SAs, new IKE uniqueid). */
export function applyIkeRekey(state: OffloadState, oldIke: number, newIke: { name: string; uniqueid: number }): void {
  for (const c of state.children.values()) {
    if (c.ike.uniqueid !== oldIke || c.owner) continue;
    c.ike = { ...newIke };
    c.touched = ++state.epoch;
  }
}

/**
 * The kernel has this SA (dump, GETSA or NEWSA/UPDSA event). SAs no CHILD_SA
 * claims are ignored: we touch only what charon attributes to a CHILD_SA.
 */
export function applyKernelSa(state: OffloadState, k: KernelSaInfo): SaRecord | undefined {
  const key = saKey(k.id);
  let sa = state.sas.get(key);
  if (!sa) {
    const owner = [...state.children.values()].find((c) => !c.gone && matchDir(c, k.id));
    if (!owner) return undefined;
    const dir = matchDir(owner, k.id) as SaDir;
    sa = {
      key,
      id: k.id,
      saddr: k.saddr,
      dir,
      child: owner.key,
      shape: k.shape,
      present: true,
      keysHeld: false,
      busy: false,
      bytes: k.bytes,
      packets: k.packets,
      rate: 0,
      reinstalledByUs: false,
      firstSeen: state.now,
    };
    state.sas.set(key, sa);
    if (dir === 'in') owner.saIn = key;
    else owner.saOut = key;
  }
  sa.present = true;
  delete sa.deleted;
  sa.shape = k.shape;
  if (k.offloadIfindex !== undefined) sa.offloadIfindex = k.offloadIfindex;
  else delete sa.offloadIfindex;
  updateTraffic(state, sa, k.bytes, k.packets);
  if (k.seq) sa.seq = { ...k.seq, at: state.now };
  return sa;
}

/** The kernel no longer has this SA (DELSA event, ESRCH, absent from a dump). */
export function applyKernelSaGone(state: OffloadState, key: string): void {
  const sa = state.sas.get(key);
  if (!sa) return;
  sa.present = false;
  delete sa.offloadIfindex;
}

/**
 * Someone (charon) deleted the SA on purpose: a DELSA we did not send,
 * confirmed by a GETSA. Unlike device loss, this is never repaired.
 */
export function applyKernelSaDeleted(state: OffloadState, key: string): void {
  const sa = state.sas.get(key);
  if (!sa) return;
  applyKernelSaGone(state, key);
  sa.deleted = true;
}

/** charon's view went stale (VICI down) or is current again (resynced). */
export function applyCharonSynced(state: OffloadState, synced: boolean): void {
  state.charonSynced = synced;
}

/**
 * The kernel lacks an SA the model believed present (absent from a dump, or
 * missing when a swap looked for it). Only a device that is down or gone
 * explains that (the kernel's silent flush): lost, and the planner re-adds
 * it ('reinstall'). Any other absence is someone else's delete (charon's,
 * during a rekey whose event has not arrived yet) and is never repaired
 * ('none'; DESIGN §5: an SA is never resurrected with a sequence number we
 * can only estimate); if charon still has the CHILD_SA, the planner asks it
 * to rekey.
 */
export function applyKernelSaMissing(state: OffloadState, sa: SaRecord): 'reinstall' | 'none' {
  const dev = sa.offloadIfindex !== undefined ? state.devices.get(sa.offloadIfindex) : undefined;
  if (sa.offloadIfindex !== undefined && (!dev || !dev.up)) {
    applyKernelSaGone(state, sa.key);
    return 'reinstall';
  }
  applyKernelSaDeleted(state, sa.key);
  return 'none';
}

/**
 * A full dump: what the model believes present but the dump lacks is missing
 * (see applyKernelSaMissing). `requestedAt` is state.epoch when the dump was
 * requested. An SA the executor touched since then is left out both ways: a
 * dump that takes several reads is produced part by part while the executor's
 * requests run, so the kernel may have listed that SA's slot in the middle of
 * its swap, between the DELSA and the NEWSA (absent) or before it (in its old
 * place), and the swap has since re-read the truth. Taking that gap for a
 * delete would make the planner forget an SA that is fine.
 */
export function applyKernelSnapshot(state: OffloadState, sas: readonly KernelSaInfo[], requestedAt = state.epoch): SnapshotLoss[] {
  const settled = (sa: SaRecord | undefined): boolean => !sa || (!sa.busy && !changedSince(sa.touched, requestedAt));
  const seen = new Set<string>();
  for (const k of sas) {
    const key = saKey(k.id);
    seen.add(key);
    if (settled(state.sas.get(key))) applyKernelSa(state, k);
  }
  const lost: SnapshotLoss[] = [];
  for (const sa of state.sas.values()) if (!seen.has(sa.key) && sa.present && settled(sa)) lost.push({ sa, repair: applyKernelSaMissing(state, sa) });
  return lost;
}

/** An SA a dump lacked, and what applyKernelSaMissing made of it. */
export interface SnapshotLoss {
  sa: SaRecord;
  repair: 'reinstall' | 'none';
}

/** Replay/sequence state from an AEVENT or GETAE. */
export function applySeq(state: OffloadState, key: string, seq: { oseq: number; oseqHi: number; seq: number; seqHi: number }): void {
  const sa = state.sas.get(key);
  if (sa) sa.seq = { ...seq, at: state.now };
}

const RATE_HALF_LIFE_MS = 10_000;

function updateTraffic(state: OffloadState, sa: SaRecord, bytes: bigint, packets: bigint): void {
  const prevAt = sa.trafficAt;
  if (bytes >= sa.bytes && prevAt !== undefined && state.now > prevAt) {
    const inst = (Number(bytes - sa.bytes) * 1000) / (state.now - prevAt);
    const w = Math.exp((-(state.now - prevAt) * Math.LN2) / RATE_HALF_LIFE_MS);
    sa.rate = sa.rate * w + inst * (1 - w);
  }
  sa.bytes = bytes;
  sa.packets = packets;
  sa.trafficAt = state.now;
}

/**
 * A device appeared or changed. Going down (with ESP offload) or away makes
 * the kernel delete every SA offloaded to it without any XFRM event: mark
 * them missing so the planner reinstalls them.
 */
export function applyDevice(state: OffloadState, d: DeviceInfo): void {
  const prev = state.devices.get(d.ifindex);
  const rec: DeviceRecord = prev
    ? { ...prev, name: d.name, up: d.up, espOffload: d.espOffload, addresses: [...d.addresses] }
    : { ifindex: d.ifindex, name: d.name, up: d.up, espOffload: d.espOffload, esn: 'unknown', probed: false, silentFallback: false, addresses: [...d.addresses] };
  if (prev && prev.up && !d.up) {
    dropOffloadedTo(state, d.ifindex);
    // The table was flushed: a learned capacity stays true, the count restarts.
  }
  state.devices.set(d.ifindex, rec);
}

export function applyDeviceGone(state: OffloadState, ifindex: number): void {
  dropOffloadedTo(state, ifindex);
  state.devices.delete(ifindex);
}

function dropOffloadedTo(state: OffloadState, ifindex: number): void {
  for (const sa of state.sas.values()) if (sa.offloadIfindex === ifindex && !sa.busy) applyKernelSaGone(state, sa.key);
}

// ---- executor results ------------------------------------------------------

export function applyBusy(state: OffloadState, key: string, busy: boolean): void {
  const sa = state.sas.get(key);
  if (!sa) return;
  sa.busy = busy;
  sa.touched = ++state.epoch;
}

export function applyKeysHeld(state: OffloadState, key: string, held: boolean): void {
  const sa = state.sas.get(key);
  if (sa) sa.keysHeld = held;
}

/** The executor installed a new kernel copy (swap or reinstall); where it ended up, verified. */
export function applyInstalled(state: OffloadState, key: string, offloadIfindex: number | undefined): void {
  const sa = state.sas.get(key);
  if (!sa) return;
  sa.present = true;
  sa.reinstalledByUs = true;
  if (offloadIfindex !== undefined) sa.offloadIfindex = offloadIfindex;
  else delete sa.offloadIfindex;
}

export interface Learned {
  /** ENOSPC: the device holds this many SAs at most */
  capacity?: number;
  /** EINVAL "Device doesn't support offload with ESN" */
  esnUnsupported?: boolean;
  /** offload requested, kernel installed in software anyway */
  silentFallback?: boolean;
}

export function applyOffloadFailure(
  state: OffloadState,
  key: string,
  ifindex: number,
  reason: Reason,
  learned: Learned,
  detail: { errno?: number; message?: string } = {},
): void {
  const sa = state.sas.get(key);
  if (sa) sa.failure = { ifindex, reason, at: state.now, ...detail };
  const dev = state.devices.get(ifindex);
  if (!dev) return;
  if (learned.capacity !== undefined && dev.capacitySource !== 'config') {
    dev.capacity = learned.capacity;
    dev.capacitySource = 'learned';
  }
  if (learned.esnUnsupported) dev.esn = 'unsupported';
  if (learned.silentFallback) dev.silentFallback = true;
}

export function applyProbe(state: OffloadState, ifindex: number, esn: 'supported' | 'unsupported' | 'unknown'): void {
  const dev = state.devices.get(ifindex);
  if (!dev) return;
  dev.probed = true;
  if (esn !== 'unknown') dev.esn = esn;
}

export function applyRekeyRequested(state: OffloadState, childKey: string, reason: 'keys-lost' | 'seq-exhaustion'): void {
  const c = state.children.get(childKey);
  if (c) c.rekeyRequested = { at: state.now, reason };
}

export function applyForget(state: OffloadState, key: string): void {
  const sa = state.sas.get(key);
  if (!sa) return;
  state.sas.delete(key);
  const c = state.children.get(sa.child);
  if (c?.saIn === key) delete c.saIn;
  if (c?.saOut === key) delete c.saOut;
  if (c && c.gone && !c.saIn && !c.saOut) state.children.delete(c.key);
}

export function applyPin(state: OffloadState, key: string, pin: 'offload' | 'software' | undefined): void {
  if (pin) state.pins.sa.set(key, pin);
  else state.pins.sa.delete(key);
}
