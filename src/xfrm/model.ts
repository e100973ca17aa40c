// Pieces shared by the state and policy models: address families, selectors,
// lifetimes, marks. Pure conversions between friendly values and the struct
// values of structs.ts.
import { AF_INET, AF_INET6, AF_UNSPEC, familyOf } from '../netlink/codec/address.js';
import type { StructInput, StructValue } from '../netlink/codec/struct.js';
import { XFRM_INF } from './constants.js';
import { XfrmModelError } from './errors.js';
import type { xfrmLifetimeCfg, xfrmLifetimeCur, xfrmSelector } from './structs.js';

export type AddressFamily = 'ipv4' | 'ipv6';

export function familyName(n: number): AddressFamily | 'unspec' | number {
  return n === AF_INET ? 'ipv4' : n === AF_INET6 ? 'ipv6' : n === AF_UNSPEC ? 'unspec' : n;
}

export function familyNumber(f: AddressFamily | 'unspec' | number): number {
  if (typeof f === 'number') return f;
  return f === 'ipv4' ? AF_INET : f === 'ipv6' ? AF_INET6 : AF_UNSPEC;
}

/** The family an address string belongs to; '' (all-zero, unspecified) has none. */
export function addressFamily(address: string, field: string): AddressFamily | undefined {
  if (address === '') return undefined;
  try {
    return familyOf(address) === AF_INET ? 'ipv4' : 'ipv6';
  } catch {
    throw new XfrmModelError(field, `${JSON.stringify(address)} is not an IPv4 or IPv6 address`);
  }
}

/** Traffic selector (struct xfrm_selector). Ports are host numbers; 0 = any. */
export interface XfrmSelector {
  /** 'unspec' lets the kernel take the SA's family */
  family: AddressFamily | 'unspec' | number;
  saddr: string;
  prefixlenS: number;
  daddr: string;
  prefixlenD: number;
  /** upper-layer protocol (IPPROTO_*), 0 = any */
  proto: number;
  sport: number;
  sportMask: number;
  dport: number;
  dportMask: number;
  ifindex: number;
  user: number;
}

/** A selector from "addr/len" strings; ports get a full mask when given. */
export function selector(
  src: string,
  dst: string,
  opts: { proto?: number; sport?: number; dport?: number; ifindex?: number } = {},
): XfrmSelector {
  const split = (cidr: string, field: string): [string, number, AddressFamily] => {
    const [addr = '', len] = cidr.split('/');
    const fam = addressFamily(addr, field);
    if (!fam) throw new XfrmModelError(field, 'an address is required');
    const max = fam === 'ipv4' ? 32 : 128;
    const n = len === undefined ? max : Number(len);
    if (!Number.isInteger(n) || n < 0 || n > max) throw new XfrmModelError(field, `prefix length ${len} is outside 0..${max}`);
    return [addr, n, fam];
  };
  const [saddr, prefixlenS, fs] = split(src, 'selector.src');
  const [daddr, prefixlenD, fd] = split(dst, 'selector.dst');
  if (fs !== fd) throw new XfrmModelError('selector', `src ${src} and dst ${dst} are of different families`);
  return {
    family: fs,
    saddr,
    prefixlenS,
    daddr,
    prefixlenD,
    proto: opts.proto ?? 0,
    sport: opts.sport ?? 0,
    sportMask: opts.sport ? 0xffff : 0,
    dport: opts.dport ?? 0,
    dportMask: opts.dport ? 0xffff : 0,
    ifindex: opts.ifindex ?? 0,
    user: 0,
  };
}

export const EMPTY_SELECTOR: XfrmSelector = {
  family: 'unspec',
  saddr: '',
  prefixlenS: 0,
  daddr: '',
  prefixlenD: 0,
  proto: 0,
  sport: 0,
  sportMask: 0,
  dport: 0,
  dportMask: 0,
  ifindex: 0,
  user: 0,
};

type SelectorWire = StructValue<(typeof xfrmSelector)['fields']>;

export function selectorFromWire(s: SelectorWire): XfrmSelector {
  return {
    family: familyName(s.family),
    saddr: s.saddr,
    prefixlenS: s.prefixlenS,
    daddr: s.daddr,
    prefixlenD: s.prefixlenD,
    proto: s.proto,
    sport: s.sport,
    sportMask: s.sportMask,
    dport: s.dport,
    dportMask: s.dportMask,
    ifindex: s.ifindex,
    user: s.user,
  };
}

export function selectorToWire(s: XfrmSelector): StructInput<(typeof xfrmSelector)['fields']> {
  return {
    family: familyNumber(s.family),
    saddr: s.saddr,
    prefixlenS: s.prefixlenS,
    daddr: s.daddr,
    prefixlenD: s.prefixlenD,
    proto: s.proto,
    sport: s.sport,
    sportMask: s.sportMask,
    dport: s.dport,
    dportMask: s.dportMask,
    ifindex: s.ifindex,
    user: s.user,
  };
}

/** Soft/hard limits (struct xfrm_lifetime_cfg). XFRM_INF = no limit; 0 s = no expiry. */
export interface XfrmLifetimeConfig {
  softByteLimit: bigint;
  hardByteLimit: bigint;
  softPacketLimit: bigint;
  hardPacketLimit: bigint;
  softAddExpiresSeconds: bigint;
  hardAddExpiresSeconds: bigint;
  softUseExpiresSeconds: bigint;
  hardUseExpiresSeconds: bigint;
}

/** What iproute2 sends when no limit is given. */
export const NO_LIMITS: XfrmLifetimeConfig = {
  softByteLimit: XFRM_INF,
  hardByteLimit: XFRM_INF,
  softPacketLimit: XFRM_INF,
  hardPacketLimit: XFRM_INF,
  softAddExpiresSeconds: 0n,
  hardAddExpiresSeconds: 0n,
  softUseExpiresSeconds: 0n,
  hardUseExpiresSeconds: 0n,
};

/** Counters (struct xfrm_lifetime_cur): add/use times are UNIX seconds. */
export interface XfrmLifetimeCurrent {
  bytes: bigint;
  packets: bigint;
  addTime: bigint;
  useTime: bigint;
}

export const lifetimeConfigFromWire = (l: StructValue<(typeof xfrmLifetimeCfg)['fields']>): XfrmLifetimeConfig => ({ ...l });
export const lifetimeCurrentFromWire = (l: StructValue<(typeof xfrmLifetimeCur)['fields']>): XfrmLifetimeCurrent => ({ ...l });

/** struct xfrm_mark: packets match when (skb mark & mask) == value. */
export interface XfrmMark {
  value: number;
  mask: number;
}

export const markFromWire = (m: { v: number; m: number }): XfrmMark => ({ value: m.v, mask: m.m });
export const markToWire = (m: XfrmMark): { v: number; m: number } => ({ v: m.value, m: m.mask });
