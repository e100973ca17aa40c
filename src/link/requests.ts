// Pure builders of the rtnetlink requests LinkClient sends. Each produces the
// same bytes as the iproute2 6.1 command named beside it (apart from nlmsg
// seq and the NLM_F_ACK the requester adds); test/unit/link/requests.test.ts
// holds them to strace captures of those commands.
import { AF_INET, AF_INET6, AF_UNSPEC, familyOf } from '../netlink/codec/address.js';
import { parseMac } from '../netlink/codec/struct.js';
import { NetlinkEncodeError } from '../netlink/errors.js';
import { NLM_F_CREATE, NLM_F_EXCL, NLM_F_REPLACE, type OutgoingMessage } from '../netlink/message.js';
import type { LinkAttrsInput, LinkInfoInput } from './attributes.js';
import {
  ETH_P_8021Q,
  IFF_UP,
  MACVLAN_MODES,
  RTEXT_FILTER_SKIP_STATS,
  RTEXT_FILTER_VF,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_DELROUTE,
  RTM_GETADDR,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_F_LOOKUP_TABLE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  RTN_UNICAST,
  RTN_UNSPEC,
  RTPROT_BOOT,
  RTPROT_UNSPEC,
  RT_SCOPE_LINK,
  RT_SCOPE_NOWHERE,
  RT_SCOPE_UNIVERSE,
  RT_TABLE_MAIN,
  RT_TABLE_UNSPEC,
  ROUTE_TYPES,
  VF_LINK_STATES,
  type MacvlanMode,
  type RouteType,
  type VfLinkState,
} from './constants.js';
import { encodeRtMessage } from './messages.js';
import type { VfAttrsInput } from './vf-attributes.js';

/** Where a moved or created device goes: an open netns fd, or a process's netns. */
export type NetnsTargetRef = { fd: number } | { pid: number };

const netnsAttrs = (t: NetnsTargetRef | undefined): LinkAttrsInput => (!t ? {} : 'fd' in t ? { netNsFd: t.fd } : { netNsPid: t.pid });

export interface LinkQuery {
  /** include IFLA_NUM_VF / IFLA_VFINFO_LIST (RTEXT_FILTER_VF) */
  vf?: boolean;
  /** with vf: also per-VF counters (left out by default, RTEXT_FILTER_SKIP_STATS) */
  vfStats?: boolean;
}

export function extMask(q: LinkQuery): number | undefined {
  if (!q.vf) return undefined;
  return RTEXT_FILTER_VF | (q.vfStats ? 0 : RTEXT_FILTER_SKIP_STATS);
}

/** `ip link show dev NAME` name resolution: GETLINK by name or index. */
export function getLinkRequest(ref: { name: string } | { index: number }, q: LinkQuery = {}): OutgoingMessage {
  const mask = extMask(q);
  return encodeRtMessage('link', RTM_GETLINK, {
    header: 'index' in ref ? { index: ref.index } : {},
    attrs: { ...(mask !== undefined ? { extMask: mask } : {}), ...('name' in ref ? { ifname: ref.name } : {}) },
  });
}

/** `ip addr show` link dump (AF_UNSPEC, RTEXT_FILTER_VF). Send with requester.dump(). */
export function dumpLinksRequest(q: LinkQuery = {}): OutgoingMessage {
  const mask = extMask(q);
  return encodeRtMessage('link', RTM_GETLINK, { attrs: mask !== undefined ? { extMask: mask } : {} });
}

export interface NewLinkSpec {
  name: string;
  linkinfo: LinkInfoInput;
  /** IFLA_LINK: the lower device */
  parent?: number;
  mtu?: number;
  address?: string;
  netns?: NetnsTargetRef;
}

/** `ip link add [link PARENT] name NAME type KIND ...` */
export function newLinkRequest(s: NewLinkSpec): OutgoingMessage {
  return encodeRtMessage(
    'link',
    RTM_NEWLINK,
    {
      attrs: {
        ...(s.mtu !== undefined ? { mtu: s.mtu } : {}),
        ...(s.address !== undefined ? { address: s.address } : {}),
        ...netnsAttrs(s.netns),
        ...(s.parent !== undefined ? { link: s.parent } : {}),
        ifname: s.name,
        linkinfo: s.linkinfo,
      },
    },
    NLM_F_CREATE | NLM_F_EXCL,
  );
}

/** `ip link add NAME type veth peer name PEER [netns NS]` */
export function vethRequest(name: string, peer: string, peerNetns?: NetnsTargetRef): OutgoingMessage {
  return newLinkRequest({ name, linkinfo: { kind: 'veth', data: { peer: { attrs: { ...netnsAttrs(peerNetns), ifname: peer } } } } });
}

/** `ip link add link PARENT name NAME type macvlan mode MODE` */
export function macvlanRequest(name: string, parent: number, mode: MacvlanMode = 'bridge'): OutgoingMessage {
  return newLinkRequest({ name, parent, linkinfo: { kind: 'macvlan', data: { mode: MACVLAN_MODES[mode] } } });
}

/** `ip link add link PARENT name NAME type vlan id ID [protocol 802.1ad]` */
export function vlanRequest(name: string, parent: number, id: number, protocol?: number): OutgoingMessage {
  if (!Number.isInteger(id) || id < 0 || id > 4094) throw new NetlinkEncodeError('IFLA_VLAN_ID', `${id} is outside 0..4094`);
  return newLinkRequest({ name, parent, linkinfo: { kind: 'vlan', data: { id, ...(protocol !== undefined ? { protocol } : {}) } } });
}

export interface XfrmLinkSpec {
  /** the if_id that binds policies and SAs to this interface; must not be 0 */
  ifId: number;
  /** underlying device ifindex (IFLA_XFRM_LINK), for headroom and iflink */
  link?: number;
}

/** `ip link add NAME type xfrm [dev LINK] if_id ID` */
export function xfrmRequest(name: string, s: XfrmLinkSpec): OutgoingMessage {
  if (!Number.isInteger(s.ifId) || s.ifId <= 0 || s.ifId > 0xffffffff) {
    throw new NetlinkEncodeError('IFLA_XFRM_IF_ID', `${s.ifId} must be 1..4294967295 (the kernel refuses 0)`);
  }
  return newLinkRequest({ name, linkinfo: { kind: 'xfrm', data: { ifId: s.ifId, ...(s.link !== undefined ? { link: s.link } : {}) } } });
}

/** `ip link del DEV` */
export function deleteLinkRequest(index: number): OutgoingMessage {
  return encodeRtMessage('link', RTM_DELLINK, { header: { index } });
}

/** `ip link set DEV up|down` */
export function setUpRequest(index: number, up: boolean): OutgoingMessage {
  return encodeRtMessage('link', RTM_NEWLINK, { header: { index, flags: up ? IFF_UP : 0, change: IFF_UP } });
}

/** `ip link set DEV name N | alias A | mtu M | netns NS`: attributes on an existing link. */
export function setLinkRequest(index: number, attrs: LinkAttrsInput): OutgoingMessage {
  return encodeRtMessage('link', RTM_NEWLINK, { header: { index }, attrs });
}

export function setNetnsRequest(index: number, target: NetnsTargetRef): OutgoingMessage {
  return setLinkRequest(index, netnsAttrs(target));
}

export interface VfSettings {
  mac?: string;
  /** 0 = no VLAN */
  vlan?: number;
  qos?: number;
  /** ETH_P_8021Q (default, sent as IFLA_VF_VLAN) or ETH_P_8021AD (sent as IFLA_VF_VLAN_LIST) */
  vlanProto?: number;
  trust?: boolean;
  spoofchk?: boolean;
  linkState?: VfLinkState;
  /** Mbit/s, 0 = unlimited (IFLA_VF_RATE) */
  minTxRate?: number;
  maxTxRate?: number;
}

/** `ip link set PF vf N [mac ..] [vlan .. [qos ..] [proto ..]] [trust on|off] [spoofchk on|off] [state ..]` */
export function setVfRequest(index: number, vf: number, s: VfSettings): OutgoingMessage {
  const v: { -readonly [K in keyof VfAttrsInput]: VfAttrsInput[K] } = {};
  if (s.mac !== undefined) v.mac = { vf, mac: parseMac(s.mac) };
  if (s.vlan !== undefined || s.qos !== undefined || s.vlanProto !== undefined) {
    const vlan = s.vlan ?? 0;
    const qos = s.qos ?? 0;
    if (vlan > 4095) throw new NetlinkEncodeError('IFLA_VF_VLAN', `VLAN ${vlan} is outside 0..4095`);
    if (qos > 7) throw new NetlinkEncodeError('IFLA_VF_VLAN', `qos ${qos} is outside 0..7`);
    // iproute2 keeps the old single-VLAN attribute for 802.1Q, so older
    // drivers/kernels understand it; only 802.1ad needs the list form.
    if ((s.vlanProto ?? ETH_P_8021Q) === ETH_P_8021Q) v.vlan = { vf, vlan, qos };
    else v.vlanList = { info: [{ vf, vlan, qos, vlanProto: s.vlanProto }] };
  }
  if (s.minTxRate !== undefined || s.maxTxRate !== undefined) v.rate = { vf, minTxRate: s.minTxRate ?? 0, maxTxRate: s.maxTxRate ?? 0 };
  if (s.trust !== undefined) v.trust = { vf, setting: s.trust ? 1 : 0 };
  if (s.spoofchk !== undefined) v.spoofchk = { vf, setting: s.spoofchk ? 1 : 0 };
  if (s.linkState !== undefined) v.linkState = { vf, linkState: VF_LINK_STATES.indexOf(s.linkState) };
  if (Object.keys(v).length === 0) throw new NetlinkEncodeError('IFLA_VF_INFO', 'no VF setting given');
  return setLinkRequest(index, { vfinfoList: { info: [v] } });
}

// ---- addresses ----

export interface Prefix {
  address: string;
  prefixlen: number;
  family: typeof AF_INET | typeof AF_INET6;
}

/** "10.1.0.1/24" (or a bare address: /32, /128). */
export function parsePrefix(text: string): Prefix {
  const [addr = '', len, extra] = text.split('/');
  const family = familyOf(addr);
  const max = family === AF_INET ? 32 : 128;
  const prefixlen = len === undefined ? max : Number(len);
  if (extra !== undefined || !Number.isInteger(prefixlen) || prefixlen < 0 || prefixlen > max || (len !== undefined && !/^\d+$/.test(len))) {
    throw new NetlinkEncodeError('prefix', `${JSON.stringify(text)} is not ADDRESS[/LEN] with LEN 0..${max}`);
  }
  return { address: addr, prefixlen, family };
}

export interface AddressOptions {
  /** RT_SCOPE_* (default universe) */
  scope?: number;
  /** IPv4 broadcast address */
  broadcast?: string;
  label?: string;
  /** IFA_F_* bits, e.g. IFA_F_NODAD */
  flags?: number;
}

function addrRequest(type: number, index: number, cidr: string, o: AddressOptions, flags: number): OutgoingMessage {
  const p = parsePrefix(cidr);
  return encodeRtMessage(
    'addr',
    type,
    {
      header: { family: p.family, prefixlen: p.prefixlen, scope: o.scope ?? RT_SCOPE_UNIVERSE, index },
      attrs: {
        local: p.address,
        address: p.address,
        ...(o.broadcast !== undefined ? { broadcast: o.broadcast } : {}),
        ...(o.label !== undefined ? { label: o.label } : {}),
        ...(o.flags !== undefined ? { flags: o.flags } : {}),
      },
    },
    flags,
  );
}

/** `ip addr add CIDR dev DEV` */
export function addAddressRequest(index: number, cidr: string, o: AddressOptions = {}): OutgoingMessage {
  return addrRequest(RTM_NEWADDR, index, cidr, o, NLM_F_CREATE | NLM_F_EXCL);
}

/** `ip addr del CIDR dev DEV` */
export function deleteAddressRequest(index: number, cidr: string): OutgoingMessage {
  return addrRequest(RTM_DELADDR, index, cidr, {}, 0);
}

/** `ip [-4|-6] addr show [dev DEV]` address dump (filtered by the kernel). */
export function dumpAddressesRequest(q: { family?: number; index?: number } = {}): OutgoingMessage {
  return encodeRtMessage('addr', RTM_GETADDR, { header: { family: q.family ?? AF_UNSPEC, index: q.index ?? 0 } });
}

// ---- routes ----

export interface RouteSpec {
  /** "10.2.0.0/24", "2001:db8::/64", or "default" (then `family` says which) */
  dst: string;
  family?: typeof AF_INET | typeof AF_INET6;
  oif?: number;
  gateway?: string;
  prefsrc?: string;
  /** table id (any u32; > 255 goes in RTA_TABLE); default main */
  table?: number;
  /** RTA_PRIORITY */
  metric?: number;
  /** RT_SCOPE_*; default as iproute2: link for an IPv4 route without gateway, else universe */
  scope?: number;
  /** RTPROT_*; default boot (as iproute2) */
  protocol?: number;
  type?: RouteType;
}

function routeDst(r: RouteSpec): Prefix {
  if (r.dst === 'default') {
    const family = r.family ?? (r.gateway !== undefined ? familyOf(r.gateway) : AF_INET);
    return { address: family === AF_INET ? '0.0.0.0' : '::', prefixlen: 0, family };
  }
  return parsePrefix(r.dst);
}

function routeRequest(type: number, r: RouteSpec, flags: number): OutgoingMessage {
  const dst = routeDst(r);
  const table = r.table ?? RT_TABLE_MAIN;
  const del = type === RTM_DELROUTE;
  const defaultScope =
    dst.family === AF_INET6 ? RT_SCOPE_UNIVERSE : del ? RT_SCOPE_NOWHERE : r.gateway === undefined ? RT_SCOPE_LINK : RT_SCOPE_UNIVERSE;
  return encodeRtMessage(
    'route',
    type,
    {
      header: {
        family: dst.family,
        dstLen: dst.prefixlen,
        table: table < 256 ? table : RT_TABLE_UNSPEC,
        protocol: r.protocol ?? (del ? RTPROT_UNSPEC : RTPROT_BOOT),
        scope: r.scope ?? defaultScope,
        type: r.type !== undefined ? ROUTE_TYPES.indexOf(r.type) : del ? RTN_UNSPEC : RTN_UNICAST,
      },
      attrs: {
        ...(dst.prefixlen > 0 ? { dst: dst.address } : {}),
        ...(r.gateway !== undefined ? { gateway: r.gateway } : {}),
        ...(r.prefsrc !== undefined ? { prefsrc: r.prefsrc } : {}),
        ...(table >= 256 ? { table } : {}),
        ...(r.metric !== undefined ? { priority: r.metric } : {}),
        ...(r.oif !== undefined ? { oif: r.oif } : {}),
      },
    },
    flags,
  );
}

/** `ip route add DST [via GW] [src SRC] [table T] [metric M] [dev DEV]`; `replace` = `ip route replace`. */
export function addRouteRequest(r: RouteSpec, replace = false): OutgoingMessage {
  return routeRequest(RTM_NEWROUTE, r, NLM_F_CREATE | (replace ? NLM_F_REPLACE : NLM_F_EXCL));
}

/** `ip route del DST ...` */
export function deleteRouteRequest(r: RouteSpec): OutgoingMessage {
  return routeRequest(RTM_DELROUTE, r, 0);
}

export interface RouteLookup {
  src?: string;
  oif?: number;
  iif?: number;
  mark?: number;
}

/** `ip route get ADDR [from SRC] [oif DEV] [mark M]` */
export function getRouteRequest(dst: string, q: RouteLookup = {}): OutgoingMessage {
  const family = familyOf(dst);
  const max = family === AF_INET ? 32 : 128;
  return encodeRtMessage('route', RTM_GETROUTE, {
    header: { family, dstLen: max, srcLen: q.src !== undefined ? max : 0, flags: RTM_F_LOOKUP_TABLE },
    attrs: {
      dst,
      ...(q.src !== undefined ? { src: q.src } : {}),
      ...(q.iif !== undefined ? { iif: q.iif } : {}),
      ...(q.mark !== undefined ? { mark: q.mark } : {}),
      ...(q.oif !== undefined ? { oif: q.oif } : {}),
    },
  });
}

/** `ip [-4|-6] route show table T|all` route dump; with `table` the kernel filters. */
export function dumpRoutesRequest(q: { family?: number; table?: number } = {}): OutgoingMessage {
  return encodeRtMessage('route', RTM_GETROUTE, {
    header: { family: q.family ?? AF_UNSPEC },
    attrs: q.table !== undefined ? { table: q.table } : {},
  });
}
