// SR-IOV VF info: IFLA_VFINFO_LIST holds one IFLA_VF_INFO nest per VF, each
// with the IFLA_VF_* attributes below (include/uapi/linux/if_link.h). The
// kernel fills them in rtnl_fill_vfinfo() and applies them in do_setvfinfo().
import { attr, attrTable, nested, repeated, structAttr, u64, type AttrInput, type AttrValues } from '../netlink/codec/attributes.js';
import { vfBroadcast, vfGuid, vfLinkState, vfMac, vfRate, vfSetting, vfTxRate, vfVlan, vfVlanInfo } from './structs.js';

/** IFLA_VF_VLAN_LIST: at most MAX_VLAN_LIST_LEN (1) entries today. */
export const vfVlanListTable = attrTable('IFLA_VF_VLAN_LIST', 'IFLA_VF_VLAN_', {
  info: repeated(1, structAttr(vfVlanInfo)),
});

/** IFLA_VF_STATS: u64 counters (6 = IFLA_VF_STATS_PAD, alignment only). */
export const vfStatsTable = attrTable('IFLA_VF_STATS', 'IFLA_VF_STATS_', {
  rxPackets: attr(0, u64),
  txPackets: attr(1, u64),
  rxBytes: attr(2, u64),
  txBytes: attr(3, u64),
  broadcast: attr(4, u64),
  multicast: attr(5, u64),
  rxDropped: attr(7, u64),
  txDropped: attr(8, u64),
});

/**
 * One VF. Declaration order is wire order for requests and follows iproute2
 * 6.1 (`ip link set DEV vf N mac .. vlan .. trust .. spoofchk .. state ..`).
 */
export const vfTable = attrTable('IFLA_VF_INFO', 'IFLA_VF_', {
  mac: attr(1, structAttr(vfMac)),
  vlan: attr(2, structAttr(vfVlan)),
  vlanList: attr(12, nested(vfVlanListTable)),
  rate: attr(6, structAttr(vfRate)),
  txRate: attr(3, structAttr(vfTxRate)),
  trust: attr(9, structAttr(vfSetting)),
  spoofchk: attr(4, structAttr(vfSetting)),
  linkState: attr(5, structAttr(vfLinkState)),
  rssQueryEn: attr(7, structAttr(vfSetting)),
  ibNodeGuid: attr(10, structAttr(vfGuid)),
  ibPortGuid: attr(11, structAttr(vfGuid)),
  broadcast: attr(13, structAttr(vfBroadcast)),
  stats: attr(8, nested(vfStatsTable)),
});

export const IFLA_VF_INFO = 1;

/** IFLA_VFINFO_LIST: repeated IFLA_VF_INFO. */
export const vfInfoListTable = attrTable('IFLA_VFINFO_LIST', 'IFLA_VF_', {
  info: repeated(IFLA_VF_INFO, nested(vfTable)),
});

export type VfAttrs = AttrValues<typeof vfTable.spec>;
export type VfAttrsInput = AttrInput<typeof vfTable.spec>;
