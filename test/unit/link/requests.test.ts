// Our request builders against the bytes iproute2 6.1 sent for the same
// command (strace captures in ./fixtures). Values the capture chose at run
// time (ifindex, netns fd, pid) are read from the golden message itself.
import { describe, expect, it } from 'vitest';
import { AF_INET } from '../../../src/netlink/codec/address.js';
import { NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_REQUEST, encodeMessage, type NetlinkMessage, type OutgoingMessage } from '../../../src/netlink/message.js';
import { ETH_P_8021AD, RTM_DELADDR, RTM_DELLINK, RTM_DELROUTE, RTM_GETADDR, RTM_GETLINK, RTM_GETROUTE, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE } from '../../../src/link/constants.js';
import { decodeRtMessage, type LinkMessage } from '../../../src/link/messages.js';
import {
  addAddressRequest,
  addRouteRequest,
  deleteAddressRequest,
  deleteLinkRequest,
  deleteRouteRequest,
  dumpAddressesRequest,
  dumpLinksRequest,
  dumpRoutesRequest,
  getLinkRequest,
  getRouteRequest,
  macvlanRequest,
  setLinkRequest,
  setNetnsRequest,
  setUpRequest,
  setVfRequest,
  vethRequest,
  vlanRequest,
  xfrmRequest,
} from '../../../src/link/requests.js';
import { asMessage, loadFixture } from './fixtures.js';

interface Case {
  fixture: string;
  /** which sent message is the golden one */
  pick: (m: NetlinkMessage) => boolean;
  build: (golden: NetlinkMessage) => OutgoingMessage;
  /** how LinkClient sends it: request() adds REQUEST|ACK, dump() adds REQUEST|DUMP */
  via: 'request' | 'dump';
}

const type = (t: number) => (m: NetlinkMessage) => m.type === t;
const create = (m: NetlinkMessage): boolean => m.type === RTM_NEWLINK && (m.flags & NLM_F_CREATE) !== 0;
// The change itself, not iproute2's name lookup (a GETLINK) or its probe (an empty NEWLINK with seq 0).
const change = (m: NetlinkMessage): boolean => m.type === RTM_NEWLINK && m.seq !== 0;
const index = (g: NetlinkMessage): number => g.payload.readInt32LE(4);
const linkAttrs = (g: NetlinkMessage): LinkMessage['attrs'] => (decodeRtMessage(g) as LinkMessage).attrs;
const oif = (g: NetlinkMessage): number => {
  const d = decodeRtMessage(g);
  if (d.family !== 'route' || d.attrs.oif === undefined) throw new Error('golden route has no RTA_OIF');
  return d.attrs.oif;
};

const cases: Case[] = [
  { fixture: 'link-add-veth', pick: create, via: 'request', build: () => vethRequest('v0', 'v1') },
  {
    fixture: 'link-add-veth-peer-netns',
    pick: create,
    via: 'request',
    build: (g) => {
      const d = linkAttrs(g).linkinfo?.data;
      const fd = d?.kind === 'veth' ? d.values.peer?.attrs.netNsFd : undefined;
      if (fd === undefined) throw new Error('golden has no peer netns fd');
      return vethRequest('v0', 'v1', { fd });
    },
  },
  { fixture: 'link-add-macvlan', pick: create, via: 'request', build: (g) => macvlanRequest('mv0', linkAttrs(g).link ?? -1, 'bridge') },
  { fixture: 'link-add-vlan', pick: create, via: 'request', build: (g) => vlanRequest('v0.5', linkAttrs(g).link ?? -1, 5) },
  { fixture: 'link-add-vlan-8021ad', pick: create, via: 'request', build: (g) => vlanRequest('vq', linkAttrs(g).link ?? -1, 100, ETH_P_8021AD) },
  { fixture: 'link-add-xfrm', pick: create, via: 'request', build: () => xfrmRequest('ipsec5', { ifId: 5, link: 1 }) },
  { fixture: 'link-add-xfrm-nodev', pick: create, via: 'request', build: () => xfrmRequest('ipsec6', { ifId: 6 }) },
  { fixture: 'link-del', pick: type(RTM_DELLINK), via: 'request', build: (g) => deleteLinkRequest(index(g)) },
  { fixture: 'link-set-up', pick: change, via: 'request', build: (g) => setUpRequest(index(g), true) },
  { fixture: 'link-set-down', pick: change, via: 'request', build: (g) => setUpRequest(index(g), false) },
  { fixture: 'link-rename', pick: change, via: 'request', build: (g) => setLinkRequest(index(g), { ifname: 'v9' }) },
  { fixture: 'link-alias', pick: change, via: 'request', build: (g) => setLinkRequest(index(g), { ifalias: 'uplink-a' }) },
  { fixture: 'link-mtu', pick: change, via: 'request', build: (g) => setLinkRequest(index(g), { mtu: 1400 }) },
  { fixture: 'link-netns-fd', pick: change, via: 'request', build: (g) => setNetnsRequest(index(g), { fd: linkAttrs(g).netNsFd ?? -1 }) },
  { fixture: 'link-netns-pid', pick: change, via: 'request', build: (g) => setNetnsRequest(index(g), { pid: linkAttrs(g).netNsPid ?? -1 }) },
  { fixture: 'vf-mac', pick: change, via: 'request', build: (g) => setVfRequest(index(g), 0, { mac: '02:00:00:00:00:01' }) },
  { fixture: 'vf-vlan', pick: change, via: 'request', build: (g) => setVfRequest(index(g), 1, { vlan: 10, qos: 3 }) },
  { fixture: 'vf-vlan-8021ad', pick: change, via: 'request', build: (g) => setVfRequest(index(g), 2, { vlan: 20, qos: 1, vlanProto: ETH_P_8021AD }) },
  {
    fixture: 'vf-trust-spoofchk-state',
    pick: change,
    via: 'request',
    build: (g) => setVfRequest(index(g), 3, { trust: true, spoofchk: false, linkState: 'disable' }),
  },
  // iproute2's name -> index lookup before `ip link set`: GETLINK, VF|SKIP_STATS, IFLA_IFNAME
  { fixture: 'link-set-up', pick: type(RTM_GETLINK), via: 'request', build: () => getLinkRequest({ name: 'v0' }, { vf: true }) },
  { fixture: 'addr-show-dump', pick: type(RTM_GETLINK), via: 'dump', build: () => dumpLinksRequest({ vf: true, vfStats: true }) },
  { fixture: 'addr-add-v4', pick: type(RTM_NEWADDR), via: 'request', build: (g) => addAddressRequest(g.payload.readUInt32LE(4), '10.1.0.1/24') },
  { fixture: 'addr-add-v6', pick: type(RTM_NEWADDR), via: 'request', build: (g) => addAddressRequest(g.payload.readUInt32LE(4), '2001:db8::1/64') },
  { fixture: 'addr-del-v4', pick: type(RTM_DELADDR), via: 'request', build: (g) => deleteAddressRequest(g.payload.readUInt32LE(4), '10.1.0.1/24') },
  { fixture: 'addr-show-dump', pick: type(RTM_GETADDR), via: 'dump', build: () => dumpAddressesRequest() },
  {
    fixture: 'addr-show-dev-v4',
    pick: type(RTM_GETADDR),
    via: 'dump',
    build: (g) => dumpAddressesRequest({ family: AF_INET, index: g.payload.readUInt32LE(4) }),
  },
  {
    fixture: 'route-add-table-metric',
    pick: type(RTM_NEWROUTE),
    via: 'request',
    build: (g) => addRouteRequest({ dst: '10.2.0.0/24', oif: oif(g), table: 1000, metric: 50 }),
  },
  {
    fixture: 'route-add-via-src',
    pick: type(RTM_NEWROUTE),
    via: 'request',
    build: (g) => addRouteRequest({ dst: '10.3.0.0/24', gateway: '10.1.0.2', prefsrc: '10.1.0.1', oif: oif(g) }),
  },
  { fixture: 'route-add-small-table', pick: type(RTM_NEWROUTE), via: 'request', build: (g) => addRouteRequest({ dst: '10.4.0.0/24', oif: oif(g), table: 100 }) },
  {
    fixture: 'route-add-v6-metric',
    pick: type(RTM_NEWROUTE),
    via: 'request',
    build: (g) => addRouteRequest({ dst: '2001:db8:1::/64', oif: oif(g), metric: 10 }),
  },
  {
    fixture: 'route-del-table-metric',
    pick: type(RTM_DELROUTE),
    via: 'request',
    build: (g) => deleteRouteRequest({ dst: '10.2.0.0/24', oif: oif(g), table: 1000, metric: 50 }),
  },
  {
    fixture: 'route-del-via',
    pick: type(RTM_DELROUTE),
    via: 'request',
    build: (g) => deleteRouteRequest({ dst: '10.3.0.0/24', gateway: '10.1.0.2', oif: oif(g) }),
  },
  { fixture: 'route-get', pick: type(RTM_GETROUTE), via: 'request', build: () => getRouteRequest('10.1.0.5') },
  { fixture: 'route-show-all', pick: type(RTM_GETROUTE), via: 'dump', build: () => dumpRoutesRequest() },
  { fixture: 'route-show-table', pick: type(RTM_GETROUTE), via: 'dump', build: () => dumpRoutesRequest({ family: AF_INET, table: 1000 }) },
];

describe('request builders match iproute2 6.1 byte for byte', () => {
  it.each(cases.map((c) => [`${c.fixture} (${c.pick === create ? 'create' : 'message'})`, c] as const))('%s', (_name, c) => {
    const f = loadFixture(c.fixture);
    const at = f.sent.map(asMessage).findIndex(c.pick);
    expect(at, `${c.fixture}: no matching message in ${f.captured.command}`).toBeGreaterThanOrEqual(0);
    const raw = f.sent[at] as Buffer;
    const golden = asMessage(raw);
    const ours = c.build(golden);
    const added = c.via === 'dump' ? NLM_F_REQUEST | NLM_F_DUMP : NLM_F_REQUEST | NLM_F_ACK;
    const bytes = encodeMessage({ ...ours, flags: (ours.flags ?? 0) | added }, golden.seq);
    // iproute2 leaves NLM_F_ACK off its GETs (it reads the answer); the
    // requester always asks for the ack, which is the only difference.
    const g = Buffer.from(raw);
    if (c.via === 'request') g.writeUInt16LE(g.readUInt16LE(6) | NLM_F_ACK, 6);
    expect(bytes.toString('hex')).toBe(g.toString('hex'));
  });
});
