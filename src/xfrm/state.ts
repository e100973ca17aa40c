// XfrmState: an SA as the rest of the project sees it, and pure converters to
// and from the wire form (xfrm_usersa_info + XFRMA_* attributes).
//
// A state decoded from the kernel can be re-added as is (promotion/demotion is
// delete + add of the same SA): its counters travel as XFRMA_LTIME_VAL and its
// replay state as REPLAY_VAL / the full REPLAY_ESN_VAL with bitmap.
import { SecretBytes } from '../netlink/codec/secret.js';
import type { StructInput, StructValue } from '../netlink/codec/struct.js';
import type { SecCtx, XfrmAttrInput, XfrmAttrValues } from './attributes.js';
import {
  STATE_EXTRA_FLAGS,
  STATE_FLAGS,
  XFRM_ENCAP_TYPE,
  XFRM_MODE,
  XFRM_OFFLOAD_INBOUND,
  XFRM_OFFLOAD_PACKET,
  XFRM_PROTO,
  XFRM_SA_DIR,
  flagsToNames,
  namesToFlags,
  type EncapTypeName,
  type SaDir,
  type StateExtraFlag,
  type StateFlag,
  type XfrmModeName,
  type XfrmProtoName,
} from './constants.js';
import { XfrmModelError } from './errors.js';
import {
  EMPTY_SELECTOR,
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
import type { xfrmUsersaInfo } from './structs.js';

// Where they used to live; kept so importers of XfrmStateId from here keep working.
export type { XfrmStateId, XfrmStateFilter, XfrmSpiRequest } from './state-requests.js';

export interface XfrmAlgorithm {
  name: string;
  key: SecretBytes;
  /** defaults to 8 × key length */
  keyBits?: number;
}
/** With truncBits: XFRMA_ALG_AUTH_TRUNC; without: plain XFRMA_ALG_AUTH. */
export interface XfrmAuthAlgorithm extends XfrmAlgorithm {
  truncBits?: number;
}
/** keyBits includes the 32-bit salt for rfc4106 (160 for AES-128). */
export interface XfrmAeadAlgorithm extends XfrmAlgorithm {
  icvBits: number;
}

export interface XfrmEncap {
  type: EncapTypeName | number;
  sport: number;
  dport: number;
  /** original address for NAT-T checksum fixups; '' = none */
  oa: string;
}

/** XFRMA_OFFLOAD_DEV. Its presence in a dump is the only proof an SA is offloaded. */
export interface XfrmOffload {
  ifindex: number;
  dir: 'in' | 'out';
  /** packet (full) offload, 6.2+; false = crypto offload */
  packet: boolean;
}

/** Legacy (32-bit, ≤32-packet window) replay state, XFRMA_REPLAY_VAL. */
export interface XfrmReplay {
  oseq: number;
  seq: number;
  bitmap: number;
}

/** XFRMA_REPLAY_ESN_VAL. bitmap empty = let the kernel zero-fill bmpLen words (NEWSA only). */
export interface XfrmEsn {
  oseq: number;
  seq: number;
  oseqHi: number;
  seqHi: number;
  replayWindow: number;
  bmpLen: number;
  bitmap: number[];
}

export interface XfrmStats {
  replayWindow: number;
  replay: number;
  integrityFailed: number;
}

export interface XfrmState {
  family: AddressFamily;
  saddr: string;
  daddr: string;
  spi: number;
  proto: XfrmProtoName | number;
  mode: XfrmModeName | number;
  reqid: number;
  /** usersa_info.seq: the ACQUIRE sequence this SA answers; 0 otherwise (keep it 0: non-zero costs a lookup) */
  seq: number;
  flags: (StateFlag | number)[];
  /** legacy window in the header (≤ 32 used); 0 with ESN */
  replayWindow: number;
  selector: XfrmSelector;
  lifetime: XfrmLifetimeConfig;
  /** counters; sent as XFRMA_LTIME_VAL so an re-added SA keeps its byte/packet/add-time history */
  current?: XfrmLifetimeCurrent;
  stats?: XfrmStats;
  aead?: XfrmAeadAlgorithm;
  auth?: XfrmAuthAlgorithm;
  crypt?: XfrmAlgorithm;
  comp?: { name: string };
  encap?: XfrmEncap;
  coaddr?: string;
  secCtx?: SecCtx;
  mark?: XfrmMark;
  /** XFRMA_SET_MARK (+ _MASK): mark set on packets after the transform */
  setMark?: { value: number; mask?: number };
  ifId?: number;
  offload?: XfrmOffload;
  replay?: XfrmReplay;
  esn?: XfrmEsn;
  extraFlags?: (StateExtraFlag | number)[];
  saDir?: SaDir | number;
  tfcpad?: number;
  lastUsed?: bigint;
  replayThresh?: number;
  etimerThresh?: number;
  mtimerThresh?: number;
  natKeepaliveInterval?: number;
  pcpu?: number;
  /** types of attributes the kernel sent that this codec does not know */
  unknownAttributes?: number[];
}


type UsersaInfoInput = StructInput<(typeof xfrmUsersaInfo)['fields']>;
type UsersaInfoValue = StructValue<(typeof xfrmUsersaInfo)['fields']>;

/** The family of an SA or SA id: given, or from its addresses (which must agree). */
export function stateFamily(s: { family?: AddressFamily; daddr: string; saddr?: string }, field: string): AddressFamily {
  const d = addressFamily(s.daddr, `${field}.daddr`);
  const sa = s.saddr ? addressFamily(s.saddr, `${field}.saddr`) : undefined;
  const family = s.family ?? d ?? sa;
  if (!family) throw new XfrmModelError(field, 'no address family: give daddr or family');
  if ((d && d !== family) || (sa && sa !== family)) throw new XfrmModelError(field, `addresses are not all ${family}`);
  return family;
}

export function checkU32(field: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new XfrmModelError(field, `${v} is not a u32`);
}

/** The header and attributes of NEWSA/UPDSA for `s`. */
export function stateToWire(s: XfrmState): { header: UsersaInfoInput; attrs: XfrmAttrInput } {
  const family = stateFamily(s, 'state');
  checkU32('state.spi', s.spi);
  const flags = namesToFlags(STATE_FLAGS, s.flags, 'state');
  if (flags & 128 && !s.esn) throw new XfrmModelError('state.flags', 'esn needs an esn replay state (replayWindow > 0)');
  if (s.esn && s.replay) throw new XfrmModelError('state', 'give either replay (legacy) or esn, not both');
  if (s.replayWindow > 255) throw new XfrmModelError('state.replayWindow', `${s.replayWindow} does not fit the u8 header field; use esn`);
  if (s.current && s.current.addTime === 0n) {
    // The kernel copies LTIME_VAL into the new SA: add_time 0 makes every add-expiry fire at once.
    throw new XfrmModelError('state.current.addTime', 'is 0; give the original add time or leave current out');
  }
  if (s.comp && (s.aead || s.auth || s.crypt)) throw new XfrmModelError('state', 'comp (IPcomp) cannot be combined with other algorithms');
  const header: UsersaInfoInput = {
    family: familyNumber(family),
    sel: selectorToWire(s.selector),
    id: { daddr: s.daddr, spi: s.spi >>> 0, proto: XFRM_PROTO.toNumber(s.proto) },
    saddr: s.saddr,
    lft: s.lifetime,
    seq: s.seq,
    reqid: s.reqid,
    mode: XFRM_MODE.toNumber(s.mode),
    // the kernel requires 0 here when REPLAY_ESN_VAL carries the window
    replayWindow: s.esn ? 0 : s.replayWindow,
    flags,
    ...(s.current ? { curlft: s.current } : {}),
    ...(s.stats ? { stats: s.stats } : {}),
  };
  const a: XfrmAttrInput = {};
  if (s.aead) a.algAead = { name: s.aead.name, key: s.aead.key, icvBits: s.aead.icvBits, ...(s.aead.keyBits !== undefined ? { keyBits: s.aead.keyBits } : {}) };
  if (s.auth) {
    const base = { name: s.auth.name, key: s.auth.key, ...(s.auth.keyBits !== undefined ? { keyBits: s.auth.keyBits } : {}) };
    if (s.auth.truncBits !== undefined) a.algAuthTrunc = { ...base, truncBits: s.auth.truncBits };
    else a.algAuth = base;
  }
  if (s.crypt) a.algCrypt = { name: s.crypt.name, key: s.crypt.key, ...(s.crypt.keyBits !== undefined ? { keyBits: s.crypt.keyBits } : {}) };
  if (s.comp) a.algComp = { name: s.comp.name, key: SecretBytes.copyOf(Buffer.alloc(0)), keyBits: 0 };
  if (s.encap) {
    a.encap = { encapType: XFRM_ENCAP_TYPE.toNumber(s.encap.type), encapSport: s.encap.sport, encapDport: s.encap.dport, encapOa: s.encap.oa };
  }
  if (s.coaddr !== undefined) a.coaddr = s.coaddr;
  if (s.secCtx) a.secCtx = s.secCtx;
  if (s.offload) {
    a.offloadDev = {
      ifindex: s.offload.ifindex,
      flags: (s.offload.dir === 'in' ? XFRM_OFFLOAD_INBOUND : 0) | (s.offload.packet ? XFRM_OFFLOAD_PACKET : 0),
    };
  }
  if (s.esn) {
    a.replayEsnVal = {
      bmpLen: s.esn.bmpLen,
      oseq: s.esn.oseq,
      seq: s.esn.seq,
      oseqHi: s.esn.oseqHi,
      seqHi: s.esn.seqHi,
      replayWindow: s.esn.replayWindow,
      bmp: s.esn.bitmap,
    };
  }
  if (s.replay) a.replayVal = s.replay;
  if (s.extraFlags && s.extraFlags.length) a.saExtraFlags = namesToFlags(STATE_EXTRA_FLAGS, s.extraFlags, 'state extra');
  if (s.mark) a.mark = markToWire(s.mark);
  if (s.ifId !== undefined) a.ifId = s.ifId;
  if (s.tfcpad !== undefined) a.tfcpad = s.tfcpad;
  if (s.setMark) {
    a.setMark = s.setMark.value;
    if (s.setMark.mask !== undefined) a.setMarkMask = s.setMark.mask;
  }
  if (s.saDir !== undefined) a.saDir = XFRM_SA_DIR.toNumber(s.saDir);
  if (s.pcpu !== undefined) a.saPcpu = s.pcpu;
  if (s.current) a.ltimeVal = s.current;
  if (s.replayThresh !== undefined) a.replayThresh = s.replayThresh;
  if (s.etimerThresh !== undefined) a.etimerThresh = s.etimerThresh;
  if (s.mtimerThresh !== undefined) a.mtimerThresh = s.mtimerThresh;
  if (s.natKeepaliveInterval !== undefined) a.natKeepaliveInterval = s.natKeepaliveInterval;
  return { header, attrs: a };
}

/** An XfrmState from usersa_info + the attributes that came with it. */
export function stateFromWire(info: UsersaInfoValue, attrs: XfrmAttrValues, unknownTypes: readonly number[] = []): XfrmState {
  const fam = familyName(info.family);
  const family: AddressFamily = fam === 'ipv6' ? 'ipv6' : 'ipv4';
  const s: XfrmState = {
    family,
    saddr: info.saddr,
    daddr: info.id.daddr,
    spi: info.id.spi,
    proto: XFRM_PROTO.toName(info.id.proto),
    mode: XFRM_MODE.toName(info.mode),
    reqid: info.reqid,
    seq: info.seq,
    flags: flagsToNames(STATE_FLAGS, info.flags),
    replayWindow: info.replayWindow,
    selector: selectorFromWire(info.sel),
    lifetime: lifetimeConfigFromWire(info.lft),
    stats: { ...info.stats },
  };
  // All-zero counters only occur in requests (a kernel SA always has an add time).
  const cur = attrs.ltimeVal ?? info.curlft;
  if (cur.addTime || cur.useTime || cur.bytes || cur.packets) s.current = lifetimeCurrentFromWire(cur);
  if (attrs.algAead) s.aead = { name: attrs.algAead.name, key: attrs.algAead.key, keyBits: attrs.algAead.keyBits, icvBits: attrs.algAead.icvBits };
  // The kernel reports an auth algorithm both as ALG_AUTH and ALG_AUTH_TRUNC: the latter has the truncation.
  if (attrs.algAuthTrunc) {
    s.auth = { name: attrs.algAuthTrunc.name, key: attrs.algAuthTrunc.key, keyBits: attrs.algAuthTrunc.keyBits, truncBits: attrs.algAuthTrunc.truncBits };
  } else if (attrs.algAuth) {
    s.auth = { name: attrs.algAuth.name, key: attrs.algAuth.key, keyBits: attrs.algAuth.keyBits };
  }
  // the duplicate ALG_AUTH copy of the key is dropped: wipe it
  if (attrs.algAuthTrunc && attrs.algAuth) attrs.algAuth.key.wipe();
  if (attrs.algCrypt) s.crypt = { name: attrs.algCrypt.name, key: attrs.algCrypt.key, keyBits: attrs.algCrypt.keyBits };
  if (attrs.algComp) {
    s.comp = { name: attrs.algComp.name };
    attrs.algComp.key.wipe();
  }
  if (attrs.encap) {
    s.encap = { type: XFRM_ENCAP_TYPE.toName(attrs.encap.encapType), sport: attrs.encap.encapSport, dport: attrs.encap.encapDport, oa: attrs.encap.encapOa };
  }
  if (attrs.coaddr !== undefined) s.coaddr = attrs.coaddr;
  if (attrs.secCtx) s.secCtx = attrs.secCtx;
  if (attrs.mark) s.mark = markFromWire(attrs.mark);
  if (attrs.setMark !== undefined) s.setMark = { value: attrs.setMark, ...(attrs.setMarkMask !== undefined ? { mask: attrs.setMarkMask } : {}) };
  if (attrs.ifId !== undefined) s.ifId = attrs.ifId;
  if (attrs.offloadDev) {
    s.offload = {
      ifindex: attrs.offloadDev.ifindex,
      dir: attrs.offloadDev.flags & XFRM_OFFLOAD_INBOUND ? 'in' : 'out',
      packet: (attrs.offloadDev.flags & XFRM_OFFLOAD_PACKET) !== 0,
    };
  }
  if (attrs.replayEsnVal) {
    const e = attrs.replayEsnVal;
    s.esn = { oseq: e.oseq, seq: e.seq, oseqHi: e.oseqHi, seqHi: e.seqHi, replayWindow: e.replayWindow, bmpLen: e.bmpLen, bitmap: e.bmp };
  } else if (attrs.replayVal) {
    s.replay = { ...attrs.replayVal };
  }
  if (attrs.saExtraFlags !== undefined) s.extraFlags = flagsToNames(STATE_EXTRA_FLAGS, attrs.saExtraFlags);
  if (attrs.saDir !== undefined) s.saDir = XFRM_SA_DIR.toName(attrs.saDir);
  if (attrs.tfcpad !== undefined) s.tfcpad = attrs.tfcpad;
  if (attrs.lastused !== undefined) s.lastUsed = attrs.lastused;
  if (attrs.replayThresh !== undefined) s.replayThresh = attrs.replayThresh;
  if (attrs.etimerThresh !== undefined) s.etimerThresh = attrs.etimerThresh;
  if (attrs.mtimerThresh !== undefined) s.mtimerThresh = attrs.mtimerThresh;
  if (attrs.natKeepaliveInterval !== undefined) s.natKeepaliveInterval = attrs.natKeepaliveInterval;
  if (attrs.saPcpu !== undefined) s.pcpu = attrs.saPcpu;
  if (unknownTypes.length) s.unknownAttributes = [...unknownTypes];
  return s;
}


/** Wipes every key of a state (call when the SA is no longer managed). */
export function wipeStateKeys(s: Pick<XfrmState, 'aead' | 'auth' | 'crypt'>): void {
  s.aead?.key.wipe();
  s.auth?.key.wipe();
  s.crypt?.key.wipe();
}

/** The fields a new SA must have; the rest default as iproute2 does (no limits, no selector, no flags). */
export type XfrmStateInput = Omit<XfrmState, 'family' | 'seq' | 'flags' | 'replayWindow' | 'selector' | 'lifetime'> &
  Partial<Pick<XfrmState, 'family' | 'seq' | 'flags' | 'replayWindow' | 'selector' | 'lifetime'>>;

export function makeState(i: XfrmStateInput): XfrmState {
  return {
    ...i,
    family: i.family ?? stateFamily(i, 'state'),
    seq: i.seq ?? 0,
    flags: i.flags ?? [],
    replayWindow: i.replayWindow ?? 0,
    selector: i.selector ?? EMPTY_SELECTOR,
    lifetime: i.lifetime ?? NO_LIMITS,
  };
}
