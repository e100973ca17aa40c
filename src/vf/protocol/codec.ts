// ONE encoder and ONE decoder for every mailbox message, driven by the tables
// in constants.ts (message types, required attributes) and attributes.ts
// (attribute spaces). A frame is a 16-byte header and the message's
// attributes:
//
//   0       4        6      7       8          12         16
//   | magic | version| type | flags | length    | id        | attributes ...
//   | u32   | u16    | u8   | u8=0  | u32 (all) | u32       |
//
// All integers little-endian. `length` counts the header. `id` pairs a
// request with its answer (0 in notices).
import type { AttrInput } from '../../netlink/codec/attributes.js';
import { struct, u16, u32, u8 } from '../../netlink/codec/struct.js';
import { NetlinkDecodeError, NetlinkEncodeError } from '../../netlink/errors.js';
import { wipeStateKeys, type XfrmState } from '../../xfrm/state.js';
import { mailboxAttrs, type ChildAttrs, type MailboxAttrSpec, type MailboxAttrs, type TrafficSelector } from './attributes.js';
import { HEADER_SIZE, MAILBOX_MAGIC, MAILBOX_VERSION, MAX_FRAME, MESSAGES, type MessageKind } from './constants.js';
import { MailboxDecodeError, MailboxEncodeError } from './errors.js';

export const frameHeader = struct('vf_mailbox_header', HEADER_SIZE, {
  magic: [0, u32],
  version: [4, u16],
  type: [6, u8],
  flags: [7, u8],
  length: [8, u32],
  id: [12, u32],
});

const KIND_BY_TYPE = new Map<number, MessageKind>(Object.entries(MESSAGES).map(([k, s]) => [s.type, k as MessageKind]));

/** A CHILD_SA as sa.add carries it, checked for completeness. */
export interface ChildSpec {
  uniqueid: number;
  name: string;
  ike: string;
  reqid: number;
  /** XFRM mode number */
  mode: number;
  saIn: XfrmState;
  saOut: XfrmState;
  localTs: TrafficSelector[];
  remoteTs: TrafficSelector[];
}

type RequiredOf<K extends MessageKind> = (typeof MESSAGES)[K]['required'][number] & keyof MailboxAttrs;

export interface Frame<K extends MessageKind = MessageKind> {
  kind: K;
  id: number;
  attrs: MailboxAttrs & { [A in RequiredOf<K>]-?: NonNullable<MailboxAttrs[A]> };
  /** sa.add: the CHILD_SA, complete */
  child?: ChildSpec;
}

export type AnyFrame = { [K in MessageKind]: Frame<K> }[MessageKind];

export type FrameInput = AttrInput<MailboxAttrSpec>;

/** Encodes one message. Throws MailboxEncodeError when a required attribute is missing or a value does not fit. */
export function encodeFrame(kind: MessageKind, id: number, attrs: FrameInput = {}): Buffer {
  const spec = MESSAGES[kind];
  for (const name of spec.required) {
    if ((attrs as Record<string, unknown>)[name] === undefined) throw new MailboxEncodeError(kind, `attribute ${name} is required`);
  }
  let body: Buffer;
  try {
    body = mailboxAttrs.encode(attrs);
  } catch (e) {
    if (e instanceof NetlinkEncodeError || e instanceof MailboxEncodeError) throw new MailboxEncodeError(kind, e.message);
    throw e;
  }
  const length = HEADER_SIZE + body.length;
  if (length > MAX_FRAME) throw new MailboxEncodeError(kind, `${length} bytes exceed the ${MAX_FRAME}-byte frame limit`);
  const header = frameHeader.encode({ magic: MAILBOX_MAGIC, version: MAILBOX_VERSION, type: spec.type, flags: 0, length, id: id >>> 0 });
  const out = Buffer.concat([header, body]);
  body.fill(0);
  return out;
}

export interface HeaderView {
  version: number;
  type: number;
  length: number;
  id: number;
}

/** Checks a frame header (framing needs magic and length before the rest has arrived). */
export function readHeader(buf: Buffer, offset = 0): HeaderView {
  if (buf.length - offset < HEADER_SIZE) throw new MailboxDecodeError('frame header', offset, `needs ${HEADER_SIZE} bytes, got ${buf.length - offset}`);
  const h = frameHeader.decode(buf, { family: 0 }, offset);
  if (h.magic !== MAILBOX_MAGIC) throw new MailboxDecodeError('frame header', offset, `bad magic 0x${h.magic.toString(16).padStart(8, '0')} (not a mailbox stream)`);
  if (h.length < HEADER_SIZE || h.length > MAX_FRAME) throw new MailboxDecodeError('frame header', offset + 8, `length ${h.length} is outside ${HEADER_SIZE}..${MAX_FRAME}`);
  return { version: h.version, type: h.type, length: h.length, id: h.id };
}

/**
 * Decodes one complete frame. Whatever the bytes, the only error is
 * MailboxDecodeError (problem 'version' for a version we do not speak).
 */
export function decodeFrame(buf: Buffer): AnyFrame {
  const h = readHeader(buf);
  if (h.length !== buf.length) throw new MailboxDecodeError('frame header', 8, `length ${h.length} but the frame has ${buf.length} bytes`);
  if (h.version !== MAILBOX_VERSION) throw new MailboxDecodeError('frame header', 4, `version ${h.version} (this side speaks ${MAILBOX_VERSION})`, 'version');
  if (buf.readUInt8(7) !== 0) throw new MailboxDecodeError('frame header', 7, `flags 0x${buf.readUInt8(7).toString(16)} (reserved, must be 0)`);
  const kind = KIND_BY_TYPE.get(h.type);
  if (kind === undefined) throw new MailboxDecodeError('frame header', 6, `unknown message type ${h.type}`);
  let attrs: MailboxAttrs;
  try {
    attrs = mailboxAttrs.decode(buf, { family: 0 }, HEADER_SIZE).values;
  } catch (e) {
    throw asDecodeError(e, 'attributes');
  }
  for (const name of MESSAGES[kind].required) {
    if ((attrs as Record<string, unknown>)[name] === undefined) throw new MailboxDecodeError(kind, HEADER_SIZE, `attribute ${name} is missing`);
  }
  const child = kind === 'sa.add' ? childSpec(attrs.child as ChildAttrs) : undefined;
  return { kind, id: h.id, attrs, ...(child ? { child } : {}) } as AnyFrame;
}

function asDecodeError(e: unknown, what: string): MailboxDecodeError {
  if (e instanceof MailboxDecodeError) return e;
  if (e instanceof NetlinkDecodeError) return new MailboxDecodeError(e.what, HEADER_SIZE + e.offset, e.message.replace(/^cannot decode .* at offset \d+: /, ''));
  // A codec bug must not become a crash a tenant can trigger; it is still a refusal.
  return new MailboxDecodeError(what, HEADER_SIZE, e instanceof Error ? `${e.name}: ${e.message}` : String(e));
}

const CHILD_REQUIRED = ['uniqueid', 'reqid', 'mode', 'saIn', 'saOut', 'localTs', 'remoteTs'] as const;

function childSpec(d: ChildAttrs): ChildSpec {
  const v = d.values;
  try {
    for (const k of CHILD_REQUIRED) if (v[k] === undefined) throw new MailboxDecodeError('VFMB_A_CHILD', HEADER_SIZE, `attribute ${k} is missing`);
    return completeChild(v);
  } catch (e) {
    // Refused: the keys that were decoded go now, not at some garbage collection.
    if (v.saIn) wipeStateKeys(v.saIn);
    if (v.saOut) wipeStateKeys(v.saOut);
    throw e;
  }
}

function completeChild(v: ChildAttrs['values']): ChildSpec {
  const ts = (list: TrafficSelector[], what: string): TrafficSelector[] => {
    for (const t of list) {
      const max = t.family === 2 ? 32 : t.family === 10 ? 128 : -1;
      if (max < 0) throw new MailboxDecodeError(what, HEADER_SIZE, `address family ${t.family} (2 or 10)`);
      if (t.prefixlen > max) throw new MailboxDecodeError(what, HEADER_SIZE, `prefix length ${t.prefixlen} > ${max}`);
      if (t.fromPort > t.toPort) throw new MailboxDecodeError(what, HEADER_SIZE, `port range ${t.fromPort}..${t.toPort}`);
    }
    return list.map((t) => ({ ...t }));
  };
  return {
    uniqueid: v.uniqueid as number,
    name: v.name ?? '',
    ike: v.ike ?? '',
    reqid: v.reqid as number,
    mode: v.mode as number,
    saIn: v.saIn as XfrmState,
    saOut: v.saOut as XfrmState,
    localTs: ts(v.localTs as TrafficSelector[], 'VFMB_CHILD_LOCAL_TS'),
    remoteTs: ts(v.remoteTs as TrafficSelector[], 'VFMB_CHILD_REMOTE_TS'),
  };
}

/** The attribute input for a CHILD_SA (sa.add). */
export function childInput(c: ChildSpec): FrameInput['child'] {
  return {
    uniqueid: c.uniqueid,
    name: c.name,
    reqid: c.reqid,
    mode: c.mode,
    saIn: c.saIn,
    saOut: c.saOut,
    localTs: c.localTs,
    remoteTs: c.remoteTs,
    ike: c.ike,
  };
}

