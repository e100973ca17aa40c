// The planner: a pure function from what we know (state) and what we want
// (config) to the actions that close the gap - like a reconciler in a
// Kubernetes controller. No I/O, no clock (state.now), no randomness; the
// same inputs always give the same plan.
import type { ChildRecord, DeviceRecord, OffloadState, Placement, Reason, SaRecord } from './types.js';
import { ruleFor, type PlannerConfig } from './policy.js';

export type Action =
  /** swap a software SA onto a device */
  | { type: 'promote'; sa: string; ifindex: number }
  /** swap an offloaded SA back to software */
  | { type: 'demote'; sa: string; reason: Reason }
  /** the kernel lost it (device loss) and we hold its keys: add it again, in software */
  | { type: 'reinstall'; sa: string }
  /** read the complete state (keys) with GETSA so we can swap or recover it */
  | { type: 'load-keys'; sa: string }
  /** ask charon to rekey a CHILD_SA over VICI */
  | { type: 'rekey'; child: string; reason: 'keys-lost' | 'seq-exhaustion' }
  /** a kernel copy we installed whose CHILD_SA charon no longer has: delete it */
  | { type: 'remove'; sa: string }
  /** drop a record that is gone everywhere (wipes its keys) */
  | { type: 'forget'; sa: string }
  /** find out what a device can offload (ESN) with a throwaway SA */
  | { type: 'probe'; ifindex: number };

export interface Decision {
  /** where the SA is now */
  current: Placement;
  /** where it should be */
  target: Placement;
  reason: Reason;
}

export interface Plan {
  actions: Action[];
  decisions: Map<string, Decision>;
}

const SOFTWARE: Placement = { kind: 'software' };
const OFFLOADABLE_AEAD = 'rfc4106(gcm(aes))';

export function currentPlacement(sa: SaRecord): Placement {
  return sa.present && sa.offloadIfindex !== undefined ? { kind: 'offload', ifindex: sa.offloadIfindex } : SOFTWARE;
}

/** The device charon would pick: the one that owns the SA's local address. */
function deviceFor(state: OffloadState, cfg: PlannerConfig, child: ChildRecord, configured?: string): DeviceRecord | undefined {
  const devices = [...state.devices.values()];
  const name = configured ?? child.owner?.device;
  if (name) return devices.find((d) => d.name === name);
  return devices.find((d) => d.addresses.includes(child.localAddr));
}

/** Why `sa` cannot go to `dev`, or undefined if it can (capacity aside). */
function blocker(state: OffloadState, cfg: PlannerConfig, sa: SaRecord, dev: DeviceRecord): Reason | undefined {
  const override = cfg.devices.get(dev.name);
  if (!dev.up) return 'device-down';
  if (!dev.espOffload || override?.offload === false) return 'device-no-esp-offload';
  if (dev.silentFallback) return 'silent-fallback';
  if (sa.shape.encap) return 'encap-unsupported';
  if (sa.shape.tfcpad) return 'tfcpad-unsupported';
  if (sa.shape.aead?.name !== OFFLOADABLE_AEAD || sa.shape.aead.icvBits !== 128) return 'algorithm-unsupported';
  const esn = override?.esn === undefined ? dev.esn : override.esn ? 'supported' : 'unsupported';
  if (sa.shape.esn && esn === 'unsupported') return 'esn-unsupported';
  const f = sa.failure;
  if (f && f.ifindex === dev.ifindex && f.reason !== 'capacity' && state.now - f.at < cfg.backoffMs) return 'backoff';
  return undefined;
}

interface Wish {
  sa: SaRecord;
  child: ChildRecord;
  dev?: DeviceRecord;
  reason: Reason;
  pinned: boolean;
}

export function plan(state: OffloadState, cfg: PlannerConfig): Plan {
  const actions: Action[] = [];
  const decisions = new Map<string, Decision>();
  const decide = (sa: SaRecord, target: Placement, reason: Reason): void => {
    decisions.set(sa.key, { current: currentPlacement(sa), target, reason });
  };

  const wishes: Wish[] = [];
  const sorted = [...state.sas.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
  for (const sa of sorted) {
    const child = state.children.get(sa.child);
    if (!child || child.gone || (sa.deleted && !sa.present)) {
      // charon no longer has this CHILD_SA: never resurrect it. If charon took
      // it down, a copy we installed is deleted (charon's own delete may have
      // missed it during a swap); if it merely vanished (charon restarted),
      // the SA is left to its lifetime and no longer managed.
      if (sa.busy) decide(sa, currentPlacement(sa), 'pending');
      else if (!sa.present || child?.goneReason === 'vanished') actions.push({ type: 'forget', sa: sa.key });
      else if (sa.reinstalledByUs && state.now - (child?.goneAt ?? 0) >= cfg.zombieGraceMs) actions.push({ type: 'remove', sa: sa.key });
      // A VF's CHILD_SA goes when the PF says so, and its SAs with it, at once.
      else if (child?.owner) actions.push({ type: 'remove', sa: sa.key });
      continue;
    }
    if (sa.busy) {
      decide(sa, currentPlacement(sa), 'pending');
      continue;
    }
    if (!sa.present) {
      decide(sa, SOFTWARE, 'missing');
      if (sa.keysHeld) actions.push({ type: 'reinstall', sa: sa.key });
      // charon cannot rekey a VF's CHILD_SA; the PF asks the VF (src/vf).
      else if (!child.owner && !recentRekey(state, cfg, child)) actions.push({ type: 'rekey', child: child.key, reason: 'keys-lost' });
      continue;
    }
    if (!sa.keysHeld) actions.push({ type: 'load-keys', sa: sa.key });

    if (!child.owner && sa.dir === 'out' && !sa.shape.esn && sa.seq && sa.seq.oseq >= cfg.seqRekeyAt && !recentRekey(state, cfg, child)) {
      actions.push({ type: 'rekey', child: child.key, reason: 'seq-exhaustion' });
    }

    const pin = state.pins.sa.get(sa.key);
    const rule = ruleFor(cfg.rules, child.ike.name, child.name);
    if (pin === 'software') {
      wishes.push({ sa, child, reason: 'pinned-software', pinned: true });
      continue;
    }
    if (pin !== 'offload' && !(rule ? rule.offload : cfg.defaultOffload)) {
      wishes.push({ sa, child, reason: 'config-off', pinned: false });
      continue;
    }
    const dev = deviceFor(state, cfg, child, rule?.device);
    if (!dev) {
      wishes.push({ sa, child, reason: 'no-device', pinned: pin === 'offload' });
      continue;
    }
    const why = child.owner?.software ?? blocker(state, cfg, sa, dev);
    wishes.push({ sa, child, dev, reason: why ?? (pin === 'offload' ? 'pinned-offload' : 'offloaded'), pinned: pin === 'offload' });
  }

  // SAs charon reports that the kernel never had (as far as we ever saw):
  // lost before we could read them, e.g. we died mid-swap. No record, no keys:
  // only a rekey brings them back.
  for (const child of [...state.children.values()].sort((a, b) => a.uniqueid - b.uniqueid)) {
    if (child.gone || child.owner || state.now - child.since < cfg.missingGraceMs) continue;
    const lost = (child.spiIn !== undefined && !child.saIn) || (child.spiOut !== undefined && !child.saOut);
    if (lost && !recentRekey(state, cfg, child)) actions.push({ type: 'rekey', child: child.key, reason: 'keys-lost' });
  }

  // Capacity, per device: SAs already on the device keep their slots (no
  // churn); free slots go to whole pairs first, in order of pin, then traffic,
  // then age; leftover single slots go to outbound SAs (TX benefits most).
  const granted = new Set<string>();
  // pf role: hardware slots each VF uses (its quota is owner.hwSlots).
  const vfUsed = new Map<string, number>();
  const quotaLeft = (w: Wish, n: number): boolean => {
    const o = w.child.owner;
    return !o || (vfUsed.get(o.vf) ?? 0) + n <= o.hwSlots;
  };
  const useQuota = (w: Wish): void => {
    const o = w.child.owner;
    if (o) vfUsed.set(o.vf, (vfUsed.get(o.vf) ?? 0) + 1);
  };
  const byDevice = new Map<number, Wish[]>();
  for (const w of wishes) {
    if (!w.dev || (w.reason !== 'offloaded' && w.reason !== 'pinned-offload')) continue;
    const list = byDevice.get(w.dev.ifindex) ?? [];
    list.push(w);
    byDevice.set(w.dev.ifindex, list);
  }
  for (const [ifindex, list] of byDevice) {
    const dev = state.devices.get(ifindex) as DeviceRecord;
    const capacity = cfg.devices.get(dev.name)?.capacity ?? dev.capacity ?? Number.POSITIVE_INFINITY;
    const onDevice = [...state.sas.values()].filter((s) => s.present && s.offloadIfindex === ifindex);
    // Kept in place (no churn), except a VF's beyond its quota (lowered by a
    // reload): its busiest SAs stay, the rest are demoted.
    const kept = list.filter((w) => onDevice.includes(w.sa)).sort((a, b) => b.sa.rate - a.sa.rate || (a.sa.key < b.sa.key ? -1 : 1));
    for (const w of kept) {
      if (!quotaLeft(w, 1)) continue;
      granted.add(w.sa.key);
      useQuota(w);
    }
    let free = capacity - onDevice.length;

    const groups = new Map<string, Wish[]>();
    for (const w of list) {
      if (granted.has(w.sa.key)) continue;
      const g = groups.get(w.child.key) ?? [];
      g.push(w);
      groups.set(w.child.key, g);
    }
    const order = [...groups.values()].sort((a, b) => {
      const pa = a.some((w) => w.pinned) ? 1 : 0;
      const pb = b.some((w) => w.pinned) ? 1 : 0;
      if (pa !== pb) return pb - pa;
      const ra = a.reduce((n, w) => n + w.sa.rate, 0);
      const rb = b.reduce((n, w) => n + w.sa.rate, 0);
      if (ra !== rb) return rb - ra;
      return (a[0] as Wish).child.uniqueid - (b[0] as Wish).child.uniqueid;
    });
    for (const g of order) {
      if (g.length <= free && quotaLeft(g[0] as Wish, g.length)) {
        for (const w of g) {
          granted.add(w.sa.key);
          useQuota(w);
        }
        free -= g.length;
      }
    }
    for (const g of order) {
      for (const w of [...g].sort((a, b) => (a.sa.dir === b.sa.dir ? 0 : a.sa.dir === 'out' ? -1 : 1))) {
        if (free <= 0) break;
        if (granted.has(w.sa.key) || onDevice.includes(w.sa) || !quotaLeft(w, 1)) continue;
        granted.add(w.sa.key);
        useQuota(w);
        free--;
      }
    }
  }

  for (const w of wishes) {
    const now = currentPlacement(w.sa);
    const wantOffload = w.dev && (w.reason === 'offloaded' || w.reason === 'pinned-offload');
    if (wantOffload && granted.has(w.sa.key)) {
      const dev = w.dev as DeviceRecord;
      decide(w.sa, { kind: 'offload', ifindex: dev.ifindex }, w.reason);
      if (now.kind === 'offload' && now.ifindex !== dev.ifindex) {
        if (w.sa.keysHeld) actions.push({ type: 'demote', sa: w.sa.key, reason: w.reason });
      } else if (now.kind === 'software' && w.sa.keysHeld) {
        actions.push({ type: 'promote', sa: w.sa.key, ifindex: dev.ifindex });
      }
      continue;
    }
    const o = w.child.owner;
    const reason: Reason = !wantOffload ? w.reason : o && (vfUsed.get(o.vf) ?? 0) >= o.hwSlots ? 'vf-quota' : 'capacity';
    decide(w.sa, SOFTWARE, reason);
    if (now.kind === 'offload' && w.sa.keysHeld) actions.push({ type: 'demote', sa: w.sa.key, reason });
  }

  for (const dev of [...state.devices.values()].sort((a, b) => a.ifindex - b.ifindex)) {
    const known = cfg.devices.get(dev.name)?.esn !== undefined;
    if (dev.up && dev.espOffload && !dev.probed && !known && !dev.silentFallback) actions.push({ type: 'probe', ifindex: dev.ifindex });
  }
  // While charon's view is stale (VICI down, not yet resynced) a missing SA
  // may be one charon just deleted: change nothing until we know.
  // A VF's SAs do not depend on charon.
  const allowed = state.charonSynced ? actions : actions.filter((a) => a.type === 'probe' || a.type === 'load-keys' || ownedAction(state, a));
  return { actions: dedupe(urgentFirst(state, allowed)), decisions };
}

function ownedAction(state: OffloadState, a: Action): boolean {
  if (!('sa' in a)) return false;
  const sa = state.sas.get(a.sa);
  return sa !== undefined && state.children.get(sa.child)?.owner !== undefined;
}

/**
 * Repairs before improvements: reinstalls first (outbound before inbound:
 * without its outbound SA every packet sent is lost), then the rest in order.
 */
function urgentFirst(state: OffloadState, actions: Action[]): Action[] {
  const rank = (a: Action): number => {
    if (a.type !== 'reinstall') return 2;
    return state.sas.get(a.sa)?.dir === 'out' ? 0 : 1;
  };
  return actions.map((a, i) => [a, i] as const).sort((x, y) => rank(x[0]) - rank(y[0]) || x[1] - y[1]).map(([a]) => a);
}

function recentRekey(state: OffloadState, cfg: PlannerConfig, child: ChildRecord): boolean {
  return child.rekeyRequested !== undefined && state.now - child.rekeyRequested.at < cfg.rekeyRetryMs;
}

/** One rekey per CHILD_SA per plan, whatever asked for it. */
function dedupe(actions: Action[]): Action[] {
  const seen = new Set<string>();
  return actions.filter((a) => {
    const k = a.type === 'rekey' ? `rekey:${a.child}` : a.type === 'probe' ? `probe:${a.ifindex}` : `${a.type}:${a.sa}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
