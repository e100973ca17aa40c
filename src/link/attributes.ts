// The IFLA attribute space of RTM_*LINK and the one place where a table
// cannot be static: IFLA_LINKINFO's IFLA_INFO_DATA, whose attribute space
// depends on IFLA_INFO_KIND. That payload is decoded after the kind is known,
// from a small table of link kinds.
import { NetlinkDecodeError, NetlinkEncodeError } from '../netlink/errors.js';
import {
  attr,
  attrTable,
  be16,
  binary,
  flag,
  i32,
  nested,
  repeated,
  string,
  stringNoNul,
  structAttr,
  u16,
  u32,
  u8,
  type AttrCodec,
  type AttrInput,
  type AttrValues,
  type RawAttribute,
} from '../netlink/codec/attributes.js';
import { formatMac, parseMac } from '../netlink/codec/struct.js';
import { ifinfomsg, linkStats64, vlanFlags, vlanQosMapping } from './structs.js';
import { vfInfoListTable } from './vf-attributes.js';

/** A link-layer address of any length (6 for Ethernet, 0..32 in general). */
export const hwaddr: AttrCodec<string> = {
  decode: (p) => formatMac(p),
  encode: (v) => {
    if (v === '') return Buffer.alloc(0);
    const parts = v.split(':');
    if (parts.length === 6) return parseMac(v);
    if (parts.length > 32 || parts.some((x) => !/^[0-9a-fA-F]{1,2}$/.test(x))) {
      throw new NetlinkEncodeError('hardware address', `${JSON.stringify(v)} is not colon-separated hex octets`);
    }
    return Buffer.from(parts.map((x) => parseInt(x, 16)));
  },
};

// ---- per-kind IFLA_INFO_DATA tables ---------------------------------------

/** kind "xfrm" (net/xfrm/xfrm_interface_core.c); iproute2 sends IF_ID before LINK. */
export const xfrmLinkTable = attrTable('IFLA_XFRM', 'IFLA_XFRM_', {
  ifId: attr(2, u32),
  link: attr(1, u32),
  collectMetadata: attr(3, flag),
});

export const vlanQosTable = attrTable('IFLA_VLAN_QOS', 'IFLA_VLAN_QOS_', {
  mapping: repeated(1, structAttr(vlanQosMapping)),
});

/** kind "vlan" (net/8021q/vlan_netlink.c). */
export const vlanLinkTable = attrTable('IFLA_VLAN', 'IFLA_VLAN_', {
  id: attr(1, u16),
  flags: attr(2, structAttr(vlanFlags)),
  egressQos: attr(3, nested(vlanQosTable)),
  ingressQos: attr(4, nested(vlanQosTable)),
  protocol: attr(5, be16),
});

/** kind "macvlan" (drivers/net/macvlan.c). */
export const macvlanLinkTable = attrTable('IFLA_MACVLAN', 'IFLA_MACVLAN_', {
  mode: attr(1, u32),
  flags: attr(2, u16),
  macaddrMode: attr(3, u32),
  macaddr: attr(4, hwaddr),
  macaddrData: attr(5, binary),
  macaddrCount: attr(6, u32),
  bcQueueLen: attr(7, u32),
  bcQueueLenUsed: attr(8, u32),
});

/** The peer of a new veth: a whole ifinfomsg + IFLA attributes (request only). */
export interface VethPeer {
  header: IfInfoMsg;
  attrs: LinkAttrs;
  unknown: RawAttribute[];
}
export interface VethPeerInput {
  header?: IfInfoMsgInput;
  attrs: LinkAttrsInput;
}

// The peer refers back to the IFLA table declared below; it is only reached
// at run time, after this module has finished loading.
const vethPeer: AttrCodec<VethPeer, VethPeerInput> = {
  decode: (p, ctx) => {
    const header = ifinfomsg.decode(p, ctx);
    const { values, unknown } = iflaTable.decode(p, ctx, ifinfomsg.size);
    return { header, attrs: values, unknown };
  },
  encode: (v, ctx) => Buffer.concat([ifinfomsg.encode(v.header ?? {}, ctx), iflaTable.encode(v.attrs, ctx)]),
};

/** kind "veth" (drivers/net/veth.c). */
export const vethLinkTable = attrTable('VETH_INFO', 'VETH_INFO_', {
  peer: attr(1, vethPeer),
});

/** Kinds whose IFLA_INFO_DATA we decode. Others keep their data as bytes. */
export const linkKinds = {
  xfrm: xfrmLinkTable,
  vlan: vlanLinkTable,
  macvlan: macvlanLinkTable,
  veth: vethLinkTable,
} as const;
export type LinkKind = keyof typeof linkKinds;
type KindSpec<K extends LinkKind> = (typeof linkKinds)[K]['spec'];

export function isKnownKind(kind: string): kind is LinkKind {
  return Object.hasOwn(linkKinds, kind);
}

/** Decoded IFLA_INFO_DATA, tagged with its kind so callers can narrow on it. */
export type LinkKindData = { [K in LinkKind]: { kind: K; values: AttrValues<KindSpec<K>>; unknown: RawAttribute[] } }[LinkKind];

/** IFLA_LINKINFO as decoded. */
export interface LinkInfo {
  kind?: string;
  /** IFLA_INFO_DATA of a known kind */
  data?: LinkKindData;
  /** IFLA_INFO_DATA of a kind without a table here */
  rawData?: Buffer;
  xstats?: Buffer;
  slaveKind?: string;
  slaveData?: Buffer;
}

/** IFLA_LINKINFO to encode: a known kind with its typed data, or any kind without data. */
export type LinkInfoInput = { [K in LinkKind]: { kind: K; data?: AttrInput<KindSpec<K>> } }[LinkKind] | { kind: string; data?: never };

/** The fixed part of IFLA_LINKINFO; IFLA_INFO_DATA stays bytes until the kind is known. */
export const linkInfoTable = attrTable('IFLA_LINKINFO', 'IFLA_INFO_', {
  kind: attr(1, stringNoNul), // iproute2 sends the kind without its NUL
  data: attr(2, binary),
  xstats: attr(3, binary),
  slaveKind: attr(4, stringNoNul),
  slaveData: attr(5, binary),
});
export const IFLA_INFO_KIND = 1;
export const IFLA_INFO_DATA = 2;

const linkInfo: AttrCodec<LinkInfo, LinkInfoInput> = {
  decode: (p, ctx) => {
    const { values } = linkInfoTable.decode(p, ctx);
    const out: LinkInfo = {};
    if (values.kind !== undefined) out.kind = values.kind;
    if (values.xstats) out.xstats = values.xstats;
    if (values.slaveKind !== undefined) out.slaveKind = values.slaveKind;
    if (values.slaveData) out.slaveData = values.slaveData;
    if (values.data) {
      if (values.kind !== undefined && isKnownKind(values.kind)) {
        const kind = values.kind;
        try {
          const { values: v, unknown } = linkKinds[kind].decode(values.data, ctx);
          out.data = { kind, values: v, unknown } as LinkKindData;
        } catch (e) {
          if (e instanceof NetlinkDecodeError) throw new NetlinkDecodeError(`IFLA_INFO_DATA of kind ${kind}: ${e.what}`, e.offset, e.message);
          throw e;
        }
      } else {
        out.rawData = values.data;
      }
    }
    return out;
  },
  encode: (v, ctx) => {
    let data: Buffer | undefined;
    if (v.data !== undefined) {
      if (!isKnownKind(v.kind)) throw new NetlinkEncodeError('IFLA_INFO_DATA', `no attribute table for link kind ${JSON.stringify(v.kind)}`);
      data = (linkKinds[v.kind] as { encode(x: unknown, c: typeof ctx): Buffer }).encode(v.data, ctx);
    }
    return linkInfoTable.encode({ kind: v.kind, ...(data ? { data } : {}) }, ctx);
  },
};

// ---- smaller nests of IFLA -------------------------------------------------

/** IFLA_XDP (reported program ids; steer/ attaches programs through libbpf). */
export const xdpTable = attrTable('IFLA_XDP', 'IFLA_XDP_', {
  fd: attr(1, i32),
  attached: attr(2, u8),
  flags: attr(3, u32),
  progId: attr(4, u32),
  drvProgId: attr(5, u32),
  skbProgId: attr(6, u32),
  hwProgId: attr(7, u32),
  expectedFd: attr(8, i32),
});

/** IFLA_PROP_LIST: alternative names. */
export const propListTable = attrTable('IFLA_PROP_LIST', 'IFLA_', {
  altIfname: repeated(53, string),
});

// ---- IFLA ------------------------------------------------------------------

/**
 * Declaration order is the wire order of requests and matches iproute2 6.1:
 * attributes it adds while parsing come first, then IFLA_LINK, IFLA_IFNAME
 * and IFLA_LINKINFO last.
 */
const iflaSpec = {
  extMask: attr(29, u32),
  mtu: attr(4, u32),
  txqlen: attr(13, u32),
  address: attr(1, hwaddr),
  broadcast: attr(2, hwaddr),
  netNsFd: attr(28, i32),
  netNsPid: attr(19, u32),
  ifalias: attr(20, stringNoNul), // iproute2 sends the alias without its NUL
  group: attr(27, u32),
  master: attr(10, u32),
  numTxQueues: attr(31, u32),
  numRxQueues: attr(32, u32),
  vfinfoList: attr(22, nested(vfInfoListTable)),
  targetNetnsid: attr(46, i32),
  link: attr(5, u32),
  ifname: attr(3, string),
  linkinfo: attr(18, linkInfo),
  // reported by the kernel
  qdisc: attr(6, string),
  operstate: attr(16, u8),
  linkmode: attr(17, u8),
  numVf: attr(21, u32),
  stats64: attr(23, structAttr(linkStats64)),
  afSpec: attr(26, binary),
  promiscuity: attr(30, u32),
  carrier: attr(33, u8),
  physPortId: attr(34, binary),
  carrierChanges: attr(35, u32),
  physSwitchId: attr(36, binary),
  linkNetnsid: attr(37, i32),
  physPortName: attr(38, string),
  protoDown: attr(39, u8),
  gsoMaxSegs: attr(40, u32),
  gsoMaxSize: attr(41, u32),
  xdp: attr(43, nested(xdpTable)),
  event: attr(44, u32),
  newNetnsid: attr(45, i32),
  carrierUpCount: attr(47, u32),
  carrierDownCount: attr(48, u32),
  newIfindex: attr(49, i32),
  minMtu: attr(50, u32),
  maxMtu: attr(51, u32),
  propList: attr(52, nested(propListTable)),
  permAddress: attr(54, hwaddr),
  parentDevName: attr(56, string),
  parentDevBusName: attr(57, string),
  groMaxSize: attr(58, u32),
  tsoMaxSize: attr(59, u32),
  tsoMaxSegs: attr(60, u32),
  allmulti: attr(61, u32),
};

export const iflaTable = attrTable('IFLA', 'IFLA_', iflaSpec);

export const IFLA_IFNAME = 3;
export const IFLA_LINKINFO = 18;
export const IFLA_NUM_VF = 21;
export const IFLA_VFINFO_LIST = 22;
export const IFLA_XDP = 43;
export const IFLA_PROP_LIST = 52;
export const VETH_INFO_PEER = 1;

export type LinkAttrs = AttrValues<typeof iflaSpec>;
export type LinkAttrsInput = AttrInput<typeof iflaSpec>;
export type IfInfoMsg = ReturnType<typeof ifinfomsg.decode>;
export type IfInfoMsgInput = Parameters<typeof ifinfomsg.encode>[0];
