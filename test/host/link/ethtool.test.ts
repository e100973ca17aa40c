// Netdev features over ethtool netlink on this host's kernel, compared with
// `ethtool --json -k` run in the same netns.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkError } from '../../../src/netlink/errors.js';
import { EthtoolClient } from '../../../src/link/ethtool.js';
import { LinkClient } from '../../../src/link/client.js';
import { addNetns, delNetns, inNetns } from './netns.js';

let ns: string;
let links: LinkClient;
let ethtool: EthtoolClient;

beforeAll(async () => {
  ns = addNetns('link-ethtool');
  links = LinkClient.open({ netns: { name: ns } });
  await links.createVeth('ea', 'eb');
  ethtool = await EthtoolClient.open({ netns: { name: ns } });
});

afterAll(() => {
  ethtool?.close();
  links?.close();
  delNetns(ns);
});

type Printed = Record<string, { active: boolean; fixed: boolean | null; requested: boolean | null } | string>;
const printed = (dev: string): Printed => (JSON.parse(inNetns(ns, 'ethtool', '--json', '-k', dev)) as Printed[])[0] as Printed;

describe('ethtool features', () => {
  it.each(['ea', 'lo'])('every feature of %s agrees with ethtool --json -k', async (dev) => {
    const ours = await ethtool.features(dev);
    let compared = 0;
    for (const [name, v] of Object.entries(printed(dev))) {
      if (typeof v === 'string' || v.fixed === null || !ours.has(name)) continue;
      expect(ours.get(name), name).toEqual(v);
      compared++;
    }
    expect(compared).toBeGreaterThan(50);
  });

  it('esp-hw-offload: off and fixed on veth and lo (no xfrmdev_ops), by name or ifindex', async () => {
    expect(await ethtool.espHwOffload('ea')).toEqual({ active: false, fixed: true, requested: false });
    expect(await ethtool.espHwOffload((await links.getLink('lo')).index)).toEqual({ active: false, fixed: true, requested: false });
  });

  it('rx VLAN offload (rx-vlan-hw-parse) is on for veth and follows `ethtool -K rxvlan off`', async () => {
    expect((await ethtool.rxVlanOffload('ea')).active).toBe(true);
    expect((await ethtool.rxVlanOffload('ea')).fixed).toBe(false);
    inNetns(ns, 'ethtool', '-K', 'ea', 'rxvlan', 'off');
    expect(await ethtool.rxVlanOffload('ea')).toEqual({ active: false, fixed: false, requested: false });
  });

  it('an unknown device: ENODEV with the kernel text, naming the header attribute', async () => {
    const e: unknown = await ethtool.features('nosuchdev').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e).toMatchObject({ code: 'ENODEV', extack: 'no device matches name', attribute: 'ETHTOOL_A_FEATURES_HEADER', request: 'ethtool' });
  });
});
