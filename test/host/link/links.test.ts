// LinkClient on this host's kernel, working inside throwaway namespaces it
// opened from outside. iproute2 (`ip -j -d link show`) is the witness.
import { spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkError } from '../../../src/netlink/errors.js';
import { LinkClient } from '../../../src/link/client.js';
import { addNetns, delNetns, ipJson } from './netns.js';

type IpLink = { ifindex: number; ifname: string; mtu: number; operstate: string; flags: string[]; ifalias?: string; link_netnsid?: number; linkinfo?: { info_kind?: string; info_data?: { mode?: string } } };

let ns: string;
let other: string;
let client: LinkClient;
let there: LinkClient;

beforeAll(() => {
  ns = addNetns('link-host');
  other = addNetns('link-host-peer');
  client = LinkClient.open({ netns: { name: ns } });
  there = LinkClient.open({ netns: { path: `/run/netns/${other}` } });
});

afterAll(() => {
  client?.close();
  there?.close();
  delNetns(ns);
  delNetns(other);
});

const shown = (name: string): IpLink | undefined => ipJson<IpLink[]>(ns, '-d', 'link', 'show').find((l) => l.ifname === name);

describe('veth and macvlan', () => {
  it('creates a veth pair and reads it back as iproute2 sees it', async () => {
    const va = await client.createVeth('va', 'vb');
    const vb = await client.getLink('vb');
    expect(va).toMatchObject({ name: 'va', kind: 'veth', parent: vb.index, up: false, operstate: 'down' });
    expect(vb.parent).toBe(va.index);
    const ip = shown('va');
    expect(ip).toMatchObject({ ifindex: va.index, mtu: va.mtu, linkinfo: { info_kind: 'veth' } });
    const all = await client.listLinks();
    expect(all.map((l) => l.name).sort()).toEqual(['lo', 'va', 'vb']);
    expect(await client.getLink(va.index)).toMatchObject({ name: 'va' });
  });

  it('creates a veth whose peer lives in another netns', async () => {
    const vc = await client.createVeth('vc', 'vd', { peerNetns: { name: other } });
    const vd = await there.getLink('vd');
    expect(await client.findLink('vd')).toBeUndefined();
    expect(vc.parent).toBe(vd.index);
    expect(vc.linkNetnsId).toBe(shown('vc')?.link_netnsid);
    expect(vc.linkNetnsId).toBeTypeOf('number');
  });

  it('creates a macvlan on a parent named by name', async () => {
    const mv = await client.createMacvlan('mva', 'va', { mode: 'private' });
    expect(mv).toMatchObject({ kind: 'macvlan', macvlan: { mode: 'private' }, parent: (await client.getLink('va')).index });
    expect(shown('mva')?.linkinfo?.info_data?.mode).toBe('private');
  });

  it('renames, sets alias and MTU, brings up and down', async () => {
    await client.rename('mva', 'mvb');
    expect(await client.findLink('mva')).toBeUndefined();
    await client.setAlias('mvb', 'tenant uplink');
    await client.setMtu('mvb', 1400);
    await client.setUp('vb');
    await client.setUp('va');
    await client.setUp('mvb');
    let mvb = await client.getLink('mvb');
    expect(mvb).toMatchObject({ alias: 'tenant uplink', mtu: 1400, up: true });
    expect(shown('mvb')).toMatchObject({ ifalias: 'tenant uplink', mtu: 1400 });
    expect(await client.getLink('va')).toMatchObject({ up: true, lowerUp: true, running: true, operstate: 'up' });
    await client.setDown('vb');
    expect(await client.getLink('va')).toMatchObject({ up: true, lowerUp: false, operstate: 'lowerlayerdown' });
    expect(shown('va')?.operstate).toBe('LOWERLAYERDOWN');
    await client.setAlias('mvb', '');
    mvb = await client.getLink('mvb');
    expect(mvb.alias).toBeUndefined();
  });

  it('moves a link to another netns (by path) and deletes links', async () => {
    const vb = await client.getLink('vb');
    await client.setNetns('vb', { path: `/run/netns/${other}` });
    expect(await client.findLink(vb.index)).toBeUndefined();
    expect((await there.getLink('vb')).kind).toBe('veth');
    await client.deleteLink('mvb');
    await client.deleteLink('va'); // takes its peer vb (now over there) with it
    expect(await there.findLink('vb')).toBeUndefined();
    expect((await client.listLinks()).map((l) => l.name).sort()).toEqual(['lo', 'vc']);
  });
});

describe('netns moves by process', () => {
  it('moves a link into the netns of a pid (IFLA_NET_NS_PID)', async () => {
    // a process living in the other namespace (ip netns exec execs sleep)
    const sleeper = spawn('ip', ['netns', 'exec', other, 'sleep', '30'], { stdio: 'ignore' });
    try {
      const pid = sleeper.pid as number;
      for (let i = 0; i < 100 && statSync(`/proc/${pid}/ns/net`).ino !== statSync(`/run/netns/${other}`).ino; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(statSync(`/proc/${pid}/ns/net`).ino).toBe(statSync(`/run/netns/${other}`).ino);
      await client.createVeth('vp', 'vq');
      await client.setNetns('vq', { pid });
      expect(await client.findLink('vq')).toBeUndefined();
      expect((await there.getLink('vq')).kind).toBe('veth');
      await client.deleteLink('vp');
    } finally {
      sleeper.kill('SIGTERM');
    }
  });
});

describe('kernel errors carry errno, ext-ack text and the attribute', () => {
  const failure = async (p: Promise<unknown>): Promise<NetlinkError> => {
    const e: unknown = await p.then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(NetlinkError);
    return e as NetlinkError;
  };

  it('duplicate name: EEXIST (this kernel sends no text for it)', async () => {
    const e = await failure(client.createVeth('vc', 'vz'));
    expect(e).toMatchObject({ code: 'EEXIST', request: 'RTM_NEWLINK' });
    expect(e.extack).toBeUndefined();
  });

  it('a kind this kernel lacks (no 802.1Q, no xfrm interfaces here): EOPNOTSUPP "Unknown device type"', async () => {
    for (const create of [() => client.createVlan('vc.5', 'vc', 5), () => client.createXfrm('ipsec5', { ifId: 5 })]) {
      const e = await failure(create());
      expect(e).toMatchObject({ errno: 95, extack: 'Unknown device type', request: 'RTM_NEWLINK' });
    }
  });

  it('a policy violation names the attribute, nested ones by their path', async () => {
    const long = 'x'.repeat(20);
    expect(await failure(client.createVeth(long, 'vy'))).toMatchObject({ code: 'ERANGE', extack: 'Attribute failed policy validation', attribute: 'IFLA_IFNAME' });
    expect(await failure(client.createVeth('vx', long))).toMatchObject({
      code: 'ERANGE',
      attribute: 'IFLA_LINKINFO > IFLA_INFO_DATA > VETH_INFO_PEER > IFLA_IFNAME',
    });
    expect(await failure(client.setAlias('vc', 'a'.repeat(300)))).toMatchObject({ attribute: 'IFLA_IFALIAS' });
  });

  it('device-level refusals: MTU limits, VF settings on a device without VFs, unknown device', async () => {
    expect(await failure(client.setMtu('vc', 10))).toMatchObject({ code: 'EINVAL', extack: 'mtu less than device minimum' });
    expect(await failure(client.setVf('vc', 0, { trust: true }))).toMatchObject({ errno: 95 });
    expect(await failure(client.getLink('nosuchdev'))).toMatchObject({ code: 'ENODEV', request: 'RTM_GETLINK' });
    expect(await client.findLink('nosuchdev')).toBeUndefined();
  });
});

describe('VF info on devices without SR-IOV', () => {
  it('asking with RTEXT_FILTER_VF is harmless: no IFLA_NUM_VF on a veth', async () => {
    const l = await client.getLink('vc', { vf: true });
    expect(l.numVf).toBeUndefined();
    expect(l.vfs).toBeUndefined();
    expect(l.vfListTruncation).toBeUndefined();
    expect((await client.listLinks({ vf: true })).length).toBe(2);
  });
});
