// Numbers of the XFRM uAPI (include/uapi/linux/xfrm.h, identical 5.15–6.12)
// and the names this project gives them. Values are from the header; see
// /work/shared/reference/xfrm-facts.md §1.

export const XFRM_INF = 0xffffffffffffffffn;

/** Multicast groups (enum xfrm_nlgroups), joined with NETLINK_ADD_MEMBERSHIP. */
export const XFRMNLGRP = {
  acquire: 1,
  expire: 2,
  sa: 3,
  policy: 4,
  aevents: 5,
  report: 6,
  migrate: 7,
  mapping: 8,
} as const;
export type XfrmGroupName = keyof typeof XFRMNLGRP;

/** A two-way table: name <-> number, with numbers passing through unknown. */
export interface NameTable<N extends string> {
  readonly names: readonly N[];
  toNumber(v: N | number): number;
  toName(n: number): N | number;
}

export function nameTable<const M extends Record<string, number>>(map: M, label: string): NameTable<keyof M & string> {
  const byNumber = new Map<number, keyof M & string>();
  for (const [k, v] of Object.entries(map)) if (!byNumber.has(v)) byNumber.set(v, k as keyof M & string);
  return {
    names: Object.keys(map) as (keyof M & string)[],
    toNumber: (v) => {
      if (typeof v === 'number') return v;
      const n = map[v];
      if (n === undefined) throw new TypeError(`unknown ${label} ${JSON.stringify(v)}`);
      return n;
    },
    toName: (n) => byNumber.get(n) ?? n,
  };
}

/** IPsec protocols an SA can have (xfrm_id.proto). */
export const XFRM_PROTO = nameTable({ esp: 50, ah: 51, comp: 108, route2: 43, hao: 60, any: 255 }, 'XFRM protocol');
export type XfrmProtoName = (typeof XFRM_PROTO.names)[number];

export const XFRM_MODE = nameTable({ transport: 0, tunnel: 1, ro: 2, in_trigger: 3, beet: 4, iptfs: 5 }, 'XFRM mode');
export type XfrmModeName = (typeof XFRM_MODE.names)[number];

export const XFRM_POLICY_DIR = nameTable({ in: 0, out: 1, fwd: 2 }, 'policy direction');
export type PolicyDir = (typeof XFRM_POLICY_DIR.names)[number];

export const XFRM_POLICY_ACTION = nameTable({ allow: 0, block: 1 }, 'policy action');
export type PolicyAction = (typeof XFRM_POLICY_ACTION.names)[number];

export const XFRM_POLICY_TYPE = nameTable({ main: 0, sub: 1, any: 255 }, 'policy type');
export type PolicyType = (typeof XFRM_POLICY_TYPE.names)[number];

export const XFRM_SHARE = nameTable({ any: 0, session: 1, user: 2, unique: 3 }, 'share');
export type ShareName = (typeof XFRM_SHARE.names)[number];

export const XFRM_USERPOLICY_DEFAULT = nameTable({ unspec: 0, block: 1, accept: 2 }, 'default policy');
export type DefaultPolicyAction = (typeof XFRM_USERPOLICY_DEFAULT.names)[number];

/** xfrm_encap_tmpl.encap_type (UDP_ENCAP_* and TCP_ENCAP_ESPINTCP). */
export const XFRM_ENCAP_TYPE = nameTable({ espinudp_nonike: 1, espinudp: 2, espintcp: 7 }, 'encapsulation type');
export type EncapTypeName = (typeof XFRM_ENCAP_TYPE.names)[number];

/** XFRMA_SA_DIR values (6.10+). */
export const XFRM_SA_DIR = nameTable({ in: 1, out: 2 }, 'SA direction');
export type SaDir = (typeof XFRM_SA_DIR.names)[number];

/** Bit flags as [name, bit] lists: decode keeps unknown bits as numbers. */
export type FlagTable<N extends string> = readonly (readonly [N, number])[];

export function flagsToNames<N extends string>(table: FlagTable<N>, value: number): (N | number)[] {
  const out: (N | number)[] = [];
  let rest = value >>> 0;
  for (const [name, bit] of table) {
    if (rest & bit) {
      out.push(name);
      rest &= ~bit >>> 0;
    }
  }
  for (let bit = 1; rest; bit = (bit << 1) >>> 0) {
    if (rest & bit) {
      out.push(bit);
      rest &= ~bit >>> 0;
    }
  }
  return out;
}

export function namesToFlags<N extends string>(table: FlagTable<N>, names: readonly (N | number)[], label: string): number {
  let v = 0;
  for (const n of names) {
    if (typeof n === 'number') {
      v |= n;
      continue;
    }
    const e = table.find(([name]) => name === n);
    if (!e) throw new TypeError(`unknown ${label} flag ${JSON.stringify(n)}`);
    v |= e[1];
  }
  return v >>> 0;
}

/** xfrm_usersa_info.flags (XFRM_STATE_*): all eight bits are named. */
export const STATE_FLAGS = [
  ['noecn', 1],
  ['decap-dscp', 2],
  ['nopmtudisc', 4],
  ['wildrecv', 8],
  ['icmp', 16],
  ['af-unspec', 32],
  ['align4', 64],
  ['esn', 128],
] as const satisfies FlagTable<string>;
export type StateFlag = (typeof STATE_FLAGS)[number][0];
export const XFRM_STATE_ESN = 128;

/** XFRMA_SA_EXTRA_FLAGS (XFRM_SA_XFLAG_*). */
export const STATE_EXTRA_FLAGS = [
  ['dont-encap-dscp', 1],
  ['oseq-may-wrap', 2],
] as const satisfies FlagTable<string>;
export type StateExtraFlag = (typeof STATE_EXTRA_FLAGS)[number][0];

/** xfrm_userpolicy_info.flags. */
export const POLICY_FLAGS = [
  ['localok', 1],
  ['icmp', 2],
] as const satisfies FlagTable<string>;
export type PolicyFlag = (typeof POLICY_FLAGS)[number][0];

/** xfrm_aevent_id.flags (enum xfrm_ae_ftype_t). */
export const AE_FLAGS = [
  ['rthr', 1],
  ['rval', 2],
  ['lval', 4],
  ['ethr', 8],
  ['cr', 16],
  ['ce', 32],
  ['cu', 64],
] as const satisfies FlagTable<string>;
export type AeFlag = (typeof AE_FLAGS)[number][0];

/** xfrm_user_offload.flags. IPV6 (1) was never implemented; the kernel ignores it. */
export const XFRM_OFFLOAD_IPV6 = 1;
export const XFRM_OFFLOAD_INBOUND = 2;
export const XFRM_OFFLOAD_PACKET = 4;

/** XFRMA_REPLAY_ESN_MAX = 4096 bits ⇒ at most 128 bitmap words. */
export const XFRM_REPLAY_ESN_MAX_WORDS = 128;
