// The XFRMA_* attribute space as ONE table (types 1..35, the 6.12 uAPI incl.
// Debian's SA_PCPU), plus the two small spaces of SADINFO/SPDINFO replies.
//
// Declaration order is the emission order of the one generic encoder, chosen
// to equal iproute2 6.1's order wherever it sends more than one attribute
// (captured: NEWSA algorithms, ENCAP, OFFLOAD_DEV, REPLAY_ESN_VAL|REPLAY_VAL,
// SA_EXTRA_FLAGS, MARK, IF_ID, TFCPAD, SET_MARK, SET_MARK_MASK; GETSA
// SRCADDR then MARK; NEWPOLICY TMPL, POLICY_TYPE, MARK, IF_ID), so encoded
// requests compare byte for byte with the golden captures.
import { NetlinkDecodeError, NetlinkEncodeError } from '../netlink/errors.js';
import { attr, attrTable, binary, structArray, structAttr, u32, u64, u8, type AttrCodec, type AttrInput, type AttrValues } from '../netlink/codec/attributes.js';
import { SecretBytes } from '../netlink/codec/secret.js';
import { address16, type CodecContext } from '../netlink/codec/struct.js';
import { XFRM_REPLAY_ESN_MAX_WORDS } from './constants.js';
import {
  xfrmAddressFilter,
  xfrmAlgo,
  xfrmAlgoAead,
  xfrmAlgoAuth,
  xfrmEncapTmpl,
  xfrmLifetimeCur,
  xfrmMark,
  xfrmReplayState,
  xfrmReplayStateEsn,
  xfrmUserKmaddress,
  xfrmUserMigrate,
  xfrmUserOffload,
  xfrmUserSecCtx,
  xfrmUserTmpl,
  xfrmUserpolicyInfo,
  xfrmUserpolicyType,
  xfrmUsersaInfo,
  xfrmuSadhinfo,
  xfrmuSpdhinfo,
  xfrmuSpdhthresh,
  xfrmuSpdinfo,
} from './structs.js';

// ---- payload codecs specific to XFRM ---------------------------------------

/** xfrm_address_t as an attribute (SRCADDR, COADDR): 16 bytes, family from the message. */
const xfrmAddress: AttrCodec<string> = {
  decode: (p, ctx) => {
    if (p.length < 16) throw new NetlinkDecodeError('xfrm_address_t', 0, `needs 16 bytes, got ${p.length}`);
    return address16.read(p, 0, ctx);
  },
  encode: (v, ctx) => {
    const b = Buffer.alloc(16);
    address16.write(b, 0, v, ctx);
    return b;
  },
};

/** An algorithm as decoded: key_len is in bits; the key never renders. */
export interface WireAlgo {
  name: string;
  keyBits: number;
  key: SecretBytes;
}
export interface WireAlgoAuth extends WireAlgo {
  truncBits: number;
}
export interface WireAlgoAead extends WireAlgo {
  icvBits: number;
}
/** keyBits defaults to 8 × key length (what iproute2 sends). */
export interface AlgoInput {
  name: string;
  key: SecretBytes;
  keyBits?: number;
}
export interface AlgoAuthInput extends AlgoInput {
  truncBits: number;
}
export interface AlgoAeadInput extends AlgoInput {
  icvBits: number;
}

function keyBitsOf(label: string, v: AlgoInput): number {
  const bits = v.keyBits ?? v.key.length * 8;
  if (!Number.isInteger(bits) || bits < 0 || Math.ceil(bits / 8) !== v.key.length) {
    // Lengths only: never the key.
    throw new NetlinkEncodeError(label, `key_len of ${bits} bits does not match a ${v.key.length}-byte key`);
  }
  return bits;
}

function readKey(label: string, p: Buffer, head: number, bits: number): SecretBytes {
  const bytes = Math.ceil(bits / 8);
  if (p.length - head < bytes) {
    throw new NetlinkDecodeError(label, head, `key of ${bits} bits needs ${bytes} bytes, ${p.length - head} present`);
  }
  return SecretBytes.copyOf(p.subarray(head, head + bytes));
}

const algo: AttrCodec<WireAlgo, AlgoInput> = {
  decode: (p, ctx) => {
    if (p.length < xfrmAlgo.size) throw new NetlinkDecodeError('struct xfrm_algo', 0, `needs ${xfrmAlgo.size} bytes, got ${p.length}`);
    const h = xfrmAlgo.decode(p, ctx);
    return { name: h.algName, keyBits: h.algKeyLen, key: readKey('struct xfrm_algo', p, xfrmAlgo.size, h.algKeyLen) };
  },
  encode: (v, ctx) => {
    const bits = keyBitsOf('xfrm_algo', v);
    return Buffer.concat([xfrmAlgo.encode({ algName: v.name, algKeyLen: bits }, ctx), v.key.reveal()]);
  },
};

const algoAuth: AttrCodec<WireAlgoAuth, AlgoAuthInput> = {
  decode: (p, ctx) => {
    if (p.length < xfrmAlgoAuth.size) throw new NetlinkDecodeError('struct xfrm_algo_auth', 0, `needs ${xfrmAlgoAuth.size} bytes, got ${p.length}`);
    const h = xfrmAlgoAuth.decode(p, ctx);
    return {
      name: h.algName,
      keyBits: h.algKeyLen,
      truncBits: h.algTruncLen,
      key: readKey('struct xfrm_algo_auth', p, xfrmAlgoAuth.size, h.algKeyLen),
    };
  },
  encode: (v, ctx) => {
    const bits = keyBitsOf('xfrm_algo_auth', v);
    return Buffer.concat([xfrmAlgoAuth.encode({ algName: v.name, algKeyLen: bits, algTruncLen: v.truncBits }, ctx), v.key.reveal()]);
  },
};

const algoAead: AttrCodec<WireAlgoAead, AlgoAeadInput> = {
  decode: (p, ctx) => {
    if (p.length < xfrmAlgoAead.size) throw new NetlinkDecodeError('struct xfrm_algo_aead', 0, `needs ${xfrmAlgoAead.size} bytes, got ${p.length}`);
    const h = xfrmAlgoAead.decode(p, ctx);
    return {
      name: h.algName,
      keyBits: h.algKeyLen,
      icvBits: h.algIcvLen,
      key: readKey('struct xfrm_algo_aead', p, xfrmAlgoAead.size, h.algKeyLen),
    };
  },
  encode: (v, ctx) => {
    const bits = keyBitsOf('xfrm_algo_aead', v);
    return Buffer.concat([xfrmAlgoAead.encode({ algName: v.name, algKeyLen: bits, algIcvLen: v.icvBits }, ctx), v.key.reveal()]);
  },
};

/**
 * xfrm_replay_state_esn with its bitmap. `bmp` empty = the 24-byte short form
 * (NEWSA accepts it and zero-fills; iproute2 and vishvananda send it). NEWAE
 * needs the full form: give all bmpLen words.
 */
export interface WireReplayEsn {
  bmpLen: number;
  oseq: number;
  seq: number;
  oseqHi: number;
  seqHi: number;
  replayWindow: number;
  bmp: number[];
}
export interface ReplayEsnInput {
  /** defaults to bmp.length, or ceil(replayWindow / 32) for the short form */
  bmpLen?: number;
  oseq?: number;
  seq?: number;
  oseqHi?: number;
  seqHi?: number;
  replayWindow: number;
  bmp?: readonly number[];
}

const replayEsn: AttrCodec<WireReplayEsn, ReplayEsnInput> = {
  decode: (p, ctx) => {
    const label = 'struct xfrm_replay_state_esn';
    if (p.length < xfrmReplayStateEsn.size) throw new NetlinkDecodeError(label, 0, `needs ${xfrmReplayStateEsn.size} bytes, got ${p.length}`);
    const h = xfrmReplayStateEsn.decode(p, ctx);
    const bmp: number[] = [];
    if (p.length > xfrmReplayStateEsn.size) {
      const words = (p.length - xfrmReplayStateEsn.size) >>> 2;
      if (words < h.bmpLen) throw new NetlinkDecodeError(label, xfrmReplayStateEsn.size, `bmp_len ${h.bmpLen} but ${words} bitmap words present`);
      for (let i = 0; i < h.bmpLen; i++) bmp.push(p.readUInt32LE(xfrmReplayStateEsn.size + 4 * i));
    }
    return { ...h, bmp };
  },
  encode: (v, ctx) => {
    const bmp = v.bmp ?? [];
    const bmpLen = v.bmpLen ?? (bmp.length || Math.ceil(v.replayWindow / 32));
    if (bmp.length && bmp.length !== bmpLen) throw new NetlinkEncodeError('xfrm_replay_state_esn', `bmp_len ${bmpLen} but ${bmp.length} bitmap words`);
    if (bmpLen > XFRM_REPLAY_ESN_MAX_WORDS) throw new NetlinkEncodeError('xfrm_replay_state_esn', `bmp_len ${bmpLen} exceeds ${XFRM_REPLAY_ESN_MAX_WORDS} words`);
    if (v.replayWindow > bmpLen * 32) throw new NetlinkEncodeError('xfrm_replay_state_esn', `replay window ${v.replayWindow} does not fit ${bmpLen} words`);
    const head = xfrmReplayStateEsn.encode(
      { bmpLen, oseq: v.oseq ?? 0, seq: v.seq ?? 0, oseqHi: v.oseqHi ?? 0, seqHi: v.seqHi ?? 0, replayWindow: v.replayWindow },
      ctx,
    );
    const tail = Buffer.alloc(4 * bmp.length);
    bmp.forEach((w, i) => {
      if (!Number.isInteger(w) || w < 0 || w > 0xffffffff) throw new NetlinkEncodeError('xfrm_replay_state_esn', `bitmap word ${i} is not a u32`);
      tail.writeUInt32LE(w, 4 * i);
    });
    return Buffer.concat([head, tail]);
  },
};

/** XFRMA_SEC_CTX: xfrm_user_sec_ctx then ctx_len bytes of LSM context. */
export interface SecCtx {
  ctxAlg: number;
  ctxDoi: number;
  context: string;
}

const SEC_CTX_TYPE = 8;

const secCtx: AttrCodec<SecCtx> = {
  decode: (p: Buffer, ctx: CodecContext) => {
    const label = 'struct xfrm_user_sec_ctx';
    if (p.length < xfrmUserSecCtx.size) throw new NetlinkDecodeError(label, 0, `needs ${xfrmUserSecCtx.size} bytes, got ${p.length}`);
    const h = xfrmUserSecCtx.decode(p, ctx);
    if (p.length < xfrmUserSecCtx.size + h.ctxLen) throw new NetlinkDecodeError(label, xfrmUserSecCtx.size, `ctx_len ${h.ctxLen} overruns`);
    return { ctxAlg: h.ctxAlg, ctxDoi: h.ctxDoi, context: p.toString('utf8', xfrmUserSecCtx.size, xfrmUserSecCtx.size + h.ctxLen) };
  },
  encode: (v, ctx) => {
    const str = Buffer.from(v.context, 'utf8');
    if (str.length > 0xffff - xfrmUserSecCtx.size) throw new NetlinkEncodeError('xfrm_user_sec_ctx', 'context too long');
    const head = xfrmUserSecCtx.encode(
      { len: xfrmUserSecCtx.size + str.length, exttype: SEC_CTX_TYPE, ctxAlg: v.ctxAlg, ctxDoi: v.ctxDoi, ctxLen: str.length },
      ctx,
    );
    return Buffer.concat([head, str]);
  },
};

// ---- the tables -------------------------------------------------------------

export const xfrmAttrs = attrTable('xfrm', 'XFRMA_', {
  // carriers of a whole state/policy (DELSA/DELPOLICY notifications, MIGRATE)
  sa: attr(6, structAttr(xfrmUsersaInfo)),
  policy: attr(7, structAttr(xfrmUserpolicyInfo)),
  // algorithms, in the order iproute2 users write them and the kernel dumps them
  algAead: attr(18, algoAead),
  algAuth: attr(1, algo),
  algAuthTrunc: attr(20, algoAuth),
  algCrypt: attr(2, algo),
  algComp: attr(3, algo),
  encap: attr(4, structAttr(xfrmEncapTmpl)),
  coaddr: attr(14, xfrmAddress),
  secCtx: attr(8, secCtx),
  tmpl: attr(5, structArray(xfrmUserTmpl)),
  srcaddr: attr(13, xfrmAddress),
  offloadDev: attr(28, structAttr(xfrmUserOffload)),
  replayEsnVal: attr(23, replayEsn),
  replayVal: attr(10, structAttr(xfrmReplayState)),
  saExtraFlags: attr(24, u32),
  policyType: attr(16, structAttr(xfrmUserpolicyType)),
  mark: attr(21, structAttr(xfrmMark)),
  ifId: attr(31, u32),
  tfcpad: attr(22, u32),
  setMark: attr(29, u32),
  setMarkMask: attr(30, u32),
  saDir: attr(33, u8),
  saPcpu: attr(35, u32),
  ltimeVal: attr(9, structAttr(xfrmLifetimeCur)),
  lastused: attr(15, u64),
  replayThresh: attr(11, u32),
  etimerThresh: attr(12, u32),
  mtimerThresh: attr(32, u32),
  natKeepaliveInterval: attr(34, u32),
  proto: attr(25, u8),
  addressFilter: attr(26, structAttr(xfrmAddressFilter)),
  migrate: attr(17, structArray(xfrmUserMigrate)),
  kmaddress: attr(19, structAttr(xfrmUserKmaddress)),
  pad: attr(27, binary),
});

export type XfrmAttrSpec = (typeof xfrmAttrs)['spec'];
export type XfrmAttrName = keyof XfrmAttrSpec & string;
export type XfrmAttrValues = AttrValues<XfrmAttrSpec>;
/** Attribute values to encode (mutable, so converters can fill them in). */
export type XfrmAttrInput = { -readonly [K in keyof AttrInput<XfrmAttrSpec>]: AttrInput<XfrmAttrSpec>[K] };

/** GETSADINFO reply attributes (enum xfrm_sadattr_type_t). */
export const sadInfoAttrs = attrTable('xfrm SAD info', 'XFRMA_SAD_', {
  cnt: attr(1, u32),
  hinfo: attr(2, structAttr(xfrmuSadhinfo)),
});

/** GETSPDINFO reply / NEWSPDINFO attributes (enum xfrm_spdattr_type_t). */
export const spdInfoAttrs = attrTable('xfrm SPD info', 'XFRMA_SPD_', {
  info: attr(1, structAttr(xfrmuSpdinfo)),
  hinfo: attr(2, structAttr(xfrmuSpdhinfo)),
  ipv4Hthresh: attr(3, structAttr(xfrmuSpdhthresh)),
  ipv6Hthresh: attr(4, structAttr(xfrmuSpdhthresh)),
});
