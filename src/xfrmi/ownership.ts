// How we recognise what is ours after a restart, with nothing but the kernel
// to ask: interfaces carry an alias naming their if_id, routes a protocol
// number of their own. Anything else is never touched.
import type { ObservedLink, ObservedRoute } from './types.js';

const ALIAS_PREFIX = 'ipsec-offload:xfrmi:';

/**
 * rtm_protocol of our routes (`ip route show proto 158`). Not in iproute2's
 * rt_protos list; name it in /etc/iproute2/rt_protos.d/ if you like.
 */
export const ROUTE_PROTOCOL = 158;

export function ownAlias(ifId: number): string {
  return `${ALIAS_PREFIX}${ifId}`;
}

/** An xfrm interface we created: kind xfrm and an alias naming its own if_id. */
export function isOurs(l: ObservedLink): boolean {
  return l.kind === 'xfrm' && l.xfrm !== undefined && !l.xfrm.collectMetadata && l.alias === ownAlias(l.xfrm.ifId);
}

/** A route we installed: our protocol, through one of our interfaces. */
export function isOurRoute(r: ObservedRoute, ours: ReadonlyMap<number, unknown>): boolean {
  return r.protocol === ROUTE_PROTOCOL && r.oif !== undefined && ours.has(r.oif);
}
