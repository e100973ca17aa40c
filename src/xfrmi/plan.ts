// The xfrm interface planner: a pure function from charon's CHILD_SAs, the
// namespace's links/addresses/routes and the config to the minimal set of
// changes, the conflicts it will not resolve by force, and the rows of
// `xfrmi list`. No I/O, no clock (input.now): the edge applies the actions,
// reads the kernel again and plans again until nothing is left to do.
//
// Rules: only interfaces with our alias and routes with our protocol through
// them are ever changed; an interface (and a route) that loses its last
// CHILD_SA goes only after the grace period, and only while charon's view is
// complete; an interface we find that is wanted is adopted as it is (never
// recreated: recreating would flap it).
import type { XfrmiSettings } from './config.js';
import { routeKeyText, wantedInterfaces, type WantedInterface, type WantedRoute } from './desired.js';
import { IFNAME_MAX } from './names.js';
import { canonicalAddress } from './selectors.js';
import { ROUTE_PROTOCOL, isOurRoute, isOurs } from './ownership.js';
import type { Action, Conflict, ObservedLink, ObservedRoute, PlanInput, RouteKey, RouteRow, XfrmiPlan, XfrmiRow } from './types.js';

const ifKey = (ifId: number): string => `if:${ifId}`;
const rtKey = (ifId: number, k: RouteKey): string => `rt:${ifId}:${routeKeyText(k)}`;
const sameKey = (r: ObservedRoute, k: RouteKey): boolean => r.family === k.family && r.dst === k.dst && r.table === k.table && r.metric === k.metric;
const keyOf = (r: ObservedRoute): RouteKey => ({ family: r.family, dst: r.dst, table: r.table, metric: r.metric });

const ACTION_ORDER: Action['type'][] = ['create', 'set-up', 'set-mtu', 'route-replace', 'route-add', 'route-del', 'delete'];

export function planXfrmi(input: PlanInput, settings: XfrmiSettings): XfrmiPlan {
  const { observed, now } = input;
  const byIndex = new Map(observed.links.map((l) => [l.index, l]));
  const byName = new Map(observed.links.map((l) => [l.name, l]));
  const ours = new Map<number, ObservedLink>();
  const foreign = new Map<number, ObservedLink>();
  for (const l of observed.links) {
    if (l.kind !== 'xfrm' || !l.xfrm || l.xfrm.collectMetadata || l.xfrm.ifId === 0) continue;
    (isOurs(l) ? ours : foreign).set(l.xfrm.ifId, l);
  }
  const oursByIndex = new Map([...ours.values()].map((l) => [l.index, l]));
  const ourRoutes = observed.routes.filter((r) => isOurRoute(r, oursByIndex));
  const linkName = (index: number | undefined): string | null => (index ? (byIndex.get(index)?.name ?? `if${index}`) : null);

  if (!settings.enabled) {
    const rows = [...ours.values()].map((l) => ownRow(l, linkName(l.xfrm?.link), [], 'ours', null));
    return { actions: [], rows: sortRows(rows), conflicts: [], idle: new Map(), wakeAt: null };
  }

  const wanted = wantedInterfaces(input.children, settings, observed.addresses);
  const wantedById = new Map(wanted.map((w) => [w.ifId, w]));
  const actions: Action[] = [];
  const conflicts: Conflict[] = [];
  const rows: XfrmiRow[] = [];
  const idle = new Map<string, number>();
  let wakeAt: number | null = null;

  /** Grace bookkeeping: whether `key`, unused, may go now; else when it will. */
  const expired = (key: string): { go: boolean; since: number; removeAt: number | null } => {
    if (!input.synced) return { go: false, since: now, removeAt: null };
    const since = input.idle.get(key) ?? now;
    idle.set(key, since);
    const removeAt = since + settings.graceMs;
    if (now >= removeAt) return { go: true, since, removeAt };
    wakeAt = wakeAt === null ? removeAt : Math.min(wakeAt, removeAt);
    return { go: false, since, removeAt };
  };

  // Routes that one of our interfaces already carries and still wants keep
  // their holder: a second if_id wanting the same destination is the conflict.
  const claimed = new Map<string, number>();
  for (const r of ourRoutes) {
    const holder = oursByIndex.get(r.oif ?? -1)?.xfrm?.ifId;
    const w = holder === undefined ? undefined : wantedById.get(holder);
    if (w && w.routes.some((x) => !x.skip && sameKey(r, x.key))) claimed.set(routeKeyText(keyOf(r)), w.ifId);
  }
  const claimedNames = new Set<string>();
  /** our routes taken over by another of our interfaces in this plan: not removed with their old one */
  const moved = new Set<string>();

  for (const w of wanted) {
    const f = foreign.get(w.ifId);
    if (f) {
      const c: Conflict = {
        kind: 'foreign-ifid',
        ifId: w.ifId,
        subject: f.name,
        ifindex: f.index,
        message: `${f.name} (ifindex ${f.index}) is an xfrm interface with if_id ${w.ifId} that ipsec-offload did not create: left alone (the kernel allows one interface per if_id); remove it, or let it serve these CHILD_SAs yourself`,
      };
      conflicts.push(c);
      rows.push({
        ...baseRow(w),
        name: f.name,
        ifindex: f.index,
        link: linkName(f.xfrm?.link),
        state: 'conflict',
        owner: 'foreign',
        mtu: f.mtu ?? null,
        routes: w.routes.map((r) => wantedRouteRow(r, r.skip ? 'skipped' : 'conflict', r.skip ?? `if_id ${w.ifId} belongs to ${f.name}`)),
        conflict: c,
      });
      continue;
    }

    const own = ours.get(w.ifId);
    if (own) {
      claimedNames.add(own.name);
      if (!own.up) actions.push({ type: 'set-up', ifId: w.ifId, ifindex: own.index, name: own.name });
      if (own.mtu !== w.settings.mtu) {
        actions.push({ type: 'set-mtu', ifId: w.ifId, ifindex: own.index, name: own.name, mtu: w.settings.mtu, ...(own.mtu !== undefined ? { was: own.mtu } : {}) });
      }
      const routeRows = planRoutes(w, own);
      rows.push({
        ...baseRow(w),
        name: own.name,
        ifindex: own.index,
        link: linkName(own.xfrm?.link),
        state: own.up ? 'up' : 'down',
        owner: 'ipsec-offload',
        mtu: own.mtu ?? null,
        routes: routeRows,
        conflict: null,
      });
      continue;
    }

    const blocked = creationBlocker(w);
    if (blocked.conflict) {
      conflicts.push(blocked.conflict);
      rows.push({
        ...baseRow(w),
        state: 'conflict',
        routes: w.routes.map((r) => wantedRouteRow(r, r.skip ? 'skipped' : 'pending', r.skip ?? 'no interface yet')),
        conflict: blocked.conflict,
      });
      continue;
    }
    claimedNames.add(w.name);
    actions.push({
      type: 'create',
      ifId: w.ifId,
      name: w.name,
      ...(blocked.link !== undefined ? { link: blocked.link.index, linkName: blocked.link.name } : {}),
      mtu: w.settings.mtu,
      users: w.users,
    });
    rows.push({
      ...baseRow(w),
      link: blocked.link?.name ?? null,
      state: 'pending',
      routes: w.routes.map((r) => wantedRouteRow(r, r.skip ? 'skipped' : 'pending', r.skip ?? 'interface being created')),
      conflict: null,
    });
  }

  for (const row of rows) {
    const w = wantedById.get(row.ifId);
    const own = ours.get(row.ifId);
    if (w && own && row.owner === 'ipsec-offload') row.routes.push(...idleRoutes(w, own));
  }

  // Our interfaces no CHILD_SA wants: idle until the grace period ends.
  for (const l of ours.values()) {
    const ifId = l.xfrm?.ifId ?? 0;
    if (wantedById.has(ifId)) continue;
    const g = expired(ifKey(ifId));
    const mine = ourRoutes.filter((r) => r.oif === l.index && !moved.has(`${l.index}:${routeKeyText(keyOf(r))}`));
    if (g.go) {
      for (const r of mine) actions.push({ type: 'route-del', ifId, ifindex: l.index, dev: l.name, route: keyOf(r), reason: 'interface-removed', idleMs: now - g.since });
      actions.push({ type: 'delete', ifId, ifindex: l.index, name: l.name, idleMs: now - g.since });
    }
    rows.push(
      ownRow(
        l,
        linkName(l.xfrm?.link),
        mine.map((r) => observedRouteRow(r, 'idle', 'no CHILD_SA uses it', g.removeAt)),
        'idle',
        g.removeAt,
      ),
    );
  }

  actions.sort((a, b) => ACTION_ORDER.indexOf(a.type) - ACTION_ORDER.indexOf(b.type));
  return { actions, rows: sortRows(rows), conflicts, idle, wakeAt };

  // ---- helpers that share the plan's state ----

  function creationBlocker(w: WantedInterface): { conflict?: Conflict; link?: ObservedLink } {
    const conflict = (kind: Conflict['kind'], subject: string, message: string, ifindex?: number): { conflict: Conflict } => ({
      conflict: { kind, ifId: w.ifId, subject, message, ...(ifindex !== undefined ? { ifindex } : {}) },
    });
    if (w.name.length > IFNAME_MAX) {
      return conflict('name-too-long', w.name, `the name template gives if_id ${w.ifId} the name "${w.name}" (${w.name.length} characters; at most ${IFNAME_MAX}): shorten xfrmi.name or set xfrmi.interfaces.${w.ifId}.name`);
    }
    const holder = byName.get(w.name);
    if (holder || claimedNames.has(w.name)) {
      const what = holder ? `${holder.kind ? `a ${holder.kind} interface` : 'an interface'} (ifindex ${holder.index})` : 'another if_id in this plan';
      return conflict('name-taken', w.name, `the name ${w.name} for if_id ${w.ifId} is taken by ${what}: not created; rename it, or set xfrmi.name / xfrmi.interfaces.${w.ifId}.name`, holder?.index);
    }
    if (w.settings.link !== undefined) {
      const link = byName.get(w.settings.link);
      if (!link) return conflict('link-missing', w.settings.link, `the configured underlying device ${w.settings.link} for if_id ${w.ifId} does not exist: waiting for it`);
      return { link };
    }
    const local = canonicalAddress(w.localAddr);
    const owner = observed.addresses.find((a) => canonicalAddress(a.address) === local);
    const link = owner ? byIndex.get(owner.ifindex) : undefined;
    if (!link) {
      return conflict('link-unknown', w.localAddr, `no device owns the local address ${w.localAddr} of if_id ${w.ifId}'s CHILD_SAs: waiting (or set xfrmi.link)`);
    }
    return { link };
  }

  function planRoutes(w: WantedInterface, own: ObservedLink): RouteRow[] {
    const out: RouteRow[] = [];
    const refuse = (r: WantedRoute, message: string): void => {
      conflicts.push({ kind: 'route-exists', ifId: w.ifId, subject: r.key.dst, message });
      out.push(wantedRouteRow(r, 'conflict', message));
    };
    for (const r of w.routes) {
      if (r.skip) {
        out.push(wantedRouteRow(r, 'skipped', r.skip));
        continue;
      }
      const k = routeKeyText(r.key);
      const existing = observed.routes.filter((x) => sameKey(x, r.key));
      const mine = existing.find((x) => x.oif === own.index && x.protocol === ROUTE_PROTOCOL);
      if (mine) {
        claimed.set(k, w.ifId);
        if (r.prefsrc !== undefined && mine.prefsrc !== r.prefsrc) {
          actions.push(routeAction('route-replace', w, own, r, mine.prefsrc));
        }
        out.push(wantedRouteRow(r, 'installed', null));
        continue;
      }
      if (!own.up) {
        // The kernel refuses a route through a device that is down.
        out.push(wantedRouteRow(r, 'pending', 'interface down'));
        continue;
      }
      const holderId = claimed.get(k);
      if (holderId !== undefined && holderId !== w.ifId) {
        const holder = ours.get(holderId);
        refuse(r, `the route to ${r.key.dst} (table ${r.key.table}, metric ${r.key.metric}) is held by if_id ${holderId}${holder ? ` (${holder.name})` : ''}, whose CHILD_SAs still want it: one destination, one route`);
        continue;
      }
      const other = existing.find((x) => !isOurRoute(x, oursByIndex));
      if (other) {
        refuse(r, `a route to ${r.key.dst} (table ${r.key.table}, metric ${r.key.metric}) already exists${other.oif ? ` via ${linkName(other.oif)}` : ''} and is not ours: not replaced`);
        continue;
      }
      claimed.set(k, w.ifId);
      const idleOurs = existing.find((x) => isOurRoute(x, oursByIndex));
      if (idleOurs) {
        // Ours, on an interface that no longer wants it (a new if_id after a
        // reauthentication): move it over in one replace, no gap.
        moved.add(`${idleOurs.oif}:${k}`);
        actions.push(routeAction('route-replace', w, own, r, idleOurs.prefsrc));
      } else actions.push(routeAction('route-add', w, own, r));
      out.push(wantedRouteRow(r, 'pending', null));
    }
    return out;
  }

  /** Our routes on a wanted interface that no CHILD_SA asks for any more (after every move is known). */
  function idleRoutes(w: WantedInterface, own: ObservedLink): RouteRow[] {
    const out: RouteRow[] = [];
    for (const x of ourRoutes) {
      if (x.oif !== own.index || moved.has(`${own.index}:${routeKeyText(keyOf(x))}`)) continue;
      if (w.routes.some((r) => !r.skip && sameKey(x, r.key))) continue;
      const g = expired(rtKey(w.ifId, keyOf(x)));
      if (g.go) actions.push({ type: 'route-del', ifId: w.ifId, ifindex: own.index, dev: own.name, route: keyOf(x), reason: 'unused', idleMs: now - g.since });
      out.push(observedRouteRow(x, 'idle', 'no CHILD_SA uses it', g.removeAt));
    }
    return out;
  }
}

function routeAction(type: 'route-add' | 'route-replace', w: WantedInterface, own: ObservedLink, r: WantedRoute, was?: string): Action {
  const base = { ifId: w.ifId, ifindex: own.index, dev: own.name, route: r.key, users: r.users, ...(r.prefsrc !== undefined ? { prefsrc: r.prefsrc } : {}) };
  return type === 'route-add' ? { type, ...base } : { type, ...base, ...(was !== undefined ? { was } : {}) };
}

function baseRow(w: WantedInterface): XfrmiRow {
  return {
    ifId: w.ifId,
    name: w.name,
    ifindex: null,
    link: null,
    state: 'pending',
    owner: null,
    mtu: null,
    dirs: w.dirs,
    conns: w.users,
    routes: [],
    conflict: null,
    removeAt: null,
    error: null,
  };
}

function ownRow(l: ObservedLink, link: string | null, routes: RouteRow[], state: 'idle' | 'ours', removeAt: number | null): XfrmiRow {
  return {
    ifId: l.xfrm?.ifId ?? 0,
    name: l.name,
    ifindex: l.index,
    link,
    state: state === 'idle' ? 'idle' : l.up ? 'up' : 'down',
    owner: 'ipsec-offload',
    mtu: l.mtu ?? null,
    dirs: [],
    conns: [],
    routes,
    conflict: null,
    removeAt,
    error: null,
  };
}

function wantedRouteRow(r: WantedRoute, state: RouteRow['state'], reason: string | null): RouteRow {
  return { dst: r.key.dst, table: r.key.table, metric: r.key.metric, prefsrc: r.prefsrc ?? null, state, reason, removeAt: null };
}

function observedRouteRow(r: ObservedRoute, state: RouteRow['state'], reason: string, removeAt: number | null): RouteRow {
  return { dst: r.dst, table: r.table, metric: r.metric, prefsrc: r.prefsrc ?? null, state, reason, removeAt };
}

function sortRows(rows: XfrmiRow[]): XfrmiRow[] {
  return rows.sort((a, b) => a.ifId - b.ifId);
}
