// ONE table of XFRM message types (number -> name, fixed header struct,
// attribute space), ONE generic encoder and ONE generic decoder for all of
// them, and the MessageDescriber the requester uses to name a failed request
// and the attribute the kernel's ext-ack points at.
import {
  align4,
  type AttrInput,
  type AttrTable,
  type AttrTableSpec,
  type AttrValues,
  type RawAttribute,
  type StructLike,
} from '../netlink/codec/attributes.js';
import { NetlinkDecodeError, NetlinkEncodeError } from '../netlink/errors.js';
import { NLM_F_DUMP, NLM_F_REQUEST, NLMSG_HDRLEN, type NetlinkMessage, type OutgoingMessage } from '../netlink/message.js';
import type { MessageDescriber } from '../netlink/requester.js';
import { sadInfoAttrs, spdInfoAttrs, xfrmAttrs } from './attributes.js';
import { assertAttributeSupported, assertOffloadFlagsSupported, type KernelFeatures } from './features.js';
import {
  noHeader,
  xfrmAeventId,
  xfrmInfoFlags,
  xfrmUserAcquire,
  xfrmUserExpire,
  xfrmUserMapping,
  xfrmUserPolexpire,
  xfrmUserReport,
  xfrmUserpolicyDefault,
  xfrmUserpolicyId,
  xfrmUserpolicyInfo,
  xfrmUsersaFlush,
  xfrmUsersaId,
  xfrmUsersaInfo,
  xfrmUserspiInfo,
} from './structs.js';

export interface XfrmMessageSpec<K extends string, V, I, S extends AttrTableSpec> {
  /** table key, e.g. "NEWSA" ("GETSA_DUMP" for the header-less dump request) */
  readonly kind: K;
  readonly type: number;
  /** kernel name, e.g. "XFRM_MSG_NEWSA" */
  readonly name: string;
  readonly header: StructLike<V, I>;
  readonly attrs: AttrTable<S>;
  /** offset of the u16 address family in the header: it gives attributes like SRCADDR their family */
  readonly familyAt: number | undefined;
  /** a GET request with NLM_F_DUMP: attributes only, no header */
  readonly dump: boolean;
}

function msg<const K extends string, V, I, S extends AttrTableSpec>(
  kind: K,
  type: number,
  header: StructLike<V, I>,
  attrs: AttrTable<S>,
  opts: { familyAt?: number; dump?: boolean } = {},
): XfrmMessageSpec<K, V, I, S> {
  const base = kind.replace(/_DUMP$/, '');
  return { kind, type, name: `XFRM_MSG_${base}${opts.dump ? ' (dump)' : ''}`, header, attrs, familyAt: opts.familyAt, dump: opts.dump ?? false };
}

// Family offsets: usersa_info.family 212, usersa_id.family 20, selector.family 40
// (at 0 in policy structs, at 40 in acquire, at 4 in report), aevent_id.sa_id.family 20.
export const XFRM_MESSAGES = {
  NEWSA: msg('NEWSA', 16, xfrmUsersaInfo, xfrmAttrs, { familyAt: 212 }),
  DELSA: msg('DELSA', 17, xfrmUsersaId, xfrmAttrs, { familyAt: 20 }),
  GETSA: msg('GETSA', 18, xfrmUsersaId, xfrmAttrs, { familyAt: 20 }),
  GETSA_DUMP: msg('GETSA_DUMP', 18, noHeader, xfrmAttrs, { dump: true }),
  NEWPOLICY: msg('NEWPOLICY', 19, xfrmUserpolicyInfo, xfrmAttrs, { familyAt: 40 }),
  DELPOLICY: msg('DELPOLICY', 20, xfrmUserpolicyId, xfrmAttrs, { familyAt: 40 }),
  GETPOLICY: msg('GETPOLICY', 21, xfrmUserpolicyId, xfrmAttrs, { familyAt: 40 }),
  GETPOLICY_DUMP: msg('GETPOLICY_DUMP', 21, noHeader, xfrmAttrs, { dump: true }),
  ALLOCSPI: msg('ALLOCSPI', 22, xfrmUserspiInfo, xfrmAttrs, { familyAt: 212 }),
  ACQUIRE: msg('ACQUIRE', 23, xfrmUserAcquire, xfrmAttrs, { familyAt: 80 }),
  EXPIRE: msg('EXPIRE', 24, xfrmUserExpire, xfrmAttrs, { familyAt: 212 }),
  UPDPOLICY: msg('UPDPOLICY', 25, xfrmUserpolicyInfo, xfrmAttrs, { familyAt: 40 }),
  UPDSA: msg('UPDSA', 26, xfrmUsersaInfo, xfrmAttrs, { familyAt: 212 }),
  POLEXPIRE: msg('POLEXPIRE', 27, xfrmUserPolexpire, xfrmAttrs, { familyAt: 40 }),
  FLUSHSA: msg('FLUSHSA', 28, xfrmUsersaFlush, xfrmAttrs),
  FLUSHPOLICY: msg('FLUSHPOLICY', 29, noHeader, xfrmAttrs),
  NEWAE: msg('NEWAE', 30, xfrmAeventId, xfrmAttrs, { familyAt: 20 }),
  GETAE: msg('GETAE', 31, xfrmAeventId, xfrmAttrs, { familyAt: 20 }),
  REPORT: msg('REPORT', 32, xfrmUserReport, xfrmAttrs, { familyAt: 44 }),
  MIGRATE: msg('MIGRATE', 33, xfrmUserpolicyId, xfrmAttrs, { familyAt: 40 }),
  NEWSADINFO: msg('NEWSADINFO', 34, xfrmInfoFlags, sadInfoAttrs),
  GETSADINFO: msg('GETSADINFO', 35, xfrmInfoFlags, sadInfoAttrs),
  NEWSPDINFO: msg('NEWSPDINFO', 36, xfrmInfoFlags, spdInfoAttrs),
  GETSPDINFO: msg('GETSPDINFO', 37, xfrmInfoFlags, spdInfoAttrs),
  MAPPING: msg('MAPPING', 38, xfrmUserMapping, xfrmAttrs, { familyAt: 20 }),
  SETDEFAULT: msg('SETDEFAULT', 39, xfrmUserpolicyDefault, xfrmAttrs),
  GETDEFAULT: msg('GETDEFAULT', 40, xfrmUserpolicyDefault, xfrmAttrs),
} as const;

type Specs = typeof XFRM_MESSAGES;
export type XfrmMessageKind = keyof Specs;

type HeaderValue<K extends XfrmMessageKind> = Specs[K] extends { header: StructLike<infer V, never> } ? V : never;
type HeaderInput<K extends XfrmMessageKind> = Specs[K] extends { header: StructLike<unknown, infer I> } ? I : never;
type AttrSpecOf<K extends XfrmMessageKind> = Specs[K] extends { attrs: AttrTable<infer S> } ? S : never;

export interface DecodedXfrm<K extends XfrmMessageKind> {
  kind: K;
  type: number;
  name: string;
  flags: number;
  seq: number;
  pid: number;
  header: HeaderValue<K>;
  attrs: AttrValues<AttrSpecOf<K>>;
  /** attributes newer than our table: kept, never dropped */
  unknown: RawAttribute[];
}

export type AnyDecodedXfrm = { [K in XfrmMessageKind]: DecodedXfrm<K> }[XfrmMessageKind];

export interface XfrmEncodeInput<K extends XfrmMessageKind> {
  header?: HeaderInput<K>;
  attrs?: AttrInput<AttrSpecOf<K>>;
  /** nlmsg flags beyond REQUEST/ACK/DUMP (which the requester adds), e.g. NLM_F_REPLACE */
  flags?: number;
}

export interface XfrmEncodeOptions {
  /** when given, refuse attributes and flags the kernel would ignore or reject */
  features?: KernelFeatures;
}

const byType = new Map<number, { plain: Specs[XfrmMessageKind]; dump?: Specs[XfrmMessageKind] }>();
for (const spec of Object.values(XFRM_MESSAGES) as Specs[XfrmMessageKind][]) {
  const e = byType.get(spec.type);
  if (spec.dump) {
    if (!e) throw new Error(`dump variant of ${spec.name} declared before its plain form`);
    e.dump = spec;
  } else {
    if (e) throw new Error(`XFRM message type ${spec.type} declared twice`);
    byType.set(spec.type, { plain: spec });
  }
}

/** The table entry for a message on the wire (a GET request with NLM_F_DUMP has no header). */
export function specFor(type: number, flags = 0): Specs[XfrmMessageKind] | undefined {
  const e = byType.get(type);
  if (!e) return undefined;
  if (e.dump && flags & NLM_F_REQUEST && (flags & NLM_F_DUMP) === NLM_F_DUMP) return e.dump;
  return e.plain;
}

/** Builds a request (payload = header, padding to 4, attributes). */
export function encodeXfrm<K extends XfrmMessageKind>(kind: K, input: XfrmEncodeInput<K> = {}, opts: XfrmEncodeOptions = {}): OutgoingMessage & { payload: Buffer[] } {
  const spec = XFRM_MESSAGES[kind] as unknown as XfrmMessageSpec<K, unknown, unknown, AttrTableSpec>;
  const attrs = (input.attrs ?? {}) as Record<string, unknown>;
  if (opts.features && (spec.attrs as unknown) === xfrmAttrs) {
    for (const [key, v] of Object.entries(attrs)) if (v !== undefined) assertAttributeSupported(opts.features, key);
    const offload = attrs.offloadDev as { flags?: number } | undefined;
    if (offload?.flags !== undefined) assertOffloadFlagsSupported(opts.features, offload.flags);
  }
  const header = spec.header.encode(input.header ?? {});
  const family = spec.familyAt !== undefined && header.length >= spec.familyAt + 2 ? header.readUInt16LE(spec.familyAt) : 0;
  let encodedAttrs: Buffer;
  try {
    encodedAttrs = spec.attrs.encode(attrs as AttrInput<AttrTableSpec>, { family });
  } catch (e) {
    if (e instanceof NetlinkEncodeError) throw new NetlinkEncodeError(`${spec.name} ${e.what}`, e.message.replace(/^cannot encode [^:]*: /, ''));
    throw e;
  }
  const payload = encodedAttrs.length ? [header, Buffer.alloc(align4(header.length) - header.length), encodedAttrs] : [header];
  return { type: spec.type, flags: input.flags ?? 0, payload };
}

/** Decodes any XFRM message of `kind` (the type must match). */
export function decodeXfrm<K extends XfrmMessageKind>(kind: K, m: NetlinkMessage): DecodedXfrm<K> {
  const spec = XFRM_MESSAGES[kind] as unknown as XfrmMessageSpec<K, HeaderValue<K>, unknown, AttrSpecOf<K>>;
  if (m.type !== spec.type) throw new NetlinkDecodeError(spec.name, 4, `message type is ${m.type}, not ${spec.type}`);
  const p = m.payload;
  if (p.length < spec.header.size) {
    throw new NetlinkDecodeError(`${spec.name} header`, NLMSG_HDRLEN, `needs ${spec.header.size} bytes, got ${p.length}`);
  }
  const header = spec.header.decode(p);
  const family = spec.familyAt !== undefined ? p.readUInt16LE(spec.familyAt) : 0;
  const start = Math.min(align4(spec.header.size), p.length);
  let decoded;
  try {
    decoded = spec.attrs.decode(p, { family }, start);
  } catch (e) {
    if (e instanceof NetlinkDecodeError) throw new NetlinkDecodeError(`${spec.name} ${e.what}`, NLMSG_HDRLEN + e.offset, e.message.replace(/^cannot decode .* at offset \d+: /, ''));
    throw e;
  }
  return { kind, type: m.type, name: spec.name, flags: m.flags, seq: m.seq, pid: m.pid, header, attrs: decoded.values, unknown: decoded.unknown };
}

/** Decodes whatever XFRM message this is; undefined for a type the table does not know. */
export function decodeAnyXfrm(m: NetlinkMessage): AnyDecodedXfrm | undefined {
  const spec = specFor(m.type, m.flags);
  return spec ? (decodeXfrm(spec.kind, m) as AnyDecodedXfrm) : undefined;
}

/** Names XFRM requests and the attribute an ext-ack offset points at. */
export const xfrmDescriber: MessageDescriber = {
  name: (type) => specFor(type)?.name ?? `XFRM message type ${type}`,
  attributeAt: (request, offset) => {
    if (request.length < NLMSG_HDRLEN) return undefined;
    const spec = specFor(request.readUInt16LE(4), request.readUInt16LE(6));
    if (!spec) return undefined;
    const start = NLMSG_HDRLEN + align4(spec.header.size);
    if (offset < start) return `${spec.name} header`;
    return spec.attrs.attributeAt(request, offset, start);
  },
  attributeName: (type) => xfrmAttrs.nameOf(type),
};
