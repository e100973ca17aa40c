// A decoded RTM_NEWROUTE/DELROUTE (a dump entry or a `route get` answer).
import { ROUTE_TYPES, type RouteType } from './constants.js';
import type { RtMsg } from './messages.js';
import type { RouteAttrs } from './route-attributes.js';

export interface Route {
  /** AF_INET (2) or AF_INET6 (10) */
  family: number;
  /** "10.2.0.0/24"; the default route is "0.0.0.0/0" or "::/0" */
  dst: string;
  src?: string;
  gateway?: string;
  /** the preferred source address (RTA_PREFSRC) */
  prefsrc?: string;
  oif?: number;
  iif?: number;
  /** full table id (RTA_TABLE, else rtm_table) */
  table: number;
  /** RTA_PRIORITY */
  metric?: number;
  protocol: number;
  scope: number;
  type: RouteType | number;
  /** RTM_F_* */
  flags: number;
  tos: number;
  mark?: number;
  attrs: RouteAttrs;
}

export function toRoute(h: RtMsg, a: RouteAttrs): Route {
  const any = h.family === 10 ? '::' : '0.0.0.0';
  const out: Route = {
    family: h.family,
    dst: `${a.dst ?? any}/${h.dstLen}`,
    table: a.table ?? h.table,
    protocol: h.protocol,
    scope: h.scope,
    type: ROUTE_TYPES[h.type] ?? h.type,
    flags: h.flags,
    tos: h.tos,
    attrs: a,
  };
  if (a.src !== undefined) out.src = `${a.src}/${h.srcLen}`;
  if (a.gateway !== undefined) out.gateway = a.gateway;
  if (a.prefsrc !== undefined) out.prefsrc = a.prefsrc;
  if (a.oif !== undefined) out.oif = a.oif;
  if (a.iif !== undefined) out.iif = a.iif;
  if (a.priority !== undefined) out.metric = a.priority;
  if (a.mark !== undefined) out.mark = a.mark;
  return out;
}
