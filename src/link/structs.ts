// The fixed C structs of rtnetlink (links, addresses, routes) and of SR-IOV
// VF info, as [offset, type] tables. LP64 layouts from <linux/rtnetlink.h>,
// <linux/if_link.h> and <linux/if_addr.h>; each size and offset is checked
// against the C compiler in test/unit/link/struct-layout.test.ts.
import { be16, bytes, i32, struct, u16, u32, u64, u8 } from '../netlink/codec/struct.js';

/** struct ifinfomsg: header of RTM_{NEW,DEL,GET,SET}LINK. */
export const ifinfomsg = struct('ifinfomsg', 16, {
  family: [0, u8],
  type: [2, u16], // ARPHRD_*
  index: [4, i32],
  flags: [8, u32], // IFF_*
  change: [12, u32], // which IFF_* bits a request changes
});

/** struct ifaddrmsg: header of RTM_{NEW,DEL,GET}ADDR. */
export const ifaddrmsg = struct('ifaddrmsg', 8, {
  family: [0, u8],
  prefixlen: [1, u8],
  flags: [2, u8], // low 8 bits of IFA_F_*; IFA_FLAGS carries all 32
  scope: [3, u8],
  index: [4, u32],
});

/** struct rtmsg: header of RTM_{NEW,DEL,GET}ROUTE. */
export const rtmsg = struct('rtmsg', 12, {
  family: [0, u8],
  dstLen: [1, u8],
  srcLen: [2, u8],
  tos: [3, u8],
  table: [4, u8], // RT_TABLE_UNSPEC when the id needs RTA_TABLE (> 255)
  protocol: [5, u8],
  scope: [6, u8],
  type: [7, u8],
  flags: [8, u32],
});

/** struct ifa_cacheinfo (IFA_CACHEINFO): lifetimes in seconds, 0xffffffff = forever. */
export const ifaCacheinfo = struct('ifa_cacheinfo', 16, {
  preferred: [0, u32],
  valid: [4, u32],
  cstamp: [8, u32],
  tstamp: [12, u32],
});

/** struct rta_cacheinfo (RTA_CACHEINFO). */
export const rtaCacheinfo = struct('rta_cacheinfo', 32, {
  clntref: [0, u32],
  lastuse: [4, u32],
  expires: [8, i32],
  error: [12, u32],
  used: [16, u32],
  id: [20, u32],
  ts: [24, u32],
  tsage: [28, u32],
});

/**
 * The first ten counters of struct rtnl_link_stats64 (IFLA_STATS64). The
 * struct grows with kernels (192 bytes on 5.15, 200 on 6.1); structAttr
 * accepts the longer payloads, so declaring the stable prefix keeps every
 * kernel decodable.
 */
export const linkStats64 = struct('rtnl_link_stats64', 80, {
  rxPackets: [0, u64],
  txPackets: [8, u64],
  rxBytes: [16, u64],
  txBytes: [24, u64],
  rxErrors: [32, u64],
  txErrors: [40, u64],
  rxDropped: [48, u64],
  txDropped: [56, u64],
  multicast: [64, u64],
  collisions: [72, u64],
});

/** struct ifla_vlan_flags (IFLA_VLAN_FLAGS). */
export const vlanFlags = struct('ifla_vlan_flags', 8, {
  flags: [0, u32],
  mask: [4, u32],
});

/** struct ifla_vlan_qos_mapping (IFLA_VLAN_QOS_MAPPING). */
export const vlanQosMapping = struct('ifla_vlan_qos_mapping', 8, {
  from: [0, u32],
  to: [4, u32],
});

// ---- SR-IOV VF info (IFLA_VF_*) --------------------------------------------

/** struct ifla_vf_mac: mac[32] is MAX_ADDR_LEN; Ethernet uses the first 6. */
export const vfMac = struct('ifla_vf_mac', 36, {
  vf: [0, u32],
  mac: [4, bytes(32)],
});

/** struct ifla_vf_broadcast (read-only, IFLA_VF_BROADCAST). */
export const vfBroadcast = struct('ifla_vf_broadcast', 32, {
  broadcast: [0, bytes(32)],
});

/** struct ifla_vf_vlan (IFLA_VF_VLAN): always 802.1Q. */
export const vfVlan = struct('ifla_vf_vlan', 12, {
  vf: [0, u32],
  vlan: [4, u32],
  qos: [8, u32],
});

/** struct ifla_vf_vlan_info (IFLA_VF_VLAN_INFO inside IFLA_VF_VLAN_LIST). */
export const vfVlanInfo = struct('ifla_vf_vlan_info', 16, {
  vf: [0, u32],
  vlan: [4, u32],
  qos: [8, u32],
  vlanProto: [12, be16],
});

/** struct ifla_vf_tx_rate (IFLA_VF_TX_RATE, Mbit/s). */
export const vfTxRate = struct('ifla_vf_tx_rate', 8, {
  vf: [0, u32],
  rate: [4, u32],
});

/** struct ifla_vf_rate (IFLA_VF_RATE, Mbit/s). */
export const vfRate = struct('ifla_vf_rate', 12, {
  vf: [0, u32],
  minTxRate: [4, u32],
  maxTxRate: [8, u32],
});

/**
 * struct ifla_vf_spoofchk / ifla_vf_trust / ifla_vf_rss_query_en: one layout,
 * {u32 vf; u32 setting}. The kernel reports 0xffffffff when the driver does
 * not say (rtnl_fill_vfinfo presets -1).
 */
export const vfSetting = struct('ifla_vf_setting', 8, {
  vf: [0, u32],
  setting: [4, u32],
});

/** struct ifla_vf_link_state (IFLA_VF_LINK_STATE). */
export const vfLinkState = struct('ifla_vf_link_state', 8, {
  vf: [0, u32],
  linkState: [4, u32],
});

/** struct ifla_vf_guid (IFLA_VF_IB_NODE_GUID / IFLA_VF_IB_PORT_GUID): 8-aligned. */
export const vfGuid = struct('ifla_vf_guid', 16, {
  vf: [0, u32],
  guid: [8, u64],
});
