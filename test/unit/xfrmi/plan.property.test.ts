// Properties of the planner over random namespaces and CHILD_SAs. The plan's
// actions are applied to a small model of the namespace that refuses what
// the kernel refuses (a second interface with one if_id or one name, a second
// IPv4 route with one destination/table/metric, a route through a down
// device), so "the plan never asks the impossible" is checked too. The
// model stands in for the kernel only to drive the pure planner round after
// round; what the kernel really does is the lab's to show.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { planXfrmi } from '../../../src/xfrmi/plan.js';
import { ROUTE_PROTOCOL, isOurs, ownAlias } from '../../../src/xfrmi/ownership.js';
import type { Action, Observed, ObservedLink, ObservedRoute, XfrmiChild } from '../../../src/xfrmi/types.js';
import { T0, baseAddresses, child, foreign, lan0, lo, nsim0, ours, route, settings, vethA } from './builders.js';

const IF_IDS = [1, 2, 3, 7];
const DSTS = ['10.2.0.0/24', '10.3.0.0/24', '0.0.0.0/0', '10.2.0.0/24[udp/1]', '10.0.0.2/32'];

const childArb = fc.record({
  uniqueid: fc.integer({ min: 1, max: 50 }),
  ifIdIn: fc.option(fc.constantFrom(...IF_IDS), { nil: undefined }),
  ifIdOut: fc.option(fc.constantFrom(...IF_IDS), { nil: undefined }),
  localAddr: fc.constantFrom('10.0.0.1', '10.0.0.1', '192.0.2.9'),
  remoteTs: fc.subarray(DSTS, { minLength: 1 }),
});

const linkArb = fc.oneof(
  fc.record({ k: fc.constant('ours' as const), ifId: fc.constantFrom(...IF_IDS), up: fc.boolean(), mtu: fc.constantFrom(1400, 1500) }),
  fc.record({ k: fc.constant('foreign' as const), ifId: fc.constantFrom(...IF_IDS), up: fc.boolean(), mtu: fc.constantFrom(1400, 1500) }),
  fc.record({ k: fc.constant('veth' as const), ifId: fc.constantFrom(...IF_IDS), up: fc.boolean(), mtu: fc.constant(1500) }),
);

const routeArb = fc.record({ dst: fc.constantFrom('10.2.0.0/24', '10.3.0.0/24'), on: fc.nat(), ours: fc.boolean() });

const scenario = fc.record({
  children: fc.uniqueArray(childArb, { selector: (c) => c.uniqueid, maxLength: 4 }),
  links: fc.uniqueArray(linkArb, { selector: (l) => `${l.k === 'veth' ? 'n' : 'x'}${l.ifId}`, maxLength: 4 }),
  routes: fc.array(routeArb, { maxLength: 3 }),
  install: fc.boolean(),
  template: fc.constantFrom('xfrm{ifid}', 'ipsec{ifid}-{dir}'),
  synced: fc.boolean(),
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

function build(s: Scenario): { observed: Observed; children: XfrmiChild[] } {
  const links: ObservedLink[] = [lo, nsim0, vethA, lan0];
  let index = 20;
  const ids = new Set<number>();
  for (const l of s.links) {
    if (l.k !== 'veth') {
      // The kernel has at most one xfrm interface per if_id.
      if (ids.has(l.ifId)) continue;
      ids.add(l.ifId);
    }
    const i = index++;
    if (l.k === 'ours') links.push(ours(l.ifId, i, { up: l.up, mtu: l.mtu }));
    else if (l.k === 'foreign') links.push(foreign(l.ifId, i, `ext${l.ifId}`, { up: l.up, mtu: l.mtu }));
    else links.push({ index: i, name: `xfrm${l.ifId}`, kind: 'veth', up: l.up, mtu: l.mtu });
  }
  const names = new Set<string>();
  const unique = links.filter((l) => (names.has(l.name) ? false : (names.add(l.name), true)));
  const routes: ObservedRoute[] = [];
  for (const r of s.routes) {
    const via = r.ours ? unique.filter(isOurs) : unique.filter((l) => !isOurs(l) && l.up);
    const oif = via[r.on % Math.max(1, via.length)];
    if (!oif || routes.some((x) => x.dst === r.dst)) continue;
    routes.push(route(r.dst, oif.index, r.ours ? {} : { protocol: 3 }));
  }
  return {
    observed: { links: unique, addresses: baseAddresses, routes },
    children: s.children.map((c) => child({ uniqueid: c.uniqueid, ifIdIn: c.ifIdIn, ifIdOut: c.ifIdOut, localAddr: c.localAddr, remoteTs: c.remoteTs })),
  };
}

/** Applies one action like the kernel would, throwing where the kernel would refuse. */
function apply(o: Observed, a: Action): void {
  const link = (i: number): ObservedLink => {
    const l = o.links.find((x) => x.index === i);
    if (!l) throw new Error(`${a.type}: no ifindex ${i}`);
    if (!isOurs(l)) throw new Error(`${a.type}: ifindex ${i} (${l.name}) is not ours`);
    return l;
  };
  const sameKey = (r: ObservedRoute, k: { family: number; dst: string; table: number; metric: number }): boolean =>
    r.family === k.family && r.dst === k.dst && r.table === k.table && r.metric === k.metric;
  switch (a.type) {
    case 'create': {
      if (o.links.some((l) => l.name === a.name)) throw new Error(`create: EEXIST name ${a.name}`);
      if (o.links.some((l) => l.xfrm?.ifId === a.ifId)) throw new Error(`create: EEXIST if_id ${a.ifId}`);
      if (a.name.length > 15) throw new Error('create: name too long');
      const index = Math.max(...o.links.map((l) => l.index)) + 1;
      o.links.push({ index, name: a.name, kind: 'xfrm', up: true, mtu: a.mtu, alias: ownAlias(a.ifId), xfrm: { ifId: a.ifId, link: a.link ?? 0, collectMetadata: false } });
      return;
    }
    case 'set-up':
      link(a.ifindex).up = true;
      return;
    case 'set-mtu':
      link(a.ifindex).mtu = a.mtu;
      return;
    case 'delete':
      link(a.ifindex);
      o.links = o.links.filter((l) => l.index !== a.ifindex);
      o.routes = o.routes.filter((r) => r.oif !== a.ifindex);
      return;
    case 'route-add':
      if (!link(a.ifindex).up) throw new Error('route-add: ENETDOWN');
      if (o.routes.some((r) => sameKey(r, a.route))) throw new Error(`route-add: EEXIST ${a.route.dst}`);
      o.routes.push({ ...a.route, oif: a.ifindex, protocol: ROUTE_PROTOCOL, type: 'unicast', ...(a.prefsrc ? { prefsrc: a.prefsrc } : {}) });
      return;
    case 'route-replace': {
      if (!link(a.ifindex).up) throw new Error('route-replace: ENETDOWN');
      const old = o.routes.find((r) => sameKey(r, a.route));
      if (old && !(old.protocol === ROUTE_PROTOCOL && old.oif !== undefined && isOurs(link(old.oif)))) throw new Error('route-replace: replaces a foreign route');
      o.routes = o.routes.filter((r) => !sameKey(r, a.route));
      o.routes.push({ ...a.route, oif: a.ifindex, protocol: ROUTE_PROTOCOL, type: 'unicast', ...(a.prefsrc ? { prefsrc: a.prefsrc } : {}) });
      return;
    }
    case 'route-del': {
      link(a.ifindex);
      const before = o.routes.length;
      o.routes = o.routes.filter((r) => !(sameKey(r, a.route) && r.oif === a.ifindex && r.protocol === ROUTE_PROTOCOL));
      if (o.routes.length === before) throw new Error(`route-del: ESRCH ${a.route.dst}`);
      return;
    }
  }
}

const GRACE = 1000;

describe('planner properties', () => {
  it('never touches what is not ours, never asks the impossible, converges, and then wants nothing', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { observed, children } = build(s);
        const cfg = settings({ name: s.template, grace: GRACE / 1000, routes: { install: s.install } });
        const foreignBefore = JSON.stringify(observed.links.filter((l) => !isOurs(l)));
        const foreignRoutesBefore = JSON.stringify(observed.routes.filter((r) => r.protocol !== ROUTE_PROTOCOL));
        let idle = new Map<string, number>();
        let now = T0;
        let last;
        // Rounds 1 GRACE apart: creation, set-up, routes, idle expiry.
        for (let round = 0; round < 8; round++) {
          last = planXfrmi({ children, synced: s.synced, observed, now, idle }, cfg);
          idle = last.idle;
          if (!s.synced) expect(last.actions.filter((a) => a.type === 'delete' || a.type === 'route-del')).toEqual([]);
          for (const a of last.actions) apply(observed, a);
          now += GRACE;
        }
        expect(last?.actions).toEqual([]);
        expect(JSON.stringify(observed.links.filter((l) => !isOurs(l)))).toBe(foreignBefore);
        expect(JSON.stringify(observed.routes.filter((r) => r.protocol !== ROUTE_PROTOCOL))).toBe(foreignRoutesBefore);

        // Every if_id a CHILD_SA uses has our interface, up, with the MTU, unless a conflict says why not.
        const used = new Set(children.flatMap((c) => [c.ifIdIn, c.ifIdOut]).filter((x): x is number => x !== undefined));
        for (const id of used) {
          const mine = observed.links.find((l) => isOurs(l) && l.xfrm?.ifId === id);
          const blocked = last?.conflicts.some((c) => c.ifId === id && c.kind !== 'route-exists');
          expect(Boolean(mine) !== Boolean(blocked)).toBe(true);
          if (mine) expect(mine).toMatchObject({ up: true, mtu: 1400 });
        }
        // Once synced and past the grace period, nothing unused of ours is left.
        if (s.synced) {
          for (const l of observed.links.filter(isOurs)) expect(used.has(l.xfrm?.ifId ?? 0)).toBe(true);
          if (!s.install) expect(observed.routes.filter((r) => r.protocol === ROUTE_PROTOCOL)).toEqual([]);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('is deterministic: the same input gives the same plan', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { observed, children } = build(s);
        const cfg = settings({ name: s.template, routes: { install: s.install } });
        const a = planXfrmi({ children, synced: s.synced, observed, now: T0, idle: new Map() }, cfg);
        const b = planXfrmi({ children: [...children].reverse(), synced: s.synced, observed, now: T0, idle: new Map() }, cfg);
        expect(b).toEqual(a);
      }),
      { numRuns: 200 },
    );
  });
});
