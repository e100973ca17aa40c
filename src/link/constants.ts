// Numbers of rtnetlink (include/uapi/linux/rtnetlink.h, if.h, if_link.h,
// if_addr.h) that the link, address and route codecs and their callers share.

// ---- message types ----
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_SETLINK = 19;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;

// ---- multicast groups (enum rtnetlink_groups; join by number) ----
export const RTNLGRP_LINK = 1;
export const RTNLGRP_IPV4_IFADDR = 5;
export const RTNLGRP_IPV4_ROUTE = 7;
export const RTNLGRP_IPV6_IFADDR = 9;
export const RTNLGRP_IPV6_ROUTE = 11;

/** ifi_family of the bridge's per-port notifications (not link lifecycle events). */
export const AF_BRIDGE = 7;

// ---- IFLA_EXT_MASK ----
export const RTEXT_FILTER_VF = 1 << 0;
export const RTEXT_FILTER_BRVLAN = 1 << 1;
export const RTEXT_FILTER_BRVLAN_COMPRESSED = 1 << 2;
export const RTEXT_FILTER_SKIP_STATS = 1 << 3;

// ---- net_device_flags (ifi_flags) ----
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_POINTOPOINT = 0x10;
export const IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80;
export const IFF_PROMISC = 0x100;
export const IFF_MASTER = 0x400;
export const IFF_SLAVE = 0x800;
export const IFF_MULTICAST = 0x1000;
export const IFF_LOWER_UP = 0x10000;
export const IFF_DORMANT = 0x20000;

/** IFLA_OPERSTATE values (RFC 2863), indexed by number. */
export const OPERSTATES = ['unknown', 'notpresent', 'down', 'lowerlayerdown', 'testing', 'dormant', 'up'] as const;
export type OperState = (typeof OPERSTATES)[number];

// ---- IFLA_VF_LINK_STATE ----
export const VF_LINK_STATES = ['auto', 'enable', 'disable'] as const;
export type VfLinkState = (typeof VF_LINK_STATES)[number];

// ---- VLAN protocols (IFLA_VLAN_PROTOCOL, ifla_vf_vlan_info.vlan_proto; big endian on the wire) ----
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;

// ---- macvlan modes (IFLA_MACVLAN_MODE) ----
export const MACVLAN_MODES = { private: 1, vepa: 2, bridge: 4, passthru: 8, source: 16 } as const;
export type MacvlanMode = keyof typeof MACVLAN_MODES;

// ---- routes ----
export const RT_TABLE_UNSPEC = 0;
export const RT_TABLE_DEFAULT = 253;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;

export const RTPROT_UNSPEC = 0;
export const RTPROT_KERNEL = 2;
export const RTPROT_BOOT = 3;
export const RTPROT_STATIC = 4;

export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_SITE = 200;
export const RT_SCOPE_LINK = 253;
export const RT_SCOPE_HOST = 254;
export const RT_SCOPE_NOWHERE = 255;

/** rtm_type values, indexed by number. */
export const ROUTE_TYPES = [
  'unspec',
  'unicast',
  'local',
  'broadcast',
  'anycast',
  'multicast',
  'blackhole',
  'unreachable',
  'prohibit',
  'throw',
  'nat',
  'xresolve',
] as const;
export type RouteType = (typeof ROUTE_TYPES)[number];
export const RTN_UNSPEC = 0;
export const RTN_UNICAST = 1;
export const RTN_LOCAL = 2;

/** rtm_flags: ask RTM_GETROUTE to report the table of the matching route. */
export const RTM_F_LOOKUP_TABLE = 0x1000;
export const RTM_F_FIB_MATCH = 0x2000;

// ---- addresses ----
export const IFA_F_SECONDARY = 0x01;
export const IFA_F_NODAD = 0x02;
export const IFA_F_DADFAILED = 0x08;
export const IFA_F_DEPRECATED = 0x20;
export const IFA_F_TENTATIVE = 0x40;
export const IFA_F_PERMANENT = 0x80;
export const IFA_F_NOPREFIXROUTE = 0x200;
