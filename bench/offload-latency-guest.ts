// Guest side of bench/offload-latency.ts (runs in the lab VM through lab_node).
//   listen <vici-socket> <out.json> <count>   record child-updown (up) arrival per CHILD_SA uniqueid
//   raw <ifindex> <out.json> <count>          NEWSA (offloaded) + GETSA round trips, one at a time
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { ViciClient } from '../src/vici/client/client.js';
import { parseChildUpdown } from '../src/vici/views/events.js';
import { XfrmClient } from '../src/xfrm/client.js';
import { makeState, wipeStateKeys } from '../src/xfrm/state.js';
import { SecretBytes } from '../src/netlink/codec/secret.js';

const [mode, arg, out, countArg] = process.argv.slice(2);
const count = Number(countArg ?? 200);

if (mode === 'listen') {
  const vici = new ViciClient({ socketPath: arg, timeoutMs: 60_000 });
  const ups: Record<string, number> = {};
  await vici.subscribe(['child-updown']);
  // Subscribed: tell the script it may bring the CHILD_SAs up now.
  writeFileSync(out as string, '{}');
  await new Promise<void>((resolve) => {
    vici.on('event', (e) => {
      if (e.name !== 'child-updown') return;
      const ev = parseChildUpdown(e.message);
      if (!ev.up) return;
      for (const c of ev.children) ups[String(c.uniqueid)] ??= e.receivedAt;
      writeFileSync(out as string, JSON.stringify(ups));
      if (Object.keys(ups).length >= count) resolve();
    });
  });
  await vici.close();
} else if (mode === 'raw') {
  const ifindex = Number(arg);
  const xfrm = await XfrmClient.open({ netns: { name: 'nsA' }, timeoutMs: 60_000 });
  const us: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = makeState({
      family: 'ipv4',
      saddr: '10.9.0.1',
      daddr: '10.9.0.2',
      spi: 0x7000 + i,
      proto: 'esp',
      mode: 'transport',
      reqid: 9,
      aead: { name: 'rfc4106(gcm(aes))', key: new SecretBytes(randomBytes(20)), keyBits: 160, icvBits: 128 },
      offload: { ifindex, dir: 'out', packet: false },
    });
    const t0 = performance.now();
    await xfrm.addState(s);
    const back = await xfrm.getState({ daddr: s.daddr, spi: s.spi, proto: 'esp', family: 'ipv4' });
    us.push((performance.now() - t0) * 1000);
    if (back.offload?.ifindex !== ifindex) throw new Error('raw baseline: not offloaded');
    wipeStateKeys(back);
    wipeStateKeys(s);
    // keep the table from filling: delete again (not timed)
    const fin = await xfrm.deleteState({ daddr: s.daddr, spi: s.spi, proto: 'esp', family: 'ipv4' });
    wipeStateKeys(fin);
  }
  xfrm.close();
  writeFileSync(out as string, JSON.stringify(us));
} else {
  throw new Error('usage: listen <socket> <out> <count> | raw <ifindex> <out> <count>');
}
