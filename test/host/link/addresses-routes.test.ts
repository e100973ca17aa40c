// Addresses and routes through LinkClient in a throwaway netns, checked
// against `ip -j addr/route`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AF_INET, AF_INET6 } from '../../../src/netlink/codec/address.js';
import { NetlinkError } from '../../../src/netlink/errors.js';
import { LinkClient } from '../../../src/link/client.js';
import { IFA_F_NODAD } from '../../../src/link/constants.js';
import { addNetns, delNetns, ipJson } from './netns.js';

let ns: string;
let client: LinkClient;

beforeAll(async () => {
  ns = addNetns('link-addr');
  client = LinkClient.open({ netns: { name: ns } });
  await client.createVeth('ua', 'ub');
  await client.setUp('ua');
  await client.setUp('ub');
  await client.setUp('lo');
});

afterAll(() => {
  client?.close();
  delNetns(ns);
});

describe('addresses', () => {
  it('adds IPv4 and IPv6 addresses and lists them as iproute2 does', async () => {
    await client.addAddress('ua', '10.1.0.1/24');
    await client.addAddress('ua', '2001:db8::1/64', { flags: IFA_F_NODAD });
    await client.addAddress('ub', '10.1.0.2/24');
    const ua = await client.getLink('ua');
    const mine = (await client.listAddresses({ link: 'ua' })).map((a) => `${a.address}/${a.prefixlen}`);
    expect(mine).toEqual(expect.arrayContaining(['10.1.0.1/24', '2001:db8::1/64']));
    const v4 = await client.listAddresses({ family: AF_INET });
    expect(v4.every((a) => a.family === AF_INET)).toBe(true);
    expect(v4.map((a) => a.address).sort()).toEqual(['10.1.0.1', '10.1.0.2', '127.0.0.1']);
    const theirs = ipJson<{ ifname: string; addr_info: { local: string; prefixlen: number }[] }[]>(ns, 'addr', 'show', 'dev', 'ua')[0]?.addr_info ?? [];
    expect(mine.sort()).toEqual(theirs.map((a) => `${a.local}/${a.prefixlen}`).sort());
    const v6 = (await client.listAddresses({ family: AF_INET6, link: ua.index })).find((a) => a.address === '2001:db8::1');
    expect(v6).toMatchObject({ ifindex: ua.index, tentative: false, permanent: true });
  });

  it('finds the device that owns a local address (charon picks the offload device this way)', async () => {
    expect((await client.findAddressOwner('10.1.0.2'))?.name).toBe('ub');
    expect((await client.findAddressOwner('2001:db8:0::1'))?.name).toBe('ua');
    expect(await client.findAddressOwner('10.1.0.9')).toBeUndefined();
  });

  it('deletes an address; a duplicate add is refused with the kernel text', async () => {
    await expect(client.addAddress('ua', '10.1.0.1/24')).rejects.toMatchObject({ code: 'EEXIST', extack: 'ipv4: Address already assigned' });
    await client.deleteAddress('ub', '10.1.0.2/24');
    expect(await client.findAddressOwner('10.1.0.2')).toBeUndefined();
  });
});

describe('routes', () => {
  it('adds a route in a table > 255 with a metric and lists that table', async () => {
    await client.addRoute({ dst: '10.2.0.0/24', dev: 'ua', table: 1000, metric: 50 });
    const routes = await client.listRoutes({ family: AF_INET, table: 1000 });
    expect(routes).toHaveLength(1);
    expect(routes[0]).toMatchObject({ dst: '10.2.0.0/24', table: 1000, metric: 50, oif: (await client.getLink('ua')).index, scope: 253 });
    expect(ipJson(ns, 'route', 'show', 'table', '1000')).toEqual([{ dst: '10.2.0.0/24', dev: 'ua', scope: 'link', metric: 50, flags: [] }]);
  });

  it('adds via a gateway with a preferred source; replaces; deletes', async () => {
    await client.addRoute({ dst: '10.3.0.0/24', gateway: '10.1.0.2', prefsrc: '10.1.0.1', dev: 'ua' });
    const main = await client.listRoutes({ family: AF_INET, table: 254 });
    expect(main.find((r) => r.dst === '10.3.0.0/24')).toMatchObject({ gateway: '10.1.0.2', prefsrc: '10.1.0.1', table: 254 });
    await expect(client.addRoute({ dst: '10.3.0.0/24', gateway: '10.1.0.2', dev: 'ua' })).rejects.toBeInstanceOf(NetlinkError);
    await client.replaceRoute({ dst: '10.3.0.0/24', gateway: '10.1.0.3', dev: 'ua' });
    expect((await client.listRoutes({ table: 254 })).filter((r) => r.dst === '10.3.0.0/24').map((r) => r.gateway)).toEqual(['10.1.0.3']);
    await client.deleteRoute({ dst: '10.3.0.0/24', gateway: '10.1.0.3', dev: 'ua' });
    await client.deleteRoute({ dst: '10.2.0.0/24', dev: 'ua', table: 1000, metric: 50 });
    expect(await client.listRoutes({ family: AF_INET, table: 1000 })).toEqual([]);
    expect(ipJson(ns, 'route', 'show', '10.3.0.0/24')).toEqual([]);
  });

  it('IPv6 routes and default routes', async () => {
    await client.addRoute({ dst: '2001:db8:1::/64', dev: 'ua', metric: 10 });
    await client.addRoute({ dst: 'default', gateway: '10.1.0.2', dev: 'ua', table: 2000 });
    const v6 = await client.listRoutes({ family: AF_INET6, table: 254 });
    expect(v6.find((r) => r.dst === '2001:db8:1::/64')).toMatchObject({ metric: 10 });
    expect(await client.listRoutes({ family: AF_INET, table: 2000 })).toMatchObject([{ dst: '0.0.0.0/0', gateway: '10.1.0.2' }]);
    await client.deleteRoute({ dst: 'default', family: AF_INET, table: 2000 });
    await client.deleteRoute({ dst: '2001:db8:1::/64', dev: 'ua' });
  });

  it('route get answers with the output device and source, lo for a local address', async () => {
    const r = await client.getRoute('10.1.0.77');
    expect(r).toMatchObject({ dst: '10.1.0.77/32', oif: (await client.getLink('ua')).index, prefsrc: '10.1.0.1', table: 254 });
    const local = await client.getRoute('10.1.0.1');
    // the local address is reached through lo; IPv4 keeps the local table
    // merged into main until a policy rule exists, so the answer says main
    expect(local).toMatchObject({ type: 'local', oif: 1, table: 254 });
    expect(ipJson(ns, 'route', 'get', '10.1.0.1')).toMatchObject([{ type: 'local', dev: 'lo' }]);
    const theirs = ipJson<{ dev: string; prefsrc: string }[]>(ns, 'route', 'get', '10.1.0.77')[0];
    expect(theirs).toMatchObject({ dev: 'ua', prefsrc: r.prefsrc });
    await expect(client.getRoute('192.0.2.1')).rejects.toMatchObject({ code: 'ENETUNREACH', request: 'RTM_GETROUTE' });
  });
});
