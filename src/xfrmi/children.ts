// The CHILD_SAs that use if_ids, kept from list-sas and charon's events.
// Reducers on a plain map (uniqueid -> child); every one is idempotent, so
// events that arrived while a list-sas ran can be applied again after it.
import type { ChildSa } from '../vici/views/child-sa.js';
import type { ChildRekey, ChildUpdown } from '../vici/views/events.js';
import type { IkeSa } from '../vici/views/ike-sa.js';
import type { XfrmiChild } from './types.js';

export type ChildMap = Map<number, XfrmiChild>;

/** States in which a listed CHILD_SA no longer holds its SAs. */
const GONE_STATES = new Set(['DELETED', 'DESTROYING']);

/** The view of one CHILD_SA, or undefined when it has no if_id (nothing to do for it). */
export function xfrmiChild(ike: IkeSa, c: ChildSa): XfrmiChild | undefined {
  if (!c.ifIdIn && !c.ifIdOut) return undefined;
  return {
    uniqueid: c.uniqueid,
    conn: ike.name,
    child: c.name,
    ikeId: ike.uniqueid,
    ...(c.ifIdIn ? { ifIdIn: c.ifIdIn } : {}),
    ...(c.ifIdOut ? { ifIdOut: c.ifIdOut } : {}),
    localAddr: ike.localHost,
    remoteAddr: ike.remoteHost,
    localTs: c.localTs,
    remoteTs: c.remoteTs,
  };
}

/** charon's complete view (list-sas): replaces everything known. */
export function childrenFromList(ikes: readonly IkeSa[]): ChildMap {
  const out: ChildMap = new Map();
  for (const ike of ikes) {
    for (const c of ike.childSas) {
      if (GONE_STATES.has(c.state)) continue;
      const x = xfrmiChild(ike, c);
      if (x) out.set(x.uniqueid, x);
    }
  }
  return out;
}

export function applyChildUpdown(m: ChildMap, ev: ChildUpdown): void {
  for (const c of ev.children) {
    if (!ev.up) {
      m.delete(c.uniqueid);
      continue;
    }
    const x = xfrmiChild(ev.ike, c);
    if (x) m.set(x.uniqueid, x);
  }
}

/** The new CHILD_SA replaces the old one at once: the if_id never looks unused during a rekey. */
export function applyChildRekey(m: ChildMap, ev: ChildRekey): void {
  for (const r of ev.rekeys) {
    m.delete(r.old.uniqueid);
    const x = xfrmiChild(ev.ike, r.new);
    if (x) m.set(x.uniqueid, x);
  }
}

/** charon also raises child-updown down for each CHILD_SA; this covers a missed one. */
export function applyIkeDown(m: ChildMap, ikeId: number): void {
  for (const [id, c] of m) if (c.ikeId === ikeId) m.delete(id);
}

/** An IKE rekey moves the CHILD_SAs to the new IKE_SA without child events. */
export function applyIkeRekey(m: ChildMap, oldIkeId: number, renamed: { ikeId: number; conn: string }): void {
  for (const c of m.values()) {
    if (c.ikeId !== oldIkeId) continue;
    c.ikeId = renamed.ikeId;
    c.conn = renamed.conn;
  }
}
