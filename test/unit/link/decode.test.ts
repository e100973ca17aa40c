// Kernel replies (host kernel, captured under strace while iproute2 asked for
// them) decoded by our codec and compared with what iproute2 itself printed
// from the same bytes (`ip -j`): two independent decoders must agree.
import { describe, expect, it } from 'vitest';
import { AF_INET, AF_INET6 } from '../../../src/netlink/codec/address.js';
import { NLMSG_ERROR, NLM_F_MULTI, parseAck } from '../../../src/netlink/message.js';
import { RTM_DELADDR, RTM_DELLINK, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE, RT_TABLE_LOCAL, RT_TABLE_MAIN } from '../../../src/link/constants.js';
import { decodeRtMessage, type RtMessage } from '../../../src/link/messages.js';
import { toLink, type Link } from '../../../src/link/link-view.js';
import { toAddress } from '../../../src/link/address-view.js';
import { toRoute } from '../../../src/link/route-view.js';
import { asMessage, loadFixture, type Fixture } from './fixtures.js';
import { expectLinkMatchesIproute2, type Json } from './iproute2-json.js';

const decoded = (f: Fixture, types: number[]): RtMessage[] =>
  f.received
    .map(asMessage)
    .filter((m) => types.includes(m.type))
    .map((m) => decodeRtMessage(m));

const links = (f: Fixture): Link[] =>
  decoded(f, [RTM_NEWLINK, RTM_DELLINK]).map((m) => {
    if (m.family !== 'link') throw new Error('not a link');
    return toLink(m.header, m.attrs, m.vfList);
  });

const json = (f: Fixture): Json[] => JSON.parse(f.stdout) as Json[];

describe('RTM_NEWLINK replies', () => {
  it('a link dump decodes to what `ip -j -d link show` printed, kind data included', () => {
    const f = loadFixture('link-show-dump');
    const ours = links(f);
    const theirs = json(f);
    expect(ours.map((l) => l.name)).toEqual(theirs.map((j) => j.ifname));
    const byIndex = new Map(ours.map((l) => [l.index, l]));
    ours.forEach((l, i) => expectLinkMatchesIproute2(l, theirs[i] as Json, byIndex));
    // the capture's setup, seen through our view
    const mv0 = ours.find((l) => l.name === 'mv0');
    expect(mv0?.kind).toBe('macvlan');
    expect(mv0?.macvlan).toEqual({ mode: 'private' });
    expect(mv0?.parent).toBe(ours.find((l) => l.name === 'v0')?.index);
    const v2 = ours.find((l) => l.name === 'v2');
    expect(v2?.kind).toBe('veth');
    expect(v2?.linkNetnsId).toBeTypeOf('number'); // its peer v3 lives in the second netns
    expect(ours.find((l) => l.name === 'v0')).toMatchObject({ alias: 'uplink-a', mtu: 1400, up: true });
  });

  it('a single GETLINK answer decodes like `ip -j -d link show dev v0`', () => {
    const f = loadFixture('link-show-dev');
    const ours = links(f);
    const theirs = json(f);
    const v0 = ours.find((l) => l.name === 'v0');
    expect(v0).toBeDefined();
    expectLinkMatchesIproute2(v0 as Link, theirs[0] as Json, new Map(ours.map((l) => [l.index, l])));
  });
});

const scopes: Record<string, number> = { global: 0, link: 253, host: 254 };

describe('RTM_NEWADDR replies', () => {
  it('an address dump decodes to the addr_info `ip -j addr show` printed', () => {
    const f = loadFixture('addr-show-dump');
    const ours = decoded(f, [RTM_NEWADDR]).map((m) => {
      if (m.family !== 'addr') throw new Error('not an address');
      return toAddress(m.header, m.attrs);
    });
    const theirs = json(f).flatMap((l) => (l.addr_info as Json[]).map((a): Json => ({ ...a, ifindex: l.ifindex })));
    expect(ours.length).toBe(theirs.length);
    for (const t of theirs) {
      const o = ours.find((a) => a.ifindex === t.ifindex && a.address === t.local);
      expect(o, `${String(t.local)} on ${String(t.ifindex)}`).toBeDefined();
      if (!o) continue;
      expect(o.family).toBe(t.family === 'inet' ? AF_INET : AF_INET6);
      expect(o.prefixlen).toBe(t.prefixlen);
      expect(o.scope).toBe(scopes[t.scope as string]);
      expect(o.label).toBe(t.label);
      expect(o.validLifetime).toBe(t.valid_life_time);
      expect(o.preferredLifetime).toBe(t.preferred_life_time);
      expect(o.tentative).toBe(t.tentative === true);
      expect((o.flags & 0x02) !== 0).toBe(t.nodad === true);
    }
  });
});

describe('RTM_NEWROUTE replies', () => {
  const names = (f: Fixture): Map<number, string> => new Map(links(f).map((l) => [l.index, l.name]));
  const iproute2Dst = (dst: string, family: number): string => {
    const [a, len] = dst.split('/');
    if (len === '0') return 'default';
    return len === (family === AF_INET ? '32' : '128') ? (a as string) : dst;
  };

  it('a route dump of all tables decodes to what `ip -j route show table all` printed', () => {
    const f = loadFixture('route-show-all');
    const dev = names(f);
    const ours = decoded(f, [RTM_NEWROUTE]).map((m) => {
      if (m.family !== 'route') throw new Error('not a route');
      return toRoute(m.header, m.attrs);
    });
    const theirs = json(f);
    expect(ours.length).toBe(theirs.length);
    ours.forEach((r, i) => {
      const t = theirs[i] as Json;
      expect(iproute2Dst(r.dst, r.family)).toBe(t.dst);
      expect(dev.get(r.oif ?? -1)).toBe(t.dev);
      expect(r.table === RT_TABLE_MAIN ? undefined : r.table === RT_TABLE_LOCAL ? 'local' : String(r.table)).toBe(t.table);
      expect(r.type === 'unicast' ? undefined : r.type).toBe(t.type);
      expect(r.metric).toBe(t.metric);
      expect(r.prefsrc).toBe(t.prefsrc);
      expect(r.gateway).toBe(t.gateway);
      expect(r.protocol === 2 ? 'kernel' : undefined).toBe(t.protocol);
    });
    expect(ours.find((r) => r.dst === '10.2.0.0/24')).toMatchObject({ table: 1000, metric: 50 });
  });

  it('`route get` answers name the device and preferred source', () => {
    for (const id of ['route-get', 'route-get-local']) {
      const f = loadFixture(id);
      const [m] = decoded(f, [RTM_NEWROUTE]);
      if (m?.family !== 'route') throw new Error('no route in the answer');
      const r = toRoute(m.header, m.attrs);
      const t = json(f)[0] as Json;
      expect(iproute2Dst(r.dst, r.family)).toBe(t.dst);
      expect(r.prefsrc).toBe(t.prefsrc);
      // the device name iproute2 printed came from a GETLINK answer in the same capture, or is lo
      expect(names(f).get(r.oif ?? -1) ?? (r.oif === 1 ? 'lo' : undefined)).toBe(t.dev);
      expect(r.attrs.uid).toBe(t.uid);
    }
  });
});

describe('rtnetlink multicast (ip monitor link address)', () => {
  const f = loadFixture('monitor-link-addr');
  const events = f.received
    .map(asMessage)
    // events, not the answers to ip monitor's own start-up dump (NLM_F_MULTI)
    .filter((m) => [RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR].includes(m.type) && (m.flags & NLM_F_MULTI) === 0)
    .map((m) => decodeRtMessage(m));

  it('decodes every event iproute2 printed, in order', () => {
    // iproute2 prints one block per event; "Deleted" marks DELLINK/DELADDR
    const blocks = f.stdout.split('\n').filter((l) => /^(Deleted )?\d+: /.test(l));
    const deleted = (m: RtMessage): boolean => m.type === RTM_DELLINK || m.type === RTM_DELADDR;
    expect(events.length).toBe(blocks.length);
    events.forEach((m, i) => expect(deleted(m)).toBe((blocks[i] as string).startsWith('Deleted')));
  });

  it('a DELLINK caused by a netns move says where the device went', () => {
    const dels = events.filter((m) => m.type === RTM_DELLINK).map((m) => (m.family === 'link' ? toLink(m.header, m.attrs) : undefined));
    const moved = dels.find((l) => l?.name === 'v1');
    const gone = dels.find((l) => l?.name === 'v0');
    // iproute2: "Deleted 2: v1@v0: ... new-netnsid 0 new-ifindex 2"
    expect(moved?.movedTo).toEqual({ netnsId: 0, ifindex: 2 });
    expect(gone?.movedTo).toBeUndefined();
  });

  it('link up/down shows in flags and operstate', () => {
    const v0 = events.filter((m) => m.type === RTM_NEWLINK && m.family === 'link').map((m) => (m.family === 'link' ? toLink(m.header, m.attrs) : undefined)).filter((l) => l?.name === 'v0');
    expect(v0.map((l) => [l?.up, l?.operstate])).toEqual([
      [false, 'down'],
      [true, 'lowerlayerdown'],
      [true, 'up'],
      [false, 'down'],
    ]);
  });
});

describe('kernel error answers', () => {
  it('an unknown kind comes back EOPNOTSUPP with the kernel text', () => {
    const f = loadFixture('link-add-bad-kind');
    const err = f.received.map(asMessage).find((m) => m.type === NLMSG_ERROR && m.seq !== 0);
    const ack = parseAck(err as NonNullable<typeof err>);
    expect(ack.errno).toBe(95);
    expect(ack.extack).toBe('Unknown device type');
    expect(f.stderr).toContain('Unknown device type');
  });
});
