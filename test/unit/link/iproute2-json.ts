// Our link view against iproute2's JSON for the same kernel bytes (`ip -j -d
// link show`): the checks shared by the host and lab fixture tests.
import { expect } from 'vitest';
import type { Link } from '../../../src/link/link-view.js';

export type Json = Record<string, unknown>;

export function expectLinkMatchesIproute2(l: Link, j: Json, byIndex: Map<number, Link>): void {
  expect(l.index).toBe(j.ifindex);
  expect(l.name).toBe(j.ifname);
  expect(l.mtu).toBe(j.mtu);
  expect(l.operstate.toUpperCase()).toBe(j.operstate);
  const flags = j.flags as string[];
  expect(l.up).toBe(flags.includes('UP'));
  expect(l.lowerUp).toBe(flags.includes('LOWER_UP'));
  expect(l.attrs.txqlen).toBe(j.txqlen);
  expect(l.address).toBe(j.address);
  expect(l.broadcast).toBe(j.broadcast);
  expect(l.attrs.qdisc).toBe(j.qdisc);
  expect(l.attrs.group === 0 ? 'default' : String(l.attrs.group)).toBe(j.group);
  for (const [ours, theirs] of [
    ['minMtu', 'min_mtu'],
    ['maxMtu', 'max_mtu'],
    ['promiscuity', 'promiscuity'],
    ['allmulti', 'allmulti'],
    ['numTxQueues', 'num_tx_queues'],
    ['numRxQueues', 'num_rx_queues'],
    ['gsoMaxSize', 'gso_max_size'],
    ['gsoMaxSegs', 'gso_max_segs'],
  ] as const) {
    if (j[theirs] !== undefined) expect(l.attrs[ours], theirs).toBe(j[theirs]);
  }
  expect(l.alias).toBe(j.ifalias);
  const info = j.linkinfo as { info_kind?: string; info_data?: Json } | undefined;
  expect(l.kind).toBe(info?.info_kind);
  if (info?.info_kind === 'macvlan') expect(l.macvlan?.mode).toBe(info.info_data?.mode);
  expect(l.linkNetnsId).toBe(j.link_netnsid);
  // iproute2 prints the lower device's name, null for IFLA_LINK 0
  if (j.link === null) expect(l.parent).toBe(0);
  else if (j.link !== undefined) expect(byIndex.get(l.parent ?? -1)?.name).toBe(j.link);
  if (j.link_index !== undefined) expect(l.parent).toBe(j.link_index);
}


/** Kind data and VF info as `ip -j -d` prints them. */
export function expectKindAndVfsMatchIproute2(l: Link, j: Json): void {
  const data = (j.linkinfo as { info_data?: Json } | undefined)?.info_data;
  if (l.kind === 'xfrm') {
    // iproute2 prints if_id in hex
    expect(l.xfrm?.ifId).toBe(Number(data?.if_id));
    expect(l.xfrm?.collectMetadata).toBe(data?.external === true);
  }
  if (l.kind === 'vlan') {
    expect(l.vlan?.id).toBe(data?.id);
    expect(l.vlan?.protocol === 0x88a8 ? '802.1ad' : l.vlan?.protocol === 0x8100 ? '802.1Q' : l.vlan?.protocol).toBe(data?.protocol);
  }
  const list = j.vfinfo_list as Json[] | undefined;
  if (list === undefined) {
    expect(l.vfs ?? []).toEqual([]);
    return;
  }
  expect(l.vfs?.length).toBe(list.length);
  list.forEach((t, i) => {
    const o = l.vfs?.[i];
    expect(o?.vf).toBe(t.vf);
    expect(o?.mac).toBe(t.address);
    expect(o?.spoofchk).toBe(t.spoofchk);
    expect(o?.trust).toBe(t.trust);
    expect(o?.rssQueryEn).toBe(t.query_rss_en);
    expect(o?.linkState).toBe(String(t.link_state));
    const rate = t.rate as { max_tx: number; min_tx: number };
    expect([o?.minTxRate, o?.maxTxRate]).toEqual([rate.min_tx, rate.max_tx]);
    const vlan = ((t.vlan_list as Json[] | undefined) ?? [])[0] ?? {};
    expect(o?.vlan ?? 0).toBe(vlan.vlan ?? 0);
    expect(o?.qos ?? 0).toBe(vlan.qos ?? 0);
    if (vlan.protocol !== undefined) expect(o?.vlanProto).toBe(vlan.protocol === '802.1ad' ? 0x88a8 : 0x8100);
  });
}
