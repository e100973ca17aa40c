// RTA attributes of RTM_{NEW,DEL,GET}ROUTE (include/uapi/linux/rtnetlink.h).
// Declaration order is the wire order of requests and matches iproute2 6.1:
// it adds attributes as it parses `ip route add PREFIX [via ..] [src ..]
// [table ..] [metric ..]` and RTA_OIF last.
import { address, attr, attrTable, be16, binary, nested, structAttr, u16, u32, u8, type AttrInput, type AttrValues } from '../netlink/codec/attributes.js';
import { rtaCacheinfo } from './structs.js';

/** RTA_METRICS: RTAX_* u32 values (RTAX_MTU 2, RTAX_ADVMSS 8 ...). */
export const rtaxTable = attrTable('RTA_METRICS', 'RTAX_', {
  lock: attr(1, u32),
  mtu: attr(2, u32),
  window: attr(3, u32),
  rtt: attr(4, u32),
  advmss: attr(8, u32),
  hoplimit: attr(10, u32),
  initcwnd: attr(11, u32),
});

const rtaSpec = {
  dst: attr(1, address),
  src: attr(2, address),
  iif: attr(3, u32),
  gateway: attr(5, address),
  prefsrc: attr(7, address),
  table: attr(15, u32), // the full table id; rtm_table holds it only when < 256
  priority: attr(6, u32), // the metric
  mark: attr(16, u32),
  uid: attr(25, u32),
  ipProto: attr(27, u8),
  sport: attr(28, be16),
  dport: attr(29, be16),
  metrics: attr(8, nested(rtaxTable)),
  multipath: attr(9, binary),
  flow: attr(11, u32),
  cacheinfo: attr(12, structAttr(rtaCacheinfo)),
  pref: attr(20, u8),
  encapType: attr(21, u16),
  encap: attr(22, binary),
  expires: attr(23, u32),
  nhId: attr(30, u32),
  oif: attr(4, u32),
};

export const rtaTable = attrTable('RTA', 'RTA_', rtaSpec);

export type RouteAttrs = AttrValues<typeof rtaSpec>;
export type RouteAttrsInput = AttrInput<typeof rtaSpec>;
