// IFA attributes of RTM_{NEW,DEL,GET}ADDR (include/uapi/linux/if_addr.h).
// Declaration order is the wire order of requests: iproute2 6.1 sends
// IFA_LOCAL then IFA_ADDRESS for `ip addr add`.
import { address, attr, attrTable, string, structAttr, u32, u8, i32, type AttrInput, type AttrValues } from '../netlink/codec/attributes.js';
import { ifaCacheinfo } from './structs.js';

const ifaSpec = {
  local: attr(2, address),
  address: attr(1, address), // the peer on point-to-point links, else the same as local
  broadcast: attr(4, address),
  anycast: attr(5, address),
  multicast: attr(7, address),
  label: attr(3, string),
  flags: attr(8, u32), // all IFA_F_* bits (the header holds only the low 8)
  cacheinfo: attr(6, structAttr(ifaCacheinfo)),
  rtPriority: attr(9, u32),
  targetNetnsid: attr(10, i32),
  proto: attr(11, u8),
};

export const ifaTable = attrTable('IFA', 'IFA_', ifaSpec);

export type AddrAttrs = AttrValues<typeof ifaSpec>;
export type AddrAttrsInput = AttrInput<typeof ifaSpec>;
