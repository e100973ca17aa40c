// The rtnetlink messages this project speaks, as one table: message type ->
// name, fixed header and attribute space. One encoder and one decoder serve
// them all; the describer names message types and the offending attribute
// (down to nested ones) in NetlinkRequester errors.
import { NetlinkDecodeError } from '../netlink/errors.js';
import { NLA_HDRLEN, NLA_TYPE_MASK, align4, type RawAttribute } from '../netlink/codec/attributes.js';
import { NLMSG_HDRLEN, type NetlinkMessage, type OutgoingMessage } from '../netlink/message.js';
import type { MessageDescriber } from '../netlink/requester.js';
import {
  IFLA_INFO_DATA,
  IFLA_INFO_KIND,
  IFLA_LINKINFO,
  IFLA_PROP_LIST,
  IFLA_VFINFO_LIST,
  IFLA_XDP,
  VETH_INFO_PEER,
  iflaTable,
  isKnownKind,
  linkInfoTable,
  linkKinds,
  propListTable,
  xdpTable,
  type IfInfoMsg,
  type IfInfoMsgInput,
  type LinkAttrs,
  type LinkAttrsInput,
} from './attributes.js';
import { ifaTable, type AddrAttrs, type AddrAttrsInput } from './address-attributes.js';
import { rtaTable, rtaxTable, type RouteAttrs, type RouteAttrsInput } from './route-attributes.js';
import { ifaddrmsg, ifinfomsg, rtmsg } from './structs.js';
import { vfInfoListTable, vfTable, vfVlanListTable, vfStatsTable } from './vf-attributes.js';
import { decodeLinkAttributes, type VfListCheck } from './vf-list.js';

export type IfAddrMsg = ReturnType<typeof ifaddrmsg.decode>;
export type IfAddrMsgInput = Parameters<typeof ifaddrmsg.encode>[0];
export type RtMsg = ReturnType<typeof rtmsg.decode>;
export type RtMsgInput = Parameters<typeof rtmsg.encode>[0];

/** The three kinds of rtnetlink payload, each a header struct + an attribute space. */
export type RtFamily = 'link' | 'addr' | 'route';

/** Message type -> [kernel name, payload kind]. */
export const RT_MESSAGES: Readonly<Record<number, readonly [string, RtFamily]>> = {
  16: ['RTM_NEWLINK', 'link'],
  17: ['RTM_DELLINK', 'link'],
  18: ['RTM_GETLINK', 'link'],
  19: ['RTM_SETLINK', 'link'],
  20: ['RTM_NEWADDR', 'addr'],
  21: ['RTM_DELADDR', 'addr'],
  22: ['RTM_GETADDR', 'addr'],
  24: ['RTM_NEWROUTE', 'route'],
  25: ['RTM_DELROUTE', 'route'],
  26: ['RTM_GETROUTE', 'route'],
};

const PAYLOADS = {
  link: { header: ifinfomsg, attrs: iflaTable },
  addr: { header: ifaddrmsg, attrs: ifaTable },
  route: { header: rtmsg, attrs: rtaTable },
} as const;

export interface LinkMessage {
  family: 'link';
  type: number;
  flags: number;
  header: IfInfoMsg;
  attrs: LinkAttrs;
  unknown: RawAttribute[];
  vfList?: VfListCheck;
}
export interface AddrMessage {
  family: 'addr';
  type: number;
  flags: number;
  header: IfAddrMsg;
  attrs: AddrAttrs;
  unknown: RawAttribute[];
}
export interface RouteMessage {
  family: 'route';
  type: number;
  flags: number;
  header: RtMsg;
  attrs: RouteAttrs;
  unknown: RawAttribute[];
}
export type RtMessage = LinkMessage | AddrMessage | RouteMessage;

export function messageName(type: number): string {
  return RT_MESSAGES[type]?.[0] ?? `rtnetlink type ${type}`;
}

/** Decodes one rtnetlink message; anything malformed is a NetlinkDecodeError. */
export function decodeRtMessage(m: Pick<NetlinkMessage, 'type' | 'flags' | 'payload'>): RtMessage {
  const entry = RT_MESSAGES[m.type];
  if (!entry) throw new NetlinkDecodeError('rtnetlink message', 0, `type ${m.type} is not a link, address or route message`);
  const [name, family] = entry;
  const { header: hdr } = PAYLOADS[family];
  if (m.payload.length < hdr.size) throw new NetlinkDecodeError(`${name} header`, 0, `needs ${hdr.size} bytes, got ${m.payload.length}`);
  const start = align4(hdr.size);
  const base = { type: m.type, flags: m.flags };
  try {
    if (family === 'link') {
      const header = ifinfomsg.decode(m.payload);
      const { values, unknown, vfList } = decodeLinkAttributes(m.payload, { family: header.family }, start);
      return { family, ...base, header, attrs: values, unknown, ...(vfList ? { vfList } : {}) };
    }
    if (family === 'addr') {
      const header = ifaddrmsg.decode(m.payload);
      const { values, unknown } = ifaTable.decode(m.payload, { family: header.family }, start);
      return { family, ...base, header, attrs: values, unknown };
    }
    const header = rtmsg.decode(m.payload);
    const { values, unknown } = rtaTable.decode(m.payload, { family: header.family }, start);
    return { family, ...base, header, attrs: values, unknown };
  } catch (e) {
    if (e instanceof NetlinkDecodeError) throw new NetlinkDecodeError(`${name}: ${e.what}`, e.offset, e.message);
    // Bytes that do not fit a codec's arithmetic (a short u16, an address of
    // odd length) are malformed input, never a bug to surface as such.
    if (e instanceof RangeError) throw new NetlinkDecodeError(name, 0, e.message);
    throw e;
  }
}

type Input<F extends RtFamily> = F extends 'link'
  ? { header?: IfInfoMsgInput; attrs?: LinkAttrsInput }
  : F extends 'addr'
    ? { header?: IfAddrMsgInput; attrs?: AddrAttrsInput }
    : { header?: RtMsgInput; attrs?: RouteAttrsInput };

/** Encodes a request; `flags` are the NLM_F_* modifiers (the requester adds REQUEST/ACK/DUMP). */
export function encodeRtMessage<F extends RtFamily>(family: F, type: number, input: Input<F>, flags = 0): OutgoingMessage {
  if (RT_MESSAGES[type]?.[1] !== family) throw new TypeError(`message type ${type} does not carry a ${family} payload`);
  const { header, attrs } = PAYLOADS[family] as unknown as {
    header: { size: number; encode(v: unknown): Buffer };
    attrs: { encode(v: unknown): Buffer };
  };
  const head = header.encode(input.header ?? {});
  const pad = Buffer.alloc(align4(header.size) - header.size);
  return { type, flags, payload: [head, pad, attrs.encode(input.attrs ?? {})] };
}

// ---- naming attributes inside a request ------------------------------------

/** How to find the attribute space nested in an attribute. */
interface Nest {
  nameOf(type: number): string;
  /** bytes of fixed header before the nested attributes */
  skip?: number;
  /** the nest inside attribute `type`; `region` is this nest's own attribute bytes */
  child?(type: number, region: Buffer): Nest | undefined;
}

const leaf = (t: { nameOf(type: number): string }): Nest => ({ nameOf: (n) => t.nameOf(n) });

const vfNest: Nest = {
  nameOf: (n) => vfTable.nameOf(n),
  child: (n) => (n === 12 ? leaf(vfVlanListTable) : n === 8 ? leaf(vfStatsTable) : undefined),
};
const vfListNest: Nest = { nameOf: (n) => vfInfoListTable.nameOf(n), child: () => vfNest };

const linkInfoNest: Nest = {
  nameOf: (n) => linkInfoTable.nameOf(n),
  child: (n, region) => {
    if (n !== IFLA_INFO_DATA) return undefined;
    const kind = findString(region, IFLA_INFO_KIND);
    if (kind === undefined || !isKnownKind(kind)) return undefined;
    const table = linkKinds[kind];
    if (kind === 'veth') return { nameOf: (t) => table.nameOf(t), child: (t) => (t === VETH_INFO_PEER ? vethPeerNest : undefined) };
    return leaf(table);
  },
};

const iflaNest: Nest = {
  nameOf: (n) => iflaTable.nameOf(n),
  child: (n) => {
    if (n === IFLA_LINKINFO) return linkInfoNest;
    if (n === IFLA_VFINFO_LIST) return vfListNest;
    if (n === IFLA_XDP) return leaf(xdpTable);
    if (n === IFLA_PROP_LIST) return leaf(propListTable);
    return undefined;
  },
};
const vethPeerNest: Nest = { ...iflaNest, skip: ifinfomsg.size };

const routeNest: Nest = { nameOf: (n) => rtaTable.nameOf(n), child: (n) => (n === 8 ? leaf(rtaxTable) : undefined) };
const NESTS: Record<RtFamily, Nest> = { link: iflaNest, addr: leaf(ifaTable), route: routeNest };

function findString(region: Buffer, type: number): string | undefined {
  for (let off = 0; off + NLA_HDRLEN <= region.length; ) {
    const len = region.readUInt16LE(off);
    if (len < NLA_HDRLEN || off + len > region.length) return undefined;
    if ((region.readUInt16LE(off + 2) & NLA_TYPE_MASK) === type) {
      const v = region.subarray(off + NLA_HDRLEN, off + len);
      const nul = v.indexOf(0);
      return v.toString('utf8', 0, nul < 0 ? v.length : nul);
    }
    off += align4(len);
  }
  return undefined;
}

/** "IFLA_LINKINFO > IFLA_INFO_DATA > IFLA_XFRM_IF_ID" for the attribute at `offset` of region. */
function attributePath(nest: Nest, region: Buffer, offset: number): string | undefined {
  for (let off = 0; off + NLA_HDRLEN <= region.length; ) {
    const len = region.readUInt16LE(off);
    if (len < NLA_HDRLEN || off + len > region.length) return undefined;
    const type = region.readUInt16LE(off + 2) & NLA_TYPE_MASK;
    if (offset >= off && offset < off + Math.max(len, NLA_HDRLEN)) {
      const name = nest.nameOf(type);
      const inner = nest.child?.(type, region);
      const bodyStart = off + NLA_HDRLEN + (inner?.skip ?? 0);
      if (inner && offset >= bodyStart) {
        const deeper = attributePath(inner, region.subarray(bodyStart, off + len), offset - bodyStart);
        if (deeper) return `${name} > ${deeper}`;
      }
      return name;
    }
    off += align4(len);
  }
  return undefined;
}

function describerFor(family: RtFamily): MessageDescriber {
  const top = NESTS[family];
  const hdrSize = align4(PAYLOADS[family].header.size);
  return {
    name: messageName,
    attributeAt: (request, offset) => {
      const start = NLMSG_HDRLEN + hdrSize;
      if (offset < start) return `${messageName(request.readUInt16LE(4))} header`;
      const end = Math.min(request.readUInt32LE(0), request.length);
      return attributePath(top, request.subarray(start, end), offset - start);
    },
    attributeName: (type) => top.nameOf(type),
  };
}

/** Describers for NetlinkRequester errors, one per payload kind. */
export const describers: Readonly<Record<RtFamily, MessageDescriber>> = {
  link: describerFor('link'),
  addr: describerFor('addr'),
  route: describerFor('route'),
};
