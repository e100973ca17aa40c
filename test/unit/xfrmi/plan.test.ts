// The xfrm interface planner, table by table: what it creates, repairs,
// routes, leaves alone and removes, and what it reports as a conflict.
import { describe, expect, it } from 'vitest';
import { planXfrmi } from '../../../src/xfrmi/plan.js';
import type { Action, ConflictKind, PlanInput, XfrmiPlan } from '../../../src/xfrmi/types.js';
import { T0, child, foreign, input, ns, ours, route, settings } from './builders.js';

function summary(a: Action): string {
  switch (a.type) {
    case 'create':
      return `create ${a.ifId} ${a.name} link=${a.linkName ?? '-'} mtu=${a.mtu}`;
    case 'set-up':
      return `up ${a.name}`;
    case 'set-mtu':
      return `mtu ${a.name} ${a.mtu}`;
    case 'delete':
      return `delete ${a.name}`;
    case 'route-add':
      return `add ${a.route.dst} t${a.route.table} m${a.route.metric} dev ${a.dev} src=${a.prefsrc ?? '-'}`;
    case 'route-replace':
      return `replace ${a.route.dst} t${a.route.table} m${a.route.metric} dev ${a.dev} src=${a.prefsrc ?? '-'}`;
    case 'route-del':
      return `del ${a.route.dst} dev ${a.dev} (${a.reason})`;
  }
}

const ROUTES = { routes: { install: true } };

/** After a reauthentication: if_id 2's interface is up beside the old xfrm1, which still carries the route. */
const REAUTH_BOTH_UP: Partial<PlanInput> = {
  children: [child({ uniqueid: 5, ikeId: 2, ifIdIn: 2, ifIdOut: 2 })],
  observed: ns({ links: [ours(1, 10), ours(2, 11)], routes: [route('10.2.0.0/24', 10, { prefsrc: '10.1.0.1' })] }),
};

interface Row {
  name: string;
  input: Partial<PlanInput>;
  config?: Record<string, unknown>;
  actions: string[];
  conflicts?: ConflictKind[];
}

const rows: Row[] = [
  // ---- creation ----
  {
    name: 'a CHILD_SA with if_id 1 and nothing there: create xfrm1 on the device that owns the local address',
    input: {},
    actions: ['create 1 xfrm1 link=nsim0 mtu=1400'],
  },
  {
    name: 'routes on, no interface yet: create first (routes follow once it is up)',
    input: {},
    config: ROUTES,
    actions: ['create 1 xfrm1 link=nsim0 mtu=1400'],
  },
  {
    name: 'routes on, our interface up: route to the remote selector, source from the local selector',
    input: { observed: ns({ links: [ours(1, 10)] }) },
    config: ROUTES,
    actions: ['add 10.2.0.0/24 t254 m0 dev xfrm1 src=10.1.0.1'],
  },
  {
    name: 'no local address inside the local selector: route without a source',
    input: { observed: ns({ links: [ours(1, 10)] }), children: [child({ localTs: ['192.168.9.0/24'] })] },
    config: ROUTES,
    actions: ['add 10.2.0.0/24 t254 m0 dev xfrm1 src=-'],
  },
  {
    name: 'our interface is down: set it up; its routes wait (the kernel refuses routes through a down device)',
    input: { observed: ns({ links: [ours(1, 10, { up: false })] }) },
    config: ROUTES,
    actions: ['up xfrm1'],
  },
  {
    name: 'our interface has another MTU: give it the configured one',
    input: { observed: ns({ links: [ours(1, 10, { mtu: 1500 })] }) },
    config: { mtu: 1380 },
    actions: ['mtu xfrm1 1380'],
  },
  {
    name: 'everything in place: nothing to do',
    input: { observed: ns({ links: [ours(1, 10)], routes: [route('10.2.0.0/24', 10, { prefsrc: '10.1.0.1' })] }) },
    config: ROUTES,
    actions: [],
  },
  {
    name: 'our route has another source address: replace it (no gap)',
    input: { observed: ns({ links: [ours(1, 10)], routes: [route('10.2.0.0/24', 10, { prefsrc: '10.1.0.99' })] }) },
    config: ROUTES,
    actions: ['replace 10.2.0.0/24 t254 m0 dev xfrm1 src=10.1.0.1'],
  },
  {
    name: '%unique-dir: one interface per direction; routes only through the out one',
    input: { children: [child({ ifIdIn: 7, ifIdOut: 8 })], observed: ns({ links: [ours(7, 10), ours(8, 11)] }) },
    config: ROUTES,
    actions: ['add 10.2.0.0/24 t254 m0 dev xfrm8 src=10.1.0.1'],
  },
  {
    name: '{dir} in the template: in, out, or io when one if_id serves both',
    input: { children: [child({ ifIdIn: 7, ifIdOut: 8 }), child({ uniqueid: 2, ifIdIn: 9, ifIdOut: 9, remoteTs: ['10.3.0.0/24'] })] },
    config: { name: 'ipsec{ifid}-{dir}' },
    actions: ['create 7 ipsec7-in link=nsim0 mtu=1400', 'create 8 ipsec8-out link=nsim0 mtu=1400', 'create 9 ipsec9-io link=nsim0 mtu=1400'],
  },
  {
    name: '{ifid_hex}: if_id 0x1234 is xfrm-1234',
    input: { children: [child({ ifIdIn: 0x1234, ifIdOut: 0x1234 })] },
    config: { name: 'xfrm-{ifid_hex}' },
    actions: ['create 4660 xfrm-1234 link=nsim0 mtu=1400'],
  },
  {
    name: 'only an inbound if_id: an interface (decapsulated packets need it up), no routes',
    input: { children: [child({ ifIdIn: 5, ifIdOut: undefined })], observed: ns({ links: [ours(5, 10)] }) },
    config: ROUTES,
    actions: [],
  },
  {
    name: 'a CHILD_SA without if_ids: nothing at all',
    input: { children: [child({ ifIdIn: undefined, ifIdOut: undefined })] },
    config: ROUTES,
    actions: [],
  },
  {
    name: 'per-if_id settings: fixed name, device, MTU, table and metric',
    input: { children: [child({ ifIdIn: 42, ifIdOut: 42 })] },
    config: { ...ROUTES, interfaces: { '42': { name: 'vpn-hq', link: 'vethA', mtu: 1380, table: 100, metric: 50 } } },
    actions: ['create 42 vpn-hq link=vethA mtu=1380'],
  },
  {
    name: 'per-if_id settings: routes of that if_id in table 100 with metric 50',
    input: { children: [child({ ifIdIn: 42, ifIdOut: 42 })], observed: ns({ links: [ours(42, 10, { name: 'vpn-hq', mtu: 1380 })] }) },
    config: { ...ROUTES, interfaces: { '42': { name: 'vpn-hq', mtu: 1380, table: 100, metric: 50 } } },
    actions: ['add 10.2.0.0/24 t100 m50 dev vpn-hq src=10.1.0.1'],
  },
  {
    name: 'the configured underlying device for all interfaces',
    input: {},
    config: { link: 'lan0' },
    actions: ['create 1 xfrm1 link=lan0 mtu=1400'],
  },
  {
    name: 'a local address on lo: lo is the underlying device',
    input: { children: [child({ localAddr: '127.0.0.1' })] },
    actions: ['create 1 xfrm1 link=lo mtu=1400'],
  },
  {
    name: 'an IPv6 CHILD_SA: IPv6 route with the kernel default metric 1024, IPv6 source',
    input: {
      children: [child({ localAddr: 'fd00::1', remoteAddr: 'fd00::2', localTs: ['fd01::/64'], remoteTs: ['fd02::/64'] })],
      observed: ns({ links: [ours(1, 10)], addresses: [{ ifindex: 2, address: 'fd00::1', family: 6 }, { ifindex: 4, address: 'fd01::1', family: 6 }] }),
    },
    config: ROUTES,
    actions: ['add fd02::/64 t254 m1024 dev xfrm1 src=fd01::1'],
  },
  {
    name: 'selectors as charon prints them: port part dropped, host bits cleared, one route for both',
    input: { children: [child({ remoteTs: ['10.2.0.0/24[udp/10002]', '10.2.0.5/24'] })], observed: ns({ links: [ours(1, 10)] }) },
    config: ROUTES,
    actions: ['add 10.2.0.0/24 t254 m0 dev xfrm1 src=10.1.0.1'],
  },
  {
    name: 'a remote selector holding the IKE peer (0.0.0.0/0, or transport mode): no route, it would swallow IKE and ESP',
    input: { children: [child({ remoteTs: ['0.0.0.0/0'] }), child({ uniqueid: 2, remoteTs: ['10.0.0.2/32'] })], observed: ns({ links: [ours(1, 10)] }) },
    config: ROUTES,
    actions: [],
  },
  {
    name: 'a range selector: no route (not one subnet)',
    input: { children: [child({ remoteTs: ['10.2.0.1..10.2.0.9'] })], observed: ns({ links: [ours(1, 10)] }) },
    config: ROUTES,
    actions: [],
  },
  {
    name: 'two CHILD_SAs, one if_id, the same selector: one route',
    input: { children: [child(), child({ uniqueid: 2, child: 'net2' })], observed: ns({ links: [ours(1, 10)] }) },
    config: ROUTES,
    actions: ['add 10.2.0.0/24 t254 m0 dev xfrm1 src=10.1.0.1'],
  },
  {
    name: 'a collect_md xfrm interface (if_id 0) is nobody in particular: ignored',
    input: { observed: ns({ links: [foreign(0, 9, 'xfrm-md', { xfrm: { ifId: 0, link: 0, collectMetadata: true } })] }) },
    actions: ['create 1 xfrm1 link=nsim0 mtu=1400'],
  },

  // ---- conflicts ----
  {
    name: 'a foreign xfrm interface has the if_id: left alone, conflict',
    input: { observed: ns({ links: [foreign(1, 9, 'ext1')] }) },
    config: ROUTES,
    actions: [],
    conflicts: ['foreign-ifid'],
  },
  {
    name: 'an xfrm interface with our alias prefix but another if_id in it is not ours',
    input: { observed: ns({ links: [ours(1, 9, { alias: 'ipsec-offload:xfrmi:2' })] }) },
    actions: [],
    conflicts: ['foreign-ifid'],
  },
  {
    name: 'a foreign xfrm interface whose if_id no CHILD_SA uses: not our business',
    input: { observed: ns({ links: [foreign(5, 9, 'ext5')] }) },
    actions: ['create 1 xfrm1 link=nsim0 mtu=1400'],
  },
  {
    name: 'the name is taken by another interface: not created, conflict',
    input: { observed: ns({ links: [{ index: 9, name: 'xfrm1', kind: 'veth', up: true }] }) },
    actions: [],
    conflicts: ['name-taken'],
  },
  {
    name: 'the template gives a name over 15 characters: conflict',
    input: { children: [child({ ifIdIn: 1234567, ifIdOut: 1234567 })] },
    config: { name: 'ipsec-tun{ifid}' },
    actions: [],
    conflicts: ['name-too-long'],
  },
  {
    name: 'the configured device does not exist: conflict, waits for it',
    input: {},
    config: { link: 'eth9' },
    actions: [],
    conflicts: ['link-missing'],
  },
  {
    name: 'no device owns the local address: conflict',
    input: { children: [child({ localAddr: '192.0.2.1' })] },
    actions: [],
    conflicts: ['link-unknown'],
  },
  {
    name: 'a foreign route to the same destination, table and metric: not replaced, conflict',
    input: { observed: ns({ links: [ours(1, 10)], routes: [route('10.2.0.0/24', 3, { protocol: 3 })] }) },
    config: ROUTES,
    actions: [],
    conflicts: ['route-exists'],
  },
  {
    name: 'somebody routed the destination through our interface by hand (protocol boot): still not ours, conflict',
    input: { observed: ns({ links: [ours(1, 10)], routes: [route('10.2.0.0/24', 10, { protocol: 3 })] }) },
    config: ROUTES,
    actions: [],
    conflicts: ['route-exists'],
  },
  {
    name: 'a foreign route with another metric is another route: ours is added',
    input: { observed: ns({ links: [ours(1, 10)], routes: [route('10.2.0.0/24', 3, { protocol: 3, metric: 100 })] }) },
    config: ROUTES,
    actions: ['add 10.2.0.0/24 t254 m0 dev xfrm1 src=10.1.0.1'],
  },
  {
    name: 'a blackhole for the destination in another table does not matter',
    input: { observed: ns({ links: [ours(1, 10)], routes: [route('10.2.0.0/24', 3, { protocol: 3, table: 100, type: 'blackhole' })] }) },
    config: ROUTES,
    actions: ['add 10.2.0.0/24 t254 m0 dev xfrm1 src=10.1.0.1'],
  },
  {
    name: 'two if_ids want the same destination: the lower one gets it, the other is a conflict',
    input: { children: [child({ ifIdIn: 1, ifIdOut: 1 }), child({ uniqueid: 2, ifIdIn: 2, ifIdOut: 2 })], observed: ns({ links: [ours(1, 10), ours(2, 11)] }) },
    config: ROUTES,
    actions: ['add 10.2.0.0/24 t254 m0 dev xfrm1 src=10.1.0.1'],
    conflicts: ['route-exists'],
  },
  {
    name: 'two if_ids want the same destination and the higher one holds it: the holder keeps it (no flap)',
    input: {
      children: [child({ ifIdIn: 1, ifIdOut: 1 }), child({ uniqueid: 2, ifIdIn: 2, ifIdOut: 2 })],
      observed: ns({ links: [ours(1, 10), ours(2, 11)], routes: [route('10.2.0.0/24', 11, { prefsrc: '10.1.0.1' })] }),
    },
    config: ROUTES,
    actions: [],
    conflicts: ['route-exists'],
  },

  // ---- removal, grace, sync ----
  {
    name: 'no CHILD_SA uses our interface any more: idle, nothing removed before the grace period ends',
    input: { children: [], observed: ns({ links: [ours(1, 10)], routes: [route('10.2.0.0/24', 10)] }) },
    config: ROUTES,
    actions: [],
  },
  {
    name: 'the grace period is over: its routes, then the interface',
    input: { children: [], observed: ns({ links: [ours(1, 10)], routes: [route('10.2.0.0/24', 10)] }), idle: new Map([['if:1', T0 - 30_000]]) },
    config: ROUTES,
    actions: ['del 10.2.0.0/24 dev xfrm1 (interface-removed)', 'delete xfrm1'],
  },
  {
    name: "charon's view is not complete (VICI down): nothing is removed, however long idle",
    input: { children: [], synced: false, observed: ns({ links: [ours(1, 10)] }), idle: new Map([['if:1', T0 - 3_600_000]]) },
    actions: [],
  },
  {
    name: 'a route no CHILD_SA asks for any more, on an interface still in use: removed after the grace period',
    input: {
      children: [child({ remoteTs: ['10.3.0.0/24'] })],
      observed: ns({ links: [ours(1, 10)], routes: [route('10.2.0.0/24', 10), route('10.3.0.0/24', 10, { prefsrc: '10.1.0.1' })] }),
      idle: new Map([['rt:1:10.2.0.0/24@254/0', T0 - 30_000]]),
    },
    config: ROUTES,
    actions: ['del 10.2.0.0/24 dev xfrm1 (unused)'],
  },
  {
    name: 'routes turned off: our routes become idle and go after the grace period',
    input: { observed: ns({ links: [ours(1, 10)], routes: [route('10.2.0.0/24', 10)] }), idle: new Map([['rt:1:10.2.0.0/24@254/0', T0 - 30_000]]) },
    actions: ['del 10.2.0.0/24 dev xfrm1 (unused)'],
  },
  {
    name: 'reauthentication gave a new if_id: the new interface is created while the old one idles',
    input: { children: [child({ uniqueid: 5, ikeId: 2, ifIdIn: 2, ifIdOut: 2 })], observed: ns({ links: [ours(1, 10)], routes: [route('10.2.0.0/24', 10, { prefsrc: '10.1.0.1' })] }) },
    config: ROUTES,
    actions: ['create 2 xfrm2 link=nsim0 mtu=1400'],
  },
  {
    name: 'reauthentication, new interface up: the route moves over in one replace; the old interface keeps idling',
    input: REAUTH_BOTH_UP,
    config: ROUTES,
    actions: ['replace 10.2.0.0/24 t254 m0 dev xfrm2 src=10.1.0.1'],
  },
  {
    name: 'reauthentication, old interface expiring in the same pass: the moved route is not deleted with it',
    input: { ...REAUTH_BOTH_UP, idle: new Map([['if:1', T0 - 30_000]]) },
    config: ROUTES,
    actions: ['replace 10.2.0.0/24 t254 m0 dev xfrm2 src=10.1.0.1', 'delete xfrm1'],
  },
  {
    name: 'disabled: hands off, even for new CHILD_SAs and idle interfaces',
    input: { children: [child({ ifIdIn: 3, ifIdOut: 3 })], observed: ns({ links: [ours(1, 10)] }), idle: new Map([['if:1', T0 - 3_600_000]]) },
    config: { enabled: false },
    actions: [],
  },
];

describe('planXfrmi', () => {
  it.each(rows)('$name', (r) => {
    const p = planXfrmi(input(r.input), settings(r.config));
    expect(p.actions.map(summary)).toEqual(r.actions);
    expect(p.conflicts.map((c) => c.kind).sort()).toEqual([...(r.conflicts ?? [])].sort());
  });

  it('a foreign interface with the if_id is reported, not touched, and shown with its owner', () => {
    const p = planXfrmi(input({ observed: ns({ links: [foreign(1, 9, 'ext1')] }) }), settings(ROUTES));
    expect(p.actions).toEqual([]);
    expect(p.rows).toHaveLength(1);
    expect(p.rows[0]).toMatchObject({ ifId: 1, name: 'ext1', ifindex: 9, link: 'vethA', owner: 'foreign', state: 'conflict', conns: [{ conn: 'lab', child: 'net', uniqueid: 1 }] });
    expect(p.rows[0]?.routes).toEqual([expect.objectContaining({ dst: '10.2.0.0/24', state: 'conflict' })]);
    expect(p.conflicts[0]).toMatchObject({ kind: 'foreign-ifid', ifId: 1, subject: 'ext1', ifindex: 9 });
    expect(p.conflicts[0]?.message).toMatch(/ext1 \(ifindex 9\) is an xfrm interface with if_id 1 that ipsec-offload did not create: left alone/);
  });

  it('rows: if_id, name, link, state, owning CHILD_SAs and routes', () => {
    const p = planXfrmi(
      input({ children: [child(), child({ uniqueid: 4, child: 'net2' })], observed: ns({ links: [ours(1, 10)], routes: [route('10.2.0.0/24', 10, { prefsrc: '10.1.0.1' })] }) }),
      settings(ROUTES),
    );
    expect(p.rows).toEqual([
      {
        ifId: 1,
        name: 'xfrm1',
        ifindex: 10,
        link: 'nsim0',
        state: 'up',
        owner: 'ipsec-offload',
        mtu: 1400,
        dirs: ['in', 'out'],
        conns: [
          { conn: 'lab', child: 'net', uniqueid: 1 },
          { conn: 'lab', child: 'net2', uniqueid: 4 },
        ],
        routes: [{ dst: '10.2.0.0/24', table: 254, metric: 0, prefsrc: '10.1.0.1', state: 'installed', reason: null, removeAt: null }],
        conflict: null,
        removeAt: null,
        error: null,
      },
    ]);
  });

  it('skipped routes say why', () => {
    const p = planXfrmi(input({ children: [child({ remoteTs: ['0.0.0.0/0', '10.2.0.1..10.2.0.9'] })], observed: ns({ links: [ours(1, 10)] }) }), settings(ROUTES));
    expect(p.rows[0]?.routes.map((r) => [r.dst, r.state, r.reason])).toEqual([
      ['0.0.0.0/0', 'skipped', 'covers-peer'],
      ['10.2.0.1..10.2.0.9', 'skipped', 'range'],
    ]);
  });

  it('grace: the idle clock starts at the first plan that sees the interface unused, is carried over, and wakes the edge on time', () => {
    const cfg = settings({ ...ROUTES, grace: '10s' });
    const observed = ns({ links: [ours(1, 10)], routes: [route('10.2.0.0/24', 10)] });
    const p1 = planXfrmi(input({ children: [], observed, now: T0 }), cfg);
    expect(p1.actions).toEqual([]);
    expect(p1.wakeAt).toBe(T0 + 10_000);
    expect(p1.rows[0]).toMatchObject({ state: 'idle', removeAt: T0 + 10_000 });
    const p2 = planXfrmi(input({ children: [], observed, now: T0 + 9_999, idle: p1.idle }), cfg);
    expect(p2.actions).toEqual([]);
    const p3 = planXfrmi(input({ children: [], observed, now: T0 + 10_000, idle: p2.idle }), cfg);
    expect(p3.actions.map(summary)).toEqual(['del 10.2.0.0/24 dev xfrm1 (interface-removed)', 'delete xfrm1']);
    expect(p3.actions.find((a) => a.type === 'delete')).toMatchObject({ idleMs: 10_000 });
  });

  it('grace: a CHILD_SA coming back within the grace period keeps the interface (and clears the clock)', () => {
    const cfg = settings({ grace: '10s' });
    const observed = ns({ links: [ours(1, 10)] });
    const p1 = planXfrmi(input({ children: [], observed, now: T0 }), cfg);
    const p2 = planXfrmi(input({ observed, now: T0 + 5000, idle: p1.idle }), cfg);
    expect(p2.actions).toEqual([]);
    expect(p2.idle.size).toBe(0);
    const p3 = planXfrmi(input({ children: [], observed, now: T0 + 12_000, idle: p2.idle }), cfg);
    expect(p3.actions).toEqual([]);
    expect(p3.rows[0]?.removeAt).toBe(T0 + 22_000);
  });

  it('grace: after a resync the clock starts again (an outage never counts as idle time)', () => {
    const cfg = settings({ grace: '10s' });
    const observed = ns({ links: [ours(1, 10)] });
    const p1 = planXfrmi(input({ children: [], observed, now: T0 }), cfg);
    const down = planXfrmi(input({ children: [], synced: false, observed, now: T0 + 60_000, idle: p1.idle }), cfg);
    expect(down.actions).toEqual([]);
    expect(down.wakeAt).toBeNull();
    const back = planXfrmi(input({ children: [], observed, now: T0 + 61_000, idle: down.idle }), cfg);
    expect(back.actions).toEqual([]);
    expect(back.wakeAt).toBe(T0 + 71_000);
  });

  it('the name conflict names the holder and the way out', () => {
    const p: XfrmiPlan = planXfrmi(input({ observed: ns({ links: [{ index: 9, name: 'xfrm1', kind: 'veth', up: true }] }) }), settings());
    expect(p.conflicts[0]?.message).toBe('the name xfrm1 for if_id 1 is taken by a veth interface (ifindex 9): not created; rename it, or set xfrmi.name / xfrmi.interfaces.1.name');
    expect(p.rows[0]).toMatchObject({ ifId: 1, name: 'xfrm1', ifindex: null, state: 'conflict', owner: null });
  });
});
