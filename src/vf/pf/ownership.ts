// The PF's database of what every VF installed: its CHILD_SAs with their SA
// ids, the policies and routes they need, its epoch, the host reqids it was
// given, and the SAs it may never install again (retired). No key material,
// by construction: nothing here has a field that could hold one. The store
// (store.ts) writes it to disk; a restarted daemon matches kernel SAs to VFs
// with it. Pure data and pure functions.
import type { XfrmSelector } from '../../xfrm/model.js';

export type Family = 'ipv4' | 'ipv6';

export interface OwnedSa {
  dir: 'in' | 'out';
  family: Family;
  daddr: string;
  saddr: string;
  spi: number;
}

export interface OwnedPolicy {
  dir: 'in' | 'out' | 'fwd';
  selector: XfrmSelector;
}

export interface OwnedChild {
  /** the tenant charon's CHILD_SA unique id */
  uniqueid: number;
  name: string;
  ike: string;
  /** host reqid (the PF's, see reqidFor) and the tenant's */
  reqid: number;
  tenantReqid: number;
  sas: OwnedSa[];
  policies: OwnedPolicy[];
  /** remote selectors routed through the VF's interface (route_table) */
  routes: string[];
  /** kept in software on purpose */
  software?: 'spi-collision';
  /** epoch ms */
  installedAt: number;
}

export interface RetiredSa {
  family: Family;
  daddr: string;
  spi: number;
  /** epoch ms after which it may be forgotten */
  until: number;
}

export interface VfOwnership {
  /** the epoch (hex of the u64) the VF's SAs belong to; null: none yet */
  epoch: string | null;
  ifId: number;
  children: Map<number, OwnedChild>;
  retired: RetiredSa[];
  /** tenant reqid -> host reqid */
  reqids: Map<number, number>;
}

export interface Ownership {
  vfs: Map<string, VfOwnership>;
  /** next host reqid to hand out */
  nextReqid: number;
}

/**
 * Host reqids of VF CHILD_SAs come from the top of the space, far from
 * charon's (which counts up from 1): a VF's policies never share a reqid with
 * the host's own, so an ACQUIRE from one can never start a host negotiation.
 */
export const REQID_BASE = 0xc0000000;

export function emptyOwnership(): Ownership {
  return { vfs: new Map(), nextReqid: REQID_BASE };
}

export function vfOwnership(o: Ownership, vf: string, ifId: number): VfOwnership {
  let v = o.vfs.get(vf);
  if (!v) {
    v = { epoch: null, ifId, children: new Map(), retired: [], reqids: new Map() };
    o.vfs.set(vf, v);
  }
  return v;
}

/** The host reqid of a tenant reqid of one VF: stable while the VF's SAs live. */
export function reqidFor(o: Ownership, vf: string, ifId: number, tenantReqid: number): number {
  const v = vfOwnership(o, vf, ifId);
  const have = v.reqids.get(tenantReqid);
  if (have !== undefined) return have;
  const used = new Set([...o.vfs.values()].flatMap((x) => [...x.reqids.values()]));
  let r = o.nextReqid;
  while (used.has(r)) r = r >= 0xfffffffe ? REQID_BASE : r + 1;
  o.nextReqid = r >= 0xfffffffe ? REQID_BASE : r + 1;
  v.reqids.set(tenantReqid, r);
  return r;
}

export const saId = (s: { family: Family; daddr: string; spi: number }): string => `${s.family}/${s.daddr}/${(s.spi >>> 0).toString(16)}`;

/** Index over every VF: who holds an SA, who uses an inbound SPI. */
export interface OwnershipIndex {
  holderOf(s: { family: Family; daddr: string; spi: number }): { vf: string; uniqueid: number } | undefined;
  /** VFs other than `except` with an inbound SA of this SPI (any destination) */
  inboundSpiUsers(spi: number, except: string): string[];
  saCount(vf: string): number;
}

export function indexOf(o: Ownership): OwnershipIndex {
  const holders = new Map<string, { vf: string; uniqueid: number }>();
  const inbound = new Map<number, Set<string>>();
  const counts = new Map<string, number>();
  for (const [vf, v] of o.vfs) {
    let n = 0;
    for (const c of v.children.values()) {
      for (const s of c.sas) {
        holders.set(saId(s), { vf, uniqueid: c.uniqueid });
        if (s.dir === 'in') inbound.set(s.spi, (inbound.get(s.spi) ?? new Set()).add(vf));
        n++;
      }
    }
    counts.set(vf, n);
  }
  return {
    holderOf: (s) => holders.get(saId(s)),
    inboundSpiUsers: (spi, except) => [...(inbound.get(spi) ?? [])].filter((v) => v !== except).sort(),
    saCount: (vf) => counts.get(vf) ?? 0,
  };
}

export function isRetired(v: VfOwnership | undefined, s: { family: Family; daddr: string; spi: number }, now: number): boolean {
  const id = saId(s);
  return v !== undefined && v.retired.some((r) => r.until > now && saId(r) === id);
}

export function addOwnedChild(o: Ownership, vf: string, ifId: number, c: OwnedChild): void {
  vfOwnership(o, vf, ifId).children.set(c.uniqueid, c);
}

/** What removing a child frees: the policies and routes no other child of the VF needs. */
export interface Freed {
  policies: OwnedPolicy[];
  routes: string[];
}

export const policyId = (p: OwnedPolicy): string => {
  const s = p.selector;
  return `${p.dir} ${String(s.family)} ${s.saddr}/${s.prefixlenS}:${s.sport}/${s.sportMask} ${s.daddr}/${s.prefixlenD}:${s.dport}/${s.dportMask} p${s.proto}`;
};

/**
 * Removes a child; its SAs are retired until `retireUntil` (they were
 * installed on the host: a copy from the tenant would restart their replay
 * state). Returns what only it needed.
 */
export function removeOwnedChild(o: Ownership, vf: string, uniqueid: number, retireUntil: number): Freed {
  const v = o.vfs.get(vf);
  const c = v?.children.get(uniqueid);
  if (!v || !c) return { policies: [], routes: [] };
  v.children.delete(uniqueid);
  for (const s of c.sas) if (!v.retired.some((r) => saId(r) === saId(s))) v.retired.push({ family: s.family, daddr: s.daddr, spi: s.spi, until: retireUntil });
  const stillPolicies = new Set([...v.children.values()].flatMap((x) => x.policies.map(policyId)));
  const stillRoutes = new Set([...v.children.values()].flatMap((x) => x.routes));
  if (![...v.children.values()].some((x) => x.tenantReqid === c.tenantReqid)) v.reqids.delete(c.tenantReqid);
  return { policies: c.policies.filter((p) => !stillPolicies.has(policyId(p))), routes: [...new Set(c.routes)].filter((r) => !stillRoutes.has(r)) };
}

/** Policies a new child needs that the VF does not have yet. */
export function newPolicies(v: VfOwnership | undefined, c: OwnedChild): OwnedPolicy[] {
  const have = new Set(v ? [...v.children.values()].flatMap((x) => x.policies.map(policyId)) : []);
  const seen = new Set<string>();
  return c.policies.filter((p) => {
    const id = policyId(p);
    if (have.has(id) || seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

export function newRoutes(v: VfOwnership | undefined, c: OwnedChild): string[] {
  const have = new Set(v ? [...v.children.values()].flatMap((x) => x.routes) : []);
  return [...new Set(c.routes)].filter((r) => !have.has(r));
}

export function pruneRetired(o: Ownership, now: number): void {
  for (const v of o.vfs.values()) v.retired = v.retired.filter((r) => r.until > now);
}

/** Takes back a child that never carried traffic (its install failed before any policy): nothing is retired. */
export function forgetOwnedChild(o: Ownership, vf: string, uniqueid: number): void {
  const v = o.vfs.get(vf);
  const c = v?.children.get(uniqueid);
  if (!v || !c) return;
  v.children.delete(uniqueid);
  if (![...v.children.values()].some((x) => x.tenantReqid === c.tenantReqid)) v.reqids.delete(c.tenantReqid);
}
