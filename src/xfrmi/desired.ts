// What the CHILD_SAs ask for, before looking at the kernel: one interface
// per distinct if_id (in or out), and, when routes are on, a route for each
// remote selector of a CHILD_SA through its if_id_out interface - as charon's
// install_routes_xfrmi does. Pure.
import type { InterfaceSettings, XfrmiSettings } from './config.js';
import { expandName, type IfIdUse } from './names.js';
import { canonicalAddress, prefixContains, selectorPrefix } from './selectors.js';
import type { ChildRef, ObservedAddress, RouteKey, RouteSkip, XfrmiChild } from './types.js';

export interface WantedRoute {
  /** the selector as charon printed it (first one, when several give the same route) */
  ts: string;
  key: RouteKey;
  /** a local address inside the CHILD_SA's local selectors: the source of locally sent packets */
  prefsrc?: string;
  users: ChildRef[];
  skip?: RouteSkip;
}

export interface WantedInterface {
  ifId: number;
  settings: InterfaceSettings;
  name: string;
  use: IfIdUse;
  dirs: ('in' | 'out')[];
  /** sorted by uniqueid */
  users: ChildRef[];
  /** the local address of the first user: its owner is the underlying device */
  localAddr: string;
  /** sorted by destination */
  routes: WantedRoute[];
}

/** IPv6 routes added without RTA_PRIORITY get this metric (IP6_RT_PRIO_USER); IPv4 ones 0. */
export function effectiveMetric(family: 4 | 6, metric: number | undefined): number {
  return metric ?? (family === 6 ? 1024 : 0);
}

export function routeKeyText(k: RouteKey): string {
  return `${k.dst}@${k.table}/${k.metric}`;
}

const byUniqueid = (a: XfrmiChild, b: XfrmiChild): number => a.uniqueid - b.uniqueid;
const ref = (c: XfrmiChild): ChildRef => ({ conn: c.conn, child: c.child, uniqueid: c.uniqueid });

export function wantedInterfaces(children: readonly XfrmiChild[], settings: XfrmiSettings, addresses: readonly ObservedAddress[]): WantedInterface[] {
  const uses = new Map<number, { in: boolean; out: boolean; users: XfrmiChild[]; outUsers: XfrmiChild[] }>();
  for (const c of [...children].sort(byUniqueid)) {
    for (const [id, dir] of [
      [c.ifIdIn, 'in'],
      [c.ifIdOut, 'out'],
    ] as const) {
      // charon omits an if_id of 0: no interface.
      if (!id) continue;
      let u = uses.get(id);
      if (!u) uses.set(id, (u = { in: false, out: false, users: [], outUsers: [] }));
      u[dir] = true;
      if (!u.users.includes(c)) u.users.push(c);
      if (dir === 'out') u.outUsers.push(c);
    }
  }
  const local = addresses.map((a) => ({ ...a, address: canonicalAddress(a.address) }));
  const out: WantedInterface[] = [];
  for (const [ifId, u] of [...uses].sort((a, b) => a[0] - b[0])) {
    const s = settings.forIfId(ifId);
    const use: IfIdUse = u.in && u.out ? 'io' : u.in ? 'in' : 'out';
    out.push({
      ifId,
      settings: s,
      name: s.name ?? expandName(settings.template, ifId, use),
      use,
      dirs: [...(u.in ? ['in' as const] : []), ...(u.out ? ['out' as const] : [])],
      users: u.users.map(ref),
      localAddr: u.users[0]?.localAddr ?? '',
      routes: s.routes ? routesFor(u.outUsers, s, local) : [],
    });
  }
  return out;
}

function routesFor(users: readonly XfrmiChild[], s: InterfaceSettings, local: readonly ObservedAddress[]): WantedRoute[] {
  const routes = new Map<string, WantedRoute>();
  const skipped: WantedRoute[] = [];
  for (const c of users) {
    for (const ts of c.remoteTs) {
      const p = selectorPrefix(ts);
      if (!p.ok) {
        skipped.push({ ts, key: { family: 4, dst: ts, table: s.table, metric: effectiveMetric(4, s.metric) }, users: [ref(c)], skip: p.reason });
        continue;
      }
      const key: RouteKey = { family: p.prefix.family, dst: p.prefix.cidr, table: s.table, metric: effectiveMetric(p.prefix.family, s.metric) };
      const k = routeKeyText(key);
      const prev = routes.get(k);
      if (prev) {
        if (!prev.users.some((r) => r.uniqueid === c.uniqueid)) prev.users.push(ref(c));
        prev.prefsrc ??= sourceFor(c, p.prefix.family, local);
        continue;
      }
      const r: WantedRoute = { ts, key, users: [ref(c)] };
      if (prefixContains(p.prefix, c.remoteAddr)) r.skip = 'covers-peer';
      const src = sourceFor(c, p.prefix.family, local);
      if (src !== undefined) r.prefsrc = src;
      routes.set(k, r);
    }
  }
  return [...[...routes.values()].sort((a, b) => (a.key.dst < b.key.dst ? -1 : a.key.dst > b.key.dst ? 1 : 0)), ...skipped];
}

/** charon picks the source of its routes the same way: a local address inside the local selectors. */
function sourceFor(c: XfrmiChild, family: 4 | 6, local: readonly ObservedAddress[]): string | undefined {
  const candidates = local
    .filter((a) => a.family === family)
    .map((a) => a.address)
    .sort();
  for (const ts of c.localTs) {
    const p = selectorPrefix(ts);
    if (!p.ok || p.prefix.family !== family) continue;
    const hit = candidates.find((a) => prefixContains(p.prefix, a));
    if (hit !== undefined) return hit;
  }
  return undefined;
}
