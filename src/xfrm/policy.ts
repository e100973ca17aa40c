// XfrmPolicy (SPD entry) with its templates, and pure converters to and from
// xfrm_userpolicy_info / xfrm_userpolicy_id + XFRMA_* attributes.
import type { StructInput, StructValue } from '../netlink/codec/struct.js';
import type { SecCtx, XfrmAttrInput, XfrmAttrValues } from './attributes.js';
import {
  POLICY_FLAGS,
  XFRM_MODE,
  XFRM_OFFLOAD_PACKET,
  XFRM_POLICY_ACTION,
  XFRM_POLICY_DIR,
  XFRM_POLICY_TYPE,
  XFRM_PROTO,
  XFRM_SHARE,
  flagsToNames,
  namesToFlags,
  type PolicyAction,
  type PolicyDir,
  type PolicyFlag,
  type PolicyType,
  type ShareName,
  type XfrmModeName,
  type XfrmProtoName,
} from './constants.js';
import { XfrmModelError } from './errors.js';
import {
  NO_LIMITS,
  addressFamily,
  familyName,
  familyNumber,
  lifetimeConfigFromWire,
  lifetimeCurrentFromWire,
  markFromWire,
  markToWire,
  selectorFromWire,
  selectorToWire,
  type AddressFamily,
  type XfrmLifetimeConfig,
  type XfrmLifetimeCurrent,
  type XfrmMark,
  type XfrmSelector,
} from './model.js';
import type { xfrmUserTmpl, xfrmUserpolicyId, xfrmUserpolicyInfo } from './structs.js';

/** One transform a policy requires (struct xfrm_user_tmpl). */
export interface XfrmTemplate {
  family: AddressFamily | 'unspec' | number;
  saddr: string;
  daddr: string;
  /** 0 = any SA */
  spi: number;
  proto: XfrmProtoName | number;
  mode: XfrmModeName | number;
  reqid: number;
  share: ShareName | number;
  /** iproute2 "level use": traffic may pass without this transform */
  optional: boolean;
  aalgos: number;
  ealgos: number;
  calgos: number;
}

/** A template with iproute2's defaults (all algorithms allowed, level required). */
export function template(t: Partial<XfrmTemplate> & Pick<XfrmTemplate, 'proto' | 'mode'>): XfrmTemplate {
  const fam = t.family ?? addressFamily(t.daddr ?? '', 'template.daddr') ?? addressFamily(t.saddr ?? '', 'template.saddr') ?? 'unspec';
  return {
    family: fam,
    saddr: t.saddr ?? '',
    daddr: t.daddr ?? '',
    spi: t.spi ?? 0,
    proto: t.proto,
    mode: t.mode,
    reqid: t.reqid ?? 0,
    share: t.share ?? 'any',
    optional: t.optional ?? false,
    aalgos: t.aalgos ?? 0xffffffff,
    ealgos: t.ealgos ?? 0xffffffff,
    calgos: t.calgos ?? 0xffffffff,
  };
}

export interface XfrmPolicy {
  selector: XfrmSelector;
  dir: PolicyDir | number;
  action: PolicyAction | number;
  priority: number;
  /** kernel-assigned unless given (index % 8 encodes the direction) */
  index: number;
  flags: (PolicyFlag | number)[];
  share: ShareName | number;
  lifetime: XfrmLifetimeConfig;
  current?: XfrmLifetimeCurrent;
  templates: XfrmTemplate[];
  mark?: XfrmMark;
  ifId?: number;
  /** XFRMA_POLICY_TYPE; the kernel reports 'main' when built with sub-policies */
  type?: PolicyType | number;
  secCtx?: SecCtx;
  /** policy (packet) offload, 6.2+: XFRMA_OFFLOAD_DEV with XFRM_OFFLOAD_PACKET */
  offload?: { ifindex: number };
  unknownAttributes?: number[];
}

export type XfrmPolicyInput = Pick<XfrmPolicy, 'selector' | 'dir'> & Partial<Omit<XfrmPolicy, 'selector' | 'dir'>>;

/** A policy with iproute2's defaults (allow, priority 0, no limits, no templates). */
export function makePolicy(p: XfrmPolicyInput): XfrmPolicy {
  return {
    ...p,
    action: p.action ?? 'allow',
    priority: p.priority ?? 0,
    index: p.index ?? 0,
    flags: p.flags ?? [],
    share: p.share ?? 'any',
    lifetime: p.lifetime ?? NO_LIMITS,
    templates: p.templates ?? [],
  };
}

/** What identifies a policy to GETPOLICY/DELPOLICY: selector + dir (or index), mark, if_id, type. */
export interface XfrmPolicyId {
  selector: XfrmSelector;
  dir: PolicyDir | number;
  /** non-zero: look up by index, the selector is ignored */
  index?: number;
  mark?: XfrmMark;
  ifId?: number;
  type?: PolicyType | number;
  secCtx?: SecCtx;
}

export function policyIdOf(p: XfrmPolicy): XfrmPolicyId {
  return {
    selector: p.selector,
    dir: p.dir,
    ...(p.mark ? { mark: p.mark } : {}),
    ...(p.ifId !== undefined ? { ifId: p.ifId } : {}),
    ...(p.type !== undefined ? { type: p.type } : {}),
    ...(p.secCtx ? { secCtx: p.secCtx } : {}),
  };
}

type TmplInput = StructInput<(typeof xfrmUserTmpl)['fields']>;
type TmplValue = StructValue<(typeof xfrmUserTmpl)['fields']>;
type PolicyInfoInput = StructInput<(typeof xfrmUserpolicyInfo)['fields']>;
type PolicyInfoValue = StructValue<(typeof xfrmUserpolicyInfo)['fields']>;
type PolicyIdInput = StructInput<(typeof xfrmUserpolicyId)['fields']>;

export function templateToWire(t: XfrmTemplate): TmplInput {
  return {
    family: familyNumber(t.family),
    id: { daddr: t.daddr, spi: t.spi >>> 0, proto: XFRM_PROTO.toNumber(t.proto) },
    saddr: t.saddr,
    reqid: t.reqid,
    mode: XFRM_MODE.toNumber(t.mode),
    share: XFRM_SHARE.toNumber(t.share),
    optional: t.optional ? 1 : 0,
    aalgos: t.aalgos,
    ealgos: t.ealgos,
    calgos: t.calgos,
  };
}

export function templateFromWire(t: TmplValue): XfrmTemplate {
  return {
    family: familyName(t.family),
    saddr: t.saddr,
    daddr: t.id.daddr,
    spi: t.id.spi,
    proto: XFRM_PROTO.toName(t.id.proto),
    mode: XFRM_MODE.toName(t.mode),
    reqid: t.reqid,
    share: XFRM_SHARE.toName(t.share),
    optional: t.optional !== 0,
    aalgos: t.aalgos,
    ealgos: t.ealgos,
    calgos: t.calgos,
  };
}

function commonAttrs(p: { mark?: XfrmMark; ifId?: number; type?: PolicyType | number; secCtx?: SecCtx }, a: XfrmAttrInput): void {
  if (p.secCtx) a.secCtx = p.secCtx;
  if (p.type !== undefined) a.policyType = { type: XFRM_POLICY_TYPE.toNumber(p.type) };
  if (p.mark) a.mark = markToWire(p.mark);
  if (p.ifId !== undefined) a.ifId = p.ifId;
}

export function policyToWire(p: XfrmPolicy): { header: PolicyInfoInput; attrs: XfrmAttrInput } {
  if (p.current && p.current.addTime === 0n && (p.lifetime.hardAddExpiresSeconds || p.lifetime.softAddExpiresSeconds)) {
    throw new XfrmModelError('policy.current.addTime', 'is 0 with an add-expiry set');
  }
  const header: PolicyInfoInput = {
    sel: selectorToWire(p.selector),
    lft: p.lifetime,
    priority: p.priority,
    index: p.index,
    dir: XFRM_POLICY_DIR.toNumber(p.dir),
    action: XFRM_POLICY_ACTION.toNumber(p.action),
    flags: namesToFlags(POLICY_FLAGS, p.flags, 'policy'),
    share: XFRM_SHARE.toNumber(p.share),
    ...(p.current ? { curlft: p.current } : {}),
  };
  const a: XfrmAttrInput = {};
  if (p.templates.length) a.tmpl = p.templates.map(templateToWire);
  if (p.offload) a.offloadDev = { ifindex: p.offload.ifindex, flags: XFRM_OFFLOAD_PACKET };
  commonAttrs(p, a);
  return { header, attrs: a };
}

export function policyFromWire(info: PolicyInfoValue, attrs: XfrmAttrValues, unknownTypes: readonly number[] = []): XfrmPolicy {
  const p: XfrmPolicy = {
    selector: selectorFromWire(info.sel),
    dir: XFRM_POLICY_DIR.toName(info.dir),
    action: XFRM_POLICY_ACTION.toName(info.action),
    priority: info.priority,
    index: info.index,
    flags: flagsToNames(POLICY_FLAGS, info.flags),
    share: XFRM_SHARE.toName(info.share),
    lifetime: lifetimeConfigFromWire(info.lft),
    templates: (attrs.tmpl ?? []).map(templateFromWire),
  };
  const cur = info.curlft;
  if (cur.addTime || cur.useTime || cur.bytes || cur.packets) p.current = lifetimeCurrentFromWire(cur);
  if (attrs.mark) p.mark = markFromWire(attrs.mark);
  if (attrs.ifId !== undefined) p.ifId = attrs.ifId;
  if (attrs.policyType) p.type = XFRM_POLICY_TYPE.toName(attrs.policyType.type);
  if (attrs.secCtx) p.secCtx = attrs.secCtx;
  if (attrs.offloadDev) p.offload = { ifindex: attrs.offloadDev.ifindex };
  if (unknownTypes.length) p.unknownAttributes = [...unknownTypes];
  return p;
}

export function policyIdToWire(id: XfrmPolicyId): { header: PolicyIdInput; attrs: XfrmAttrInput } {
  const a: XfrmAttrInput = {};
  commonAttrs(id, a);
  return { header: { sel: selectorToWire(id.selector), index: id.index ?? 0, dir: XFRM_POLICY_DIR.toNumber(id.dir) }, attrs: a };
}

export function describePolicyId(id: XfrmPolicyId): string {
  const s = id.selector;
  const sel = s.saddr || s.daddr ? `${s.saddr || '*'}/${s.prefixlenS} -> ${s.daddr || '*'}/${s.prefixlenD}` : 'any';
  return `policy ${typeof id.dir === 'number' ? `dir ${id.dir}` : id.dir} ${id.index ? `index ${id.index}` : sel}`;
}
