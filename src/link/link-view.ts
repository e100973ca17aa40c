// A decoded RTM_NEWLINK/DELLINK as the daemon wants to read it: names, flags,
// kind details and VF settings instead of attribute numbers and structs.
import { formatMac } from '../netlink/codec/struct.js';
import type { LinkAttrs, LinkInfo } from './attributes.js';
import {
  ETH_P_8021Q,
  IFF_LOWER_UP,
  IFF_RUNNING,
  IFF_UP,
  MACVLAN_MODES,
  OPERSTATES,
  VF_LINK_STATES,
  type MacvlanMode,
  type OperState,
  type VfLinkState,
} from './constants.js';
import type { IfInfoMsg } from './attributes.js';
import type { VfAttrs } from './vf-attributes.js';
import type { VfListCheck } from './vf-list.js';

/** One VF of an SR-IOV PF, as the PF driver reports it. */
export interface VfInfo {
  vf: number;
  mac: string;
  vlan: number;
  qos: number;
  /** ETH_P_8021Q (0x8100) or ETH_P_8021AD (0x88a8), as the driver reports it (netdevsim says 0 until a VLAN is set) */
  vlanProto: number;
  minTxRate?: number;
  maxTxRate?: number;
  /** undefined: the driver does not report it */
  spoofchk?: boolean;
  trust?: boolean;
  rssQueryEn?: boolean;
  linkState?: VfLinkState;
  stats?: { rxPackets?: bigint; txPackets?: bigint; rxBytes?: bigint; txBytes?: bigint; rxDropped?: bigint; txDropped?: bigint };
}

/** The kernel wrapped the 16-bit length of this device's VF list (see vf-list.ts). */
export interface VfListTruncation {
  name: 'VfListTruncation';
  device: string;
  ifindex: number;
  /** IFLA_NUM_VF */
  expected: number;
  /** entries the kernel's framing covered */
  framed: number;
  /** entries we decoded */
  decoded: number;
  /** true: all VFs were read despite the wrapped length */
  recovered: boolean;
  message: string;
}

export interface XfrmLinkDetails {
  ifId: number;
  /** IFLA_XFRM_LINK: the underlying device's ifindex (0 = none) */
  link: number;
  collectMetadata: boolean;
}
export interface VlanLinkDetails {
  id: number;
  protocol: number;
}
export interface MacvlanLinkDetails {
  mode: MacvlanMode | number;
}

export interface Link {
  index: number;
  name: string;
  /** ARPHRD_* */
  type: number;
  /** IFF_* */
  flags: number;
  /** administratively up (IFF_UP) */
  up: boolean;
  running: boolean;
  /** carrier (IFF_LOWER_UP) */
  lowerUp: boolean;
  operstate: OperState;
  mtu?: number;
  address?: string;
  broadcast?: string;
  permAddress?: string;
  alias?: string;
  master?: number;
  /** IFLA_LINK: the lower/peer device's ifindex (in linkNetnsId's netns when that is set) */
  parent?: number;
  /** IFLA_LINK_NETNSID: the netns (id as seen from our netns) of the lower/peer device */
  linkNetnsId?: number;
  kind?: string;
  info?: LinkInfo;
  xfrm?: XfrmLinkDetails;
  vlan?: VlanLinkDetails;
  macvlan?: MacvlanLinkDetails;
  altNames: string[];
  parentDevName?: string;
  parentDevBusName?: string;
  xdpProgId?: number;
  numVf?: number;
  vfs?: VfInfo[];
  vfListTruncation?: VfListTruncation;
  /** DELLINK caused by a move to another netns: where it went */
  movedTo?: { netnsId?: number; ifindex?: number };
  attrs: LinkAttrs;
}

const UNREPORTED = 0xffffffff;
const setting = (s: { setting: number } | undefined): boolean | undefined =>
  s === undefined || s.setting === UNREPORTED ? undefined : s.setting !== 0;

function vfInfo(v: VfAttrs, addrLen: number): VfInfo | undefined {
  const vf = v.mac?.vf ?? v.vlan?.vf;
  if (vf === undefined) return undefined;
  const listed = v.vlanList?.values.info?.[0];
  const out: VfInfo = {
    vf,
    mac: v.mac ? formatMac(v.mac.mac.subarray(0, addrLen)) : '',
    vlan: listed?.vlan ?? v.vlan?.vlan ?? 0,
    qos: listed?.qos ?? v.vlan?.qos ?? 0,
    vlanProto: listed?.vlanProto ?? ETH_P_8021Q,
  };
  if (v.rate) {
    out.minTxRate = v.rate.minTxRate;
    out.maxTxRate = v.rate.maxTxRate;
  } else if (v.txRate) {
    out.maxTxRate = v.txRate.rate;
  }
  const spoofchk = setting(v.spoofchk);
  if (spoofchk !== undefined) out.spoofchk = spoofchk;
  const trust = setting(v.trust);
  if (trust !== undefined) out.trust = trust;
  const rss = setting(v.rssQueryEn);
  if (rss !== undefined) out.rssQueryEn = rss;
  if (v.linkState) out.linkState = VF_LINK_STATES[v.linkState.linkState] ?? 'auto';
  if (v.stats) {
    const s = v.stats.values;
    out.stats = { rxPackets: s.rxPackets, txPackets: s.txPackets, rxBytes: s.rxBytes, txBytes: s.txBytes, rxDropped: s.rxDropped, txDropped: s.txDropped };
  }
  return out;
}

function macvlanMode(n: number): MacvlanMode | number {
  const e = Object.entries(MACVLAN_MODES).find(([, v]) => v === n);
  return e ? (e[0] as MacvlanMode) : n;
}

/** Builds the view of one link message. */
export function toLink(header: IfInfoMsg, a: LinkAttrs, vfList?: VfListCheck): Link {
  const name = a.ifname ?? '';
  const link: Link = {
    index: header.index,
    name,
    type: header.type,
    flags: header.flags,
    up: (header.flags & IFF_UP) !== 0,
    running: (header.flags & IFF_RUNNING) !== 0,
    lowerUp: (header.flags & IFF_LOWER_UP) !== 0,
    operstate: OPERSTATES[a.operstate ?? 0] ?? 'unknown',
    altNames: a.propList?.values.altIfname ?? [],
    attrs: a,
  };
  if (a.mtu !== undefined) link.mtu = a.mtu;
  if (a.address !== undefined) link.address = a.address;
  if (a.broadcast !== undefined) link.broadcast = a.broadcast;
  if (a.permAddress !== undefined) link.permAddress = a.permAddress;
  if (a.ifalias !== undefined) link.alias = a.ifalias;
  if (a.master !== undefined) link.master = a.master;
  if (a.link !== undefined) link.parent = a.link;
  if (a.linkNetnsid !== undefined) link.linkNetnsId = a.linkNetnsid;
  if (a.parentDevName !== undefined) link.parentDevName = a.parentDevName;
  if (a.parentDevBusName !== undefined) link.parentDevBusName = a.parentDevBusName;
  const xdp = a.xdp?.values;
  if (xdp?.progId !== undefined) link.xdpProgId = xdp.progId;
  if (a.newNetnsid !== undefined || a.newIfindex !== undefined) {
    link.movedTo = {
      ...(a.newNetnsid !== undefined ? { netnsId: a.newNetnsid } : {}),
      ...(a.newIfindex !== undefined ? { ifindex: a.newIfindex } : {}),
    };
  }

  const info = a.linkinfo;
  if (info) {
    link.info = info;
    if (info.kind !== undefined) link.kind = info.kind;
    const d = info.data;
    if (d?.kind === 'xfrm') {
      link.xfrm = { ifId: d.values.ifId ?? 0, link: d.values.link ?? 0, collectMetadata: d.values.collectMetadata === true };
    } else if (d?.kind === 'vlan') {
      link.vlan = { id: d.values.id ?? 0, protocol: d.values.protocol ?? ETH_P_8021Q };
    } else if (d?.kind === 'macvlan' && d.values.mode !== undefined) {
      link.macvlan = { mode: macvlanMode(d.values.mode) };
    }
  }

  if (a.numVf !== undefined) link.numVf = a.numVf;
  const entries = a.vfinfoList?.values.info;
  if (entries) {
    // ifla_vf_mac.mac is MAX_ADDR_LEN bytes; the device's own address says how many count.
    const addrLen = a.address ? a.address.split(':').length : 6;
    link.vfs = entries.map((e) => vfInfo(e.values, addrLen)).filter((v): v is VfInfo => v !== undefined);
  }
  if (vfList && (vfList.wrapped || vfList.decoded !== vfList.expected)) {
    const c = vfList;
    link.vfListTruncation = {
      name: 'VfListTruncation',
      device: name,
      ifindex: header.index,
      expected: c.expected,
      framed: c.framed,
      decoded: c.decoded,
      recovered: c.recovered,
      message: c.recovered
        ? `Truncated VF list: ${name} (the kernel's 16-bit nest length wrapped; all ${c.decoded} VFs recovered)`
        : `Truncated VF list: ${name} (IFLA_NUM_VF ${c.expected}, ${c.decoded} listed)`,
    };
  }
  return link;
}
