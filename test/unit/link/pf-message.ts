// A PF's RTM_NEWLINK with VF info, built from our own tables in the order
// rtnl_fill_vfinfo() emits the attributes, with the IFLA_VFINFO_LIST length
// stored as the kernel's nla_nest_end() stores it: in 16 bits. Used where no
// kernel capture can exist on this host (no SR-IOV here; see test/lab/link).
import { NLA_HDRLEN } from '../../../src/netlink/codec/attributes.js';
import { iflaTable } from '../../../src/link/attributes.js';
import { ifinfomsg } from '../../../src/link/structs.js';
import { vfInfoListTable, type VfAttrsInput } from '../../../src/link/vf-attributes.js';

const mac = (vf: number): Buffer => Buffer.from([0x02, 0, 0, 0, vf >> 8, vf & 0xff]);

/** One IFLA_VF_INFO as rtnl_fill_vfinfo emits it (netdevsim: no GUIDs). */
export function vf(n: number, stats: boolean): VfAttrsInput {
  return {
    mac: { vf: n, mac: mac(n) },
    broadcast: { broadcast: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]) },
    vlan: { vf: n, vlan: n % 4095, qos: n % 8 },
    rate: { vf: n, minTxRate: 0, maxTxRate: 0 },
    txRate: { vf: n, rate: 0 },
    spoofchk: { vf: n, setting: n % 2 },
    linkState: { vf: n, linkState: n % 3 },
    rssQueryEn: { vf: n, setting: 0 },
    trust: { vf: n, setting: (n + 1) % 2 },
    vlanList: { info: [{ vf: n, vlan: n % 4095, qos: n % 8, vlanProto: 0x8100 }] },
    ...(stats ? { stats: { rxPackets: 1n, txPackets: 2n, rxBytes: 3n, txBytes: 4n, broadcast: 0n, multicast: 0n, rxDropped: 0n, txDropped: 0n } } : {}),
  };
}

/** An RTM_NEWLINK payload for a PF with `count` VFs (and `numVf` claimed). */
export function pfMessage(count: number, opts: { numVf?: number; stats?: boolean } = {}): { payload: Buffer; listBytes: number } {
  const entries = vfInfoListTable.encode({ info: Array.from({ length: count }, (_, i) => vf(i, opts.stats ?? true)) });
  const listLen = NLA_HDRLEN + entries.length;
  const listHdr = Buffer.alloc(NLA_HDRLEN);
  listHdr.writeUInt16LE(listLen & 0xffff, 0); // what nla_nest_end stores in a u16
  listHdr.writeUInt16LE(22, 2); // IFLA_VFINFO_LIST
  const payload = Buffer.concat([
    ifinfomsg.encode({ type: 1, index: 7, flags: 0x1003 }),
    iflaTable.encode({ ifname: 'eni0np1', mtu: 1500, address: '02:11:22:33:44:55', numVf: opts.numVf ?? count }),
    listHdr,
    entries,
    iflaTable.encode({ parentDevName: 'netdevsim1', parentDevBusName: 'netdevsim' }),
  ]);
  return { payload, listBytes: listLen };
}

