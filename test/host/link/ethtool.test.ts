// Netdev features over ethtool netlink on this host's kernel, compared with
// `ethtool --json -k` / `ethtool -K` run in the same netns.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkError } from '../../../src/netlink/errors.js';
import { EthtoolClient, FeatureNotChangedError, RX_VLAN_HW_PARSE, UnknownFeatureError } from '../../../src/link/ethtool.js';
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

  it('setRxVlanOffload turns rx-vlan-offload off and on again; ethtool -k agrees; asking for the state it has changes nothing', async () => {
    await links.createVeth('ec', 'ed');
    const legacy = (): unknown => printed('ec')['rx-vlan-offload'];
    expect(legacy()).toEqual({ active: true, fixed: false, requested: true });
    await ethtool.setRxVlanOffload('ec', false);
    expect(await ethtool.rxVlanOffload('ec')).toEqual({ active: false, fixed: false, requested: false });
    expect(legacy()).toEqual({ active: false, fixed: false, requested: false });
    // already off: the kernel modifies nothing and sends no reply
    expect(await ethtool.setFeature('ec', RX_VLAN_HW_PARSE, false)).toEqual({ changed: {}, unmet: {} });
    expect(await ethtool.setFeature('ec', RX_VLAN_HW_PARSE, true)).toEqual({ changed: { [RX_VLAN_HW_PARSE]: true }, unmet: {} });
    expect(legacy()).toEqual({ active: true, fixed: false, requested: true });
    // by ifindex too
    await ethtool.setRxVlanOffload((await links.getLink('ec')).index, false);
    expect((await ethtool.rxVlanOffload('ec')).active).toBe(false);
  });

  it('a feature the device cannot take: FeatureNotChangedError, as ethtool says "Could not change any device features"; an unknown name: UnknownFeatureError', async () => {
    // The kernel accepts the request and answers that the wanted bit was not met.
    const e: unknown = await ethtool.setFeature('ea', 'esp-hw-offload', true).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(FeatureNotChangedError);
    expect(e).toMatchObject({ device: 'ea', feature: 'esp-hw-offload', wanted: true });
    expect(await ethtool.espHwOffload('ea')).toEqual({ active: false, fixed: true, requested: false });
    const cli = spawnSync('ip', ['netns', 'exec', ns, 'ethtool', '-K', 'ea', 'esp-hw-offload', 'on'], { encoding: 'utf8' });
    expect(cli.status).toBe(1);
    expect(cli.stderr).toContain('Could not change any device features');
    await expect(ethtool.setFeature('ea', 'no-such-feature', false)).rejects.toBeInstanceOf(UnknownFeatureError);
  });

  it('an unknown device: ENODEV with the kernel text, naming the header attribute', async () => {
    const e: unknown = await ethtool.features('nosuchdev').catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NetlinkError);
    expect(e).toMatchObject({ code: 'ENODEV', extack: 'no device matches name', attribute: 'ETHTOOL_A_FEATURES_HEADER', request: 'ethtool' });
  });
});
