// LinkMonitor on this host's kernel: the events the daemon relies on to see
// an offload device go down, move or disappear (the kernel then drops the
// offloaded SAs without any XFRM notification).
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LinkClient } from '../../../src/link/client.js';
import type { Address } from '../../../src/link/address-view.js';
import type { Link } from '../../../src/link/link-view.js';
import { LinkMonitor } from '../../../src/link/monitor.js';
import type { Route } from '../../../src/link/route-view.js';
import { addNetns, delNetns, ip, next } from './netns.js';

let ns: string;
let other: string;
let client: LinkClient;
let monitor: LinkMonitor;
const errors: Error[] = [];

beforeAll(() => {
  ns = addNetns('link-mon');
  other = addNetns('link-mon-peer');
  client = LinkClient.open({ netns: { name: ns } });
  monitor = LinkMonitor.open({ netns: { name: ns }, addresses: true, routes: true });
  monitor.on('error', (e) => errors.push(e));
});

afterAll(() => {
  monitor?.close();
  client?.close();
  delNetns(ns);
  delNetns(other);
});

describe('link events', () => {
  it('NEWLINK for both ends of a new veth', async () => {
    const a = next<Link>(monitor, 'newlink', (l) => l.name === 'ma');
    const b = next<Link>(monitor, 'newlink', (l) => l.name === 'mb');
    await client.createVeth('ma', 'mb');
    expect(await a).toMatchObject({ kind: 'veth', up: false });
    expect((await b).kind).toBe('veth');
  });

  it('link up and down, including carrier following the peer', async () => {
    const up = next<Link>(monitor, 'newlink', (l) => l.name === 'ma' && l.up && l.operstate === 'lowerlayerdown');
    await client.setUp('ma');
    await up;
    const carrier = next<Link>(monitor, 'newlink', (l) => l.name === 'ma' && l.lowerUp && l.operstate === 'up');
    await client.setUp('mb');
    await carrier;
    const lost = next<Link>(monitor, 'newlink', (l) => l.name === 'ma' && l.up && !l.lowerUp);
    await client.setDown('mb');
    expect((await lost).operstate).toBe('lowerlayerdown');
    const down = next<Link>(monitor, 'newlink', (l) => l.name === 'ma' && !l.up);
    ip(ns, 'link', 'set', 'dev', 'ma', 'down'); // a change made by someone else is seen the same way
    expect((await down).operstate).toBe('down');
  });

  it('address and route events', async () => {
    await client.setUp('ma');
    const added = next<Address>(monitor, 'newaddr', (a) => a.address === '10.5.0.1');
    const route = next<Route>(monitor, 'newroute', (r) => r.dst === '10.5.0.0/24');
    await client.addAddress('ma', '10.5.0.1/24');
    expect(await added).toMatchObject({ prefixlen: 24, ifindex: (await client.getLink('ma')).index });
    expect((await route).protocol).toBe(2); // RTPROT_KERNEL: the prefix route of the address
    const removed = next<Address>(monitor, 'deladdr', (a) => a.address === '10.5.0.1');
    await client.deleteAddress('ma', '10.5.0.1/24');
    await removed;
  });

  it('DELLINK for a move to another netns says where it went; a deletion does not', async () => {
    const mb = await client.getLink('mb');
    const moved = next<Link>(monitor, 'dellink', (l) => l.name === 'mb');
    await client.setNetns('mb', { name: other });
    const m = await moved;
    expect(m.index).toBe(mb.index);
    expect(m.movedTo?.netnsId).toBeTypeOf('number');
    expect(m.movedTo?.ifindex).toBeTypeOf('number');
    const gone = next<Link>(monitor, 'dellink', (l) => l.name === 'ma');
    await client.deleteLink('ma');
    expect((await gone).movedTo).toBeUndefined();
    expect(errors).toEqual([]);
    expect(monitor.overruns).toBe(0);
  });

  it('a port leaving a bridge is not reported as a deleted link (the kernel sends an AF_BRIDGE DELLINK)', async () => {
    const seen: string[] = [];
    const onDel = (l: Link): void => {
      seen.push(l.name);
    };
    monitor.on('dellink', onDel);
    try {
      await client.createVeth('pa', 'pb');
      ip(ns, 'link', 'add', 'br0', 'type', 'bridge');
      const enslaved = next<Link>(monitor, 'newlink', (l) => l.name === 'pa' && l.master !== undefined);
      ip(ns, 'link', 'set', 'dev', 'pa', 'master', 'br0');
      await enslaved;
      const released = next<Link>(monitor, 'newlink', (l) => l.name === 'pa' && l.master === undefined);
      ip(ns, 'link', 'set', 'dev', 'pa', 'nomaster');
      await released;
      const gone = next<Link>(monitor, 'dellink', (l) => l.name === 'br0');
      await client.deleteLink('br0');
      await gone;
      expect(seen).toEqual(['br0']);
    } finally {
      monitor.off('dellink', onDel);
    }
  });

  it('a burst larger than the receive buffer is reported as an overrun (then re-dump)', async () => {
    const small = LinkMonitor.open({ netns: { name: ns }, receiveBuffer: 16 * 1024 });
    try {
      await client.createVeth('oa', 'ob');
      const overrun = new Promise<void>((resolve) => small.once('overrun', resolve));
      // 400 MTU changes (each one a RTM_NEWLINK; alias changes send none)
      // while this process's event loop is blocked in spawnSync: the
      // notifications pile up in the socket until the kernel drops some.
      const batch = Array.from({ length: 400 }, (_, i) => `link set dev oa mtu ${1280 + i}`).join('\n');
      spawnSync('ip', ['-n', ns, '-batch', '-'], { input: batch });
      await overrun;
      expect(small.overruns).toBeGreaterThan(0);
      // what the daemon does next: read the state again
      expect((await client.getLink('oa')).mtu).toBe(1679);
    } finally {
      small.close();
    }
  });
});
