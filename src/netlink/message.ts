// nlmsghdr framing, flags and the kernel's error/ack messages (with extended
// ack TLVs). Protocol codecs (xfrm/, link/) build their payloads on top.
import { NetlinkDecodeError } from './errors.js';
import { align4 } from './codec/attributes.js';

export const NETLINK_ROUTE = 0;
export const NETLINK_XFRM = 6;
export const NETLINK_GENERIC = 16;

export const NLMSG_HDRLEN = 16;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_ECHO = 0x8;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP_FILTERED = 0x20;
// GET modifiers
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
// NEW modifiers
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;
export const NLM_F_APPEND = 0x800;
// flags on NLMSG_ERROR
export const NLM_F_CAPPED = 0x100;
export const NLM_F_ACK_TLVS = 0x200;

export const NLMSGERR_ATTR_MSG = 1;
export const NLMSGERR_ATTR_OFFS = 2;
export const NLMSGERR_ATTR_COOKIE = 3;
export const NLMSGERR_ATTR_POLICY = 4;
export const NLMSGERR_ATTR_MISS_TYPE = 5;
export const NLMSGERR_ATTR_MISS_NEST = 6;

export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** everything after the 16-byte header */
  payload: Buffer;
}

export interface OutgoingMessage {
  type: number;
  flags?: number;
  /** fixed header + attributes, already encoded */
  payload: Buffer | readonly Buffer[];
}

function payloadParts(m: OutgoingMessage): readonly Buffer[] {
  return Array.isArray(m.payload) ? (m.payload as readonly Buffer[]) : [m.payload as Buffer];
}

/** Zeroes an encoded message's payload (it may carry keys). */
export function wipeOutgoing(m: OutgoingMessage): void {
  for (const p of payloadParts(m)) p.fill(0);
}

/** Frames one message; seq and pid are the caller's (the socket assigns seq). */
export function encodeMessage(m: OutgoingMessage, seq: number, pid = 0): Buffer {
  const parts = payloadParts(m);
  const bodyLen = parts.reduce((n, p) => n + p.length, 0);
  const len = NLMSG_HDRLEN + bodyLen;
  const out = Buffer.alloc(align4(len));
  out.writeUInt32LE(len, 0);
  out.writeUInt16LE(m.type, 4);
  out.writeUInt16LE(m.flags ?? 0, 6);
  out.writeUInt32LE(seq >>> 0, 8);
  out.writeUInt32LE(pid >>> 0, 12);
  let off = NLMSG_HDRLEN;
  for (const p of parts) {
    p.copy(out, off);
    off += p.length;
  }
  return out;
}

/** Splits one datagram into its messages. Payloads are views into `datagram`. */
export function splitMessages(datagram: Buffer): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  let off = 0;
  while (off + NLMSG_HDRLEN <= datagram.length) {
    const len = datagram.readUInt32LE(off);
    if (len < NLMSG_HDRLEN || off + len > datagram.length) {
      throw new NetlinkDecodeError('nlmsghdr', off, `nlmsg_len ${len} does not fit the ${datagram.length - off} bytes left`);
    }
    out.push({
      type: datagram.readUInt16LE(off + 4),
      flags: datagram.readUInt16LE(off + 6),
      seq: datagram.readUInt32LE(off + 8),
      pid: datagram.readUInt32LE(off + 12),
      payload: datagram.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

export interface KernelAck {
  /** 0 for a plain ack, else a positive errno */
  errno: number;
  /** header of the request this answers */
  request: { type: number; flags: number; seq: number; length: number };
  extack?: string;
  offset?: number;
  missingType?: number;
  missingNest?: number;
}

/**
 * Parses an NLMSG_ERROR payload: int error, the request's header (and its
 * payload unless NLM_F_CAPPED), then extended-ack TLVs if NLM_F_ACK_TLVS.
 */
export function parseAck(m: NetlinkMessage): KernelAck {
  const p = m.payload;
  if (p.length < 4 + NLMSG_HDRLEN) throw new NetlinkDecodeError('nlmsgerr', 0, `${p.length} bytes is shorter than ${4 + NLMSG_HDRLEN}`);
  const error = p.readInt32LE(0);
  const reqLen = p.readUInt32LE(4);
  const ack: KernelAck = {
    errno: error === 0 ? 0 : -error,
    request: { length: reqLen, type: p.readUInt16LE(8), flags: p.readUInt16LE(10), seq: p.readUInt32LE(12) },
  };
  if (!(m.flags & NLM_F_ACK_TLVS)) return ack;
  // The echoed request is left out for plain acks and when capped.
  const echoed = error === 0 || m.flags & NLM_F_CAPPED ? NLMSG_HDRLEN : reqLen;
  // An echoed length past the payload is malformed (the kernel caps what does
  // not fit); checked before align4, whose 32-bit arithmetic turns lengths
  // from 2^31 up into negative offsets.
  if (4 + echoed > p.length) throw new NetlinkDecodeError('nlmsgerr', 4, `echoed request length ${echoed} runs past the ${p.length}-byte payload`);
  parseExtack(p, align4(4 + echoed), ack);
  return ack;
}

/** NLMSG_DONE of a dump: int error, then TLVs if the dump failed. */
export function parseDone(m: NetlinkMessage): { errno: number; extack?: string; offset?: number } {
  if (m.payload.length < 4) return { errno: 0 };
  const error = m.payload.readInt32LE(0);
  const out: KernelAck = { errno: error === 0 ? 0 : -error, request: { length: 0, type: 0, flags: 0, seq: m.seq } };
  if (m.flags & NLM_F_ACK_TLVS) parseExtack(m.payload, 4, out);
  return out;
}

function parseExtack(p: Buffer, start: number, into: KernelAck): void {
  let off = start;
  while (off + 4 <= p.length) {
    const len = p.readUInt16LE(off);
    const type = p.readUInt16LE(off + 2) & 0x3fff;
    if (len < 4 || off + len > p.length) break;
    const v = p.subarray(off + 4, off + len);
    if (type === NLMSGERR_ATTR_MSG) {
      const nul = v.indexOf(0);
      into.extack = v.toString('utf8', 0, nul < 0 ? v.length : nul);
    } else if (type === NLMSGERR_ATTR_OFFS && v.length >= 4) {
      into.offset = v.readUInt32LE(0);
    } else if (type === NLMSGERR_ATTR_MISS_TYPE && v.length >= 4) {
      into.missingType = v.readUInt32LE(0);
    } else if (type === NLMSGERR_ATTR_MISS_NEST && v.length >= 4) {
      into.missingNest = v.readUInt32LE(0);
    }
    off += align4(len);
  }
}
