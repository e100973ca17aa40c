// Small builders for the planner tables: a namespace (links, addresses,
// routes) and CHILD_SAs, with the defaults of the lab topology (10.0.0.1 on
// nsim0, 10.1.0.1/24 behind it, the peer 10.0.0.2 with 10.2.0.0/24 behind it).
import { xfrmiConfigSchema, xfrmiSettings, type XfrmiSettings } from '../../../src/xfrmi/config.js';
import { ROUTE_PROTOCOL, ownAlias } from '../../../src/xfrmi/ownership.js';
import type { Observed, ObservedAddress, ObservedLink, ObservedRoute, PlanInput, XfrmiChild } from '../../../src/xfrmi/types.js';

export const T0 = 1_700_000_000_000;

export function settings(section: Record<string, unknown> = {}): XfrmiSettings {
  return xfrmiSettings(xfrmiConfigSchema.parse(section));
}

export function child(over: Partial<XfrmiChild> = {}): XfrmiChild {
  return {
    uniqueid: 1,
    conn: 'lab',
    child: 'net',
    ikeId: 1,
    ifIdIn: 1,
    ifIdOut: 1,
    localAddr: '10.0.0.1',
    remoteAddr: '10.0.0.2',
    localTs: ['10.1.0.0/24'],
    remoteTs: ['10.2.0.0/24'],
    ...over,
  };
}

export const lo: ObservedLink = { index: 1, name: 'lo', kind: undefined, up: true, mtu: 65536 };
export const nsim0: ObservedLink = { index: 2, name: 'nsim0', kind: 'netdevsim', up: true, mtu: 1500 };
export const vethA: ObservedLink = { index: 3, name: 'vethA', kind: 'veth', up: true, mtu: 1500 };
export const lan0: ObservedLink = { index: 4, name: 'lan0', kind: 'dummy', up: true, mtu: 1500 };

/** An xfrm interface of ours (alias set). */
export function ours(ifId: number, index: number, over: Partial<ObservedLink> = {}): ObservedLink {
  return { index, name: `xfrm${ifId}`, kind: 'xfrm', up: true, mtu: 1400, alias: ownAlias(ifId), xfrm: { ifId, link: 2, collectMetadata: false }, ...over };
}

/** An xfrm interface somebody else made. */
export function foreign(ifId: number, index: number, name: string, over: Partial<ObservedLink> = {}): ObservedLink {
  return { index, name, kind: 'xfrm', up: false, mtu: 1500, xfrm: { ifId, link: 3, collectMetadata: false }, ...over };
}

export function route(dst: string, oif: number, over: Partial<ObservedRoute> = {}): ObservedRoute {
  return { family: dst.includes(':') ? 6 : 4, dst, table: 254, metric: dst.includes(':') ? 1024 : 0, oif, protocol: ROUTE_PROTOCOL, type: 'unicast', ...over };
}

export const baseAddresses: ObservedAddress[] = [
  { ifindex: 1, address: '127.0.0.1', family: 4 },
  { ifindex: 2, address: '10.0.0.1', family: 4 },
  { ifindex: 3, address: '10.0.0.11', family: 4 },
  { ifindex: 4, address: '10.1.0.1', family: 4 },
];

export function ns(extra: { links?: ObservedLink[]; addresses?: ObservedAddress[]; routes?: ObservedRoute[] } = {}): Observed {
  return {
    links: [lo, nsim0, vethA, lan0, ...(extra.links ?? [])],
    addresses: [...baseAddresses, ...(extra.addresses ?? [])],
    routes: extra.routes ?? [],
  };
}

export function input(over: Partial<PlanInput> = {}): PlanInput {
  return { children: [child()], synced: true, observed: ns(), now: T0, idle: new Map(), ...over };
}
