// Reads what the planner needs from the namespace the daemon works in: every
// link (names can clash with anything), every address (the underlying device
// and the route source come from them) and the routes of the tables the
// config uses.
import type { LinkClient } from '../link/client.js';
import type { Link } from '../link/link-view.js';
import type { Route } from '../link/route-view.js';
import type { Address } from '../link/address-view.js';
import type { Observed, ObservedAddress, ObservedLink, ObservedRoute } from './types.js';

const AF_INET6 = 10;

export async function observe(links: LinkClient, tables: readonly number[]): Promise<Observed> {
  const [l, a, ...r] = await Promise.all([links.listLinks(), links.listAddresses(), ...tables.map((table) => links.listRoutes({ table }))]);
  const wanted = new Set(tables);
  return {
    links: l.map(observedLink),
    addresses: a.filter((x) => x.address !== '' && !x.dadFailed).map(observedAddress),
    // The kernel filters by table with strict checking; filter again in case it did not.
    routes: r.flat().filter((x) => wanted.has(x.table)).map(observedRoute),
  };
}

export function observedLink(l: Link): ObservedLink {
  return {
    index: l.index,
    name: l.name,
    up: l.up,
    ...(l.kind !== undefined ? { kind: l.kind } : {}),
    ...(l.mtu !== undefined ? { mtu: l.mtu } : {}),
    ...(l.alias !== undefined ? { alias: l.alias } : {}),
    ...(l.xfrm ? { xfrm: { ifId: l.xfrm.ifId, link: l.xfrm.link, collectMetadata: l.xfrm.collectMetadata } } : {}),
  };
}

function observedAddress(a: Address): ObservedAddress {
  return { ifindex: a.ifindex, address: a.address, family: a.family === AF_INET6 ? 6 : 4 };
}

function observedRoute(r: Route): ObservedRoute {
  const family = r.family === AF_INET6 ? 6 : 4;
  return {
    family,
    dst: r.dst,
    table: r.table,
    metric: r.metric ?? 0,
    protocol: r.protocol,
    type: String(r.type),
    ...(r.oif !== undefined ? { oif: r.oif } : {}),
    ...(r.prefsrc !== undefined ? { prefsrc: r.prefsrc } : {}),
  };
}
