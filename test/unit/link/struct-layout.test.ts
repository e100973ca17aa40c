// Our struct tables against the C compiler: a program compiled against the
// installed uapi headers (<linux/rtnetlink.h>, <linux/if_link.h>,
// <linux/if_addr.h>, <linux/genetlink.h>) prints sizeof/offsetof of every
// struct and field we declare.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as s from '../../../src/link/structs.js';
import { genlmsghdr } from '../../../src/netlink/genl.js';

interface Layout {
  table: { name: string; size: number; fields: Record<string, readonly [number, { size: number }]> };
  /** the C type(s) this table describes */
  c: string[];
  /** our field name -> C member */
  members: Record<string, string>;
  /** the table declares a stable prefix of a growing struct */
  prefix?: boolean;
}

const layouts: Layout[] = [
  { table: s.ifinfomsg, c: ['struct ifinfomsg'], members: { family: 'ifi_family', type: 'ifi_type', index: 'ifi_index', flags: 'ifi_flags', change: 'ifi_change' } },
  {
    table: s.ifaddrmsg,
    c: ['struct ifaddrmsg'],
    members: { family: 'ifa_family', prefixlen: 'ifa_prefixlen', flags: 'ifa_flags', scope: 'ifa_scope', index: 'ifa_index' },
  },
  {
    table: s.rtmsg,
    c: ['struct rtmsg'],
    members: {
      family: 'rtm_family',
      dstLen: 'rtm_dst_len',
      srcLen: 'rtm_src_len',
      tos: 'rtm_tos',
      table: 'rtm_table',
      protocol: 'rtm_protocol',
      scope: 'rtm_scope',
      type: 'rtm_type',
      flags: 'rtm_flags',
    },
  },
  { table: s.ifaCacheinfo, c: ['struct ifa_cacheinfo'], members: { preferred: 'ifa_prefered', valid: 'ifa_valid', cstamp: 'cstamp', tstamp: 'tstamp' } },
  {
    table: s.rtaCacheinfo,
    c: ['struct rta_cacheinfo'],
    members: {
      clntref: 'rta_clntref',
      lastuse: 'rta_lastuse',
      expires: 'rta_expires',
      error: 'rta_error',
      used: 'rta_used',
      id: 'rta_id',
      ts: 'rta_ts',
      tsage: 'rta_tsage',
    },
  },
  {
    table: s.linkStats64,
    c: ['struct rtnl_link_stats64'],
    prefix: true,
    members: {
      rxPackets: 'rx_packets',
      txPackets: 'tx_packets',
      rxBytes: 'rx_bytes',
      txBytes: 'tx_bytes',
      rxErrors: 'rx_errors',
      txErrors: 'tx_errors',
      rxDropped: 'rx_dropped',
      txDropped: 'tx_dropped',
      multicast: 'multicast',
      collisions: 'collisions',
    },
  },
  { table: s.vlanFlags, c: ['struct ifla_vlan_flags'], members: { flags: 'flags', mask: 'mask' } },
  { table: s.vlanQosMapping, c: ['struct ifla_vlan_qos_mapping'], members: { from: 'from', to: 'to' } },
  { table: s.vfMac, c: ['struct ifla_vf_mac'], members: { vf: 'vf', mac: 'mac' } },
  { table: s.vfBroadcast, c: ['struct ifla_vf_broadcast'], members: { broadcast: 'broadcast' } },
  { table: s.vfVlan, c: ['struct ifla_vf_vlan'], members: { vf: 'vf', vlan: 'vlan', qos: 'qos' } },
  { table: s.vfVlanInfo, c: ['struct ifla_vf_vlan_info'], members: { vf: 'vf', vlan: 'vlan', qos: 'qos', vlanProto: 'vlan_proto' } },
  { table: s.vfTxRate, c: ['struct ifla_vf_tx_rate'], members: { vf: 'vf', rate: 'rate' } },
  { table: s.vfRate, c: ['struct ifla_vf_rate'], members: { vf: 'vf', minTxRate: 'min_tx_rate', maxTxRate: 'max_tx_rate' } },
  {
    table: s.vfSetting,
    c: ['struct ifla_vf_spoofchk', 'struct ifla_vf_trust', 'struct ifla_vf_rss_query_en'],
    members: { vf: 'vf', setting: 'setting' },
  },
  { table: s.vfLinkState, c: ['struct ifla_vf_link_state'], members: { vf: 'vf', linkState: 'link_state' } },
  { table: s.vfGuid, c: ['struct ifla_vf_guid'], members: { vf: 'vf', guid: 'guid' } },
  { table: genlmsghdr, c: ['struct genlmsghdr'], members: { cmd: 'cmd', version: 'version' } },
];

const dir = mkdtempSync(join(tmpdir(), 'link-layout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function measure(): Map<string, number> {
  const lines: string[] = [];
  for (const l of layouts) {
    for (const c of l.c) {
      lines.push(`  printf("%s\\t%zu\\n", "${c}", sizeof(${c}));`);
      for (const m of Object.values(l.members)) {
        lines.push(`  printf("%s\\t%zu\\t%zu\\n", "${c}.${m}", offsetof(${c}, ${m}), sizeof(((${c} *)0)->${m}));`);
      }
    }
  }
  const src = [
    '#include <stdio.h>',
    '#include <stddef.h>',
    '#include <linux/rtnetlink.h>',
    '#include <linux/if_link.h>',
    '#include <linux/if_addr.h>',
    '#include <linux/genetlink.h>',
    'int main(void) {',
    ...lines,
    '  return 0;',
    '}',
  ].join('\n');
  writeFileSync(join(dir, 'layout.c'), src);
  execFileSync('gcc', ['-O0', '-Wall', '-o', join(dir, 'layout'), join(dir, 'layout.c')]);
  const out = new Map<string, number>();
  for (const line of execFileSync(join(dir, 'layout'), { encoding: 'utf8' }).trim().split('\n')) {
    const [name, a, b] = line.split('\t');
    out.set(name as string, Number(a));
    if (b !== undefined) out.set(`${name as string}#size`, Number(b));
  }
  return out;
}

describe('struct tables match the C layout (gcc, installed uapi headers)', () => {
  const c = measure();
  it.each(layouts.flatMap((l) => l.c.map((ct) => [ct, l] as const)))('%s', (ct, l) => {
    expect(Object.keys(l.members).sort()).toEqual(Object.keys(l.table.fields).sort());
    const size = c.get(ct);
    if (l.prefix) expect(size).toBeGreaterThanOrEqual(l.table.size);
    else expect(size).toBe(l.table.size);
    for (const [field, member] of Object.entries(l.members)) {
      const [offset, type] = l.table.fields[field] as readonly [number, { size: number }];
      expect(c.get(`${ct}.${member}`), `${ct}.${member} offset`).toBe(offset);
      expect(c.get(`${ct}.${member}#size`), `${ct}.${member} size`).toBe(type.size);
    }
  });
});
