// Multicast on the host kernel: events arrive, and an overrun is reported as
// an event (so the owner re-dumps), never as an exception.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkListener } from '../../../src/netlink/listener.js';
import { NETLINK_ROUTE, NETLINK_XFRM, type NetlinkMessage } from '../../../src/netlink/message.js';
import { TestNetns } from '../support/netns.js';

const RTNLGRP_LINK = 1;
const XFRMNLGRP_POLICY = 4;

describe('NetlinkListener on the host kernel', () => {
  let ns: TestNetns;
  beforeAll(() => {
    ns = new TestNetns('nllis');
  });
  afterAll(() => ns?.remove());

  it('receives link notifications from another netns', async () => {
    const l = NetlinkListener.open(NETLINK_ROUTE, [RTNLGRP_LINK], { netns: { name: ns.name } });
    try {
      const got: NetlinkMessage[] = [];
      const done = new Promise<void>((resolve) => {
        l.on('message', (m) => {
          got.push(m);
          if (got.some((x) => x.type === 17)) resolve(); // RTM_DELLINK
        });
      });
      ns.ip('link', 'add', 'ev0', 'type', 'veth', 'peer', 'name', 'ev1');
      ns.ip('link', 'del', 'ev0');
      await done;
      expect(got.some((m) => m.type === 16)).toBe(true); // RTM_NEWLINK
      expect(got.some((m) => m.type === 17)).toBe(true);
    } finally {
      l.close();
    }
  });

  it('reports an overrun (ENOBUFS) as an event when notifications are lost', async () => {
    const l = NetlinkListener.open(NETLINK_XFRM, [XFRMNLGRP_POLICY], { netns: { name: ns.name }, receiveBuffer: 4096 });
    try {
      let messages = 0;
      l.on('message', () => messages++);
      const overrun = new Promise<void>((resolve) => l.once('overrun', resolve));
      // 2000 policy adds/deletes while this process's loop is blocked in
      // spawnSync: the 4 KiB buffer overflows and the kernel drops messages.
      const lines: string[] = [];
      for (let i = 0; i < 1000; i++) {
        const dst = `10.${(i >> 8) & 255}.${i & 255}.1/32`;
        lines.push(`xfrm policy add src 192.0.2.1/32 dst ${dst} dir out action allow`, `xfrm policy delete src 192.0.2.1/32 dst ${dst} dir out`);
      }
      const file = `/tmp/nllis-${ns.name}.batch`;
      writeFileSync(file, `${lines.join('\n')}\n`);
      const r = spawnSync('ip', ['-n', ns.name, '-batch', file]);
      expect(r.status).toBe(0);
      await overrun;
      expect(l.overruns).toBeGreaterThanOrEqual(1);
      expect(messages).toBeLessThan(2000);
    } finally {
      l.close();
    }
  });
});
