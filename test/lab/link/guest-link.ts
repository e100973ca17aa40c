// Guest side of link.test.ts: drives LinkClient and EthtoolClient on the lab
// kernel (Debian 6.1 + netdevsim) and stores what they read back in
// $LAB_RESULTS/<name>.json for the host-side assertions.
//   lab_node test/lab/link/guest-link.ts basic PF   (xfrm, vlan, VF settings, features)
//   lab_node test/lab/link/guest-link.ts many PF    (a VF list longer than 64 KiB)
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LinkClient } from '../../../src/link/client.js';
import { EthtoolClient } from '../../../src/link/ethtool.js';
import type { Link } from '../../../src/link/link-view.js';

const results = process.env.LAB_RESULTS ?? '.';
const [phase, pf] = process.argv.slice(2);
if (!pf || (phase !== 'basic' && phase !== 'many')) throw new Error('usage: guest-link.ts basic|many PF');

function save(name: string, v: unknown): void {
  writeFileSync(join(results, `${name}.json`), JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x), 2));
}

/** The view without its raw attribute dump (large, and bigint-laden). */
const slim = (l: Link): Omit<Link, 'attrs' | 'info'> => {
  const { attrs: _a, info: _i, ...rest } = l;
  return rest;
};

async function outcome(p: Promise<unknown>): Promise<{ ok: true } | { ok: false; name: string; code?: string; extack?: string; message: string }> {
  try {
    await p;
    return { ok: true };
  } catch (e) {
    const x = e as { name: string; code?: string; extack?: string; message: string };
    return { ok: false, name: x.name, ...(x.code ? { code: x.code } : {}), ...(x.extack ? { extack: x.extack } : {}), message: x.message };
  }
}

const links = LinkClient.open();
const ethtool = await EthtoolClient.open();
try {
  if (phase === 'basic') {
    const pfLink = await links.getLink(pf);
    save('xfrm', {
      withLink: slim(await links.createXfrm('ipsec5', { ifId: 5, link: pf })),
      plain: slim(await links.createXfrm('ipsec6', { ifId: 6 })),
      duplicateIfId: await outcome(links.createXfrm('ipsec7', { ifId: 5 })),
      pfIndex: pfLink.index,
    });
    await links.setUp('ipsec5');
    save('xfrm-up', slim(await links.getLink('ipsec5')));

    save('vlan', {
      q: slim(await links.createVlan(`${pf}.100`, pf, 100)),
      ad: slim(await links.createVlan('svlan200', pf, 200, { protocol: '802.1ad' })),
      pfIndex: pfLink.index,
    });

    await links.setVf(pf, 0, { mac: '02:00:00:00:00:10', vlan: 10, qos: 3, trust: true, spoofchk: false, linkState: 'enable' });
    await links.setVf(pf, 1, { mac: '02:00:00:00:00:11', vlan: 20, vlanProto: 0x88a8, linkState: 'disable' });
    await links.setVf(pf, 2, { spoofchk: true, trust: false, linkState: 'auto' });
    await links.setVf(pf, 3, { mac: '02:00:00:00:00:13' });
    save('vfs', {
      link: slim(await links.getLink(pf, { vf: true })),
      withStats: slim(await links.getLink(pf, { vf: true, vfStats: true })),
      badVf: await outcome(links.setVf(pf, 9, { trust: true })),
      multicastMac: await outcome(links.setVf(pf, 0, { mac: '01:00:5e:00:00:01' })),
    });

    save('features', {
      pf: Object.fromEntries(await ethtool.features(pf)),
      esp: await ethtool.espHwOffload(pf),
      rxVlan: await ethtool.rxVlanOffload(pf),
      xfrmEsp: await ethtool.espHwOffload('ipsec5'),
    });
  } else {
    save('many', {
      skipStats: slim(await links.getLink(pf, { vf: true })),
      withStats: slim(await links.getLink(pf, { vf: true, vfStats: true })),
      listed: (await links.listLinks({ vf: true, vfStats: true })).map(slim).find((l) => l.name === pf),
    });
  }
} finally {
  ethtool.close();
  links.close();
}
