// A decoded RTM_NEWADDR/DELADDR as the daemon reads it.
import type { AddrAttrs } from './address-attributes.js';
import { IFA_F_DADFAILED, IFA_F_DEPRECATED, IFA_F_PERMANENT, IFA_F_TENTATIVE } from './constants.js';
import type { IfAddrMsg } from './messages.js';

export interface Address {
  /** AF_INET (2) or AF_INET6 (10) */
  family: number;
  /** the local address (IFA_LOCAL, else IFA_ADDRESS) */
  address: string;
  prefixlen: number;
  /** the peer of a point-to-point address (IFA_ADDRESS when it differs from IFA_LOCAL) */
  peer?: string;
  ifindex: number;
  scope: number;
  /** all IFA_F_* bits */
  flags: number;
  tentative: boolean;
  deprecated: boolean;
  dadFailed: boolean;
  permanent: boolean;
  label?: string;
  broadcast?: string;
  /** seconds; 0xffffffff = forever */
  preferredLifetime?: number;
  validLifetime?: number;
  attrs: AddrAttrs;
}

export function toAddress(h: IfAddrMsg, a: AddrAttrs): Address {
  const flags = a.flags ?? h.flags;
  const out: Address = {
    family: h.family,
    address: a.local ?? a.address ?? '',
    prefixlen: h.prefixlen,
    ifindex: h.index,
    scope: h.scope,
    flags,
    tentative: (flags & IFA_F_TENTATIVE) !== 0,
    deprecated: (flags & IFA_F_DEPRECATED) !== 0,
    dadFailed: (flags & IFA_F_DADFAILED) !== 0,
    permanent: (flags & IFA_F_PERMANENT) !== 0,
    attrs: a,
  };
  if (a.local !== undefined && a.address !== undefined && a.address !== a.local) out.peer = a.address;
  if (a.label !== undefined) out.label = a.label;
  if (a.broadcast !== undefined) out.broadcast = a.broadcast;
  if (a.cacheinfo) {
    out.preferredLifetime = a.cacheinfo.preferred;
    out.validLifetime = a.cacheinfo.valid;
  }
  return out;
}
