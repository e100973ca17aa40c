// Guest driver for offload-cycles: N demote/promote cycles of lab/gcm through
// the control socket; after each step, the outbound SA's oseq as the kernel
// reports it. Writes $LAB_RESULTS/cycles.json.
import { writeFileSync } from 'node:fs';
import { controlCall } from '../../../src/daemon/control/client.js';
import { XfrmClient } from '../../../src/xfrm/client.js';
import { wipeStateKeys } from '../../../src/xfrm/state.js';
import { isLarval } from '../../../src/offload/kernel-view.js';

const [socket, count] = [process.argv[2] ?? '', Number(process.argv[3] ?? 50)];
const xfrm = await XfrmClient.open({ netns: { name: 'nsA' }, timeoutMs: 30_000 });

async function outboundOseq(): Promise<{ spi: number; oseq: number }> {
  const states = await xfrm.dumpStates({ proto: 'esp' });
  // Pings in a swap gap leave larval ACQUIRE placeholders (no keys) with the same addresses and SPI.
  const out = states.find((s) => s.saddr === '10.0.0.1' && s.daddr === '10.0.0.2' && !isLarval(s));
  for (const s of states) wipeStateKeys(s);
  if (!out) throw new Error('no outbound SA 10.0.0.1 -> 10.0.0.2');
  return { spi: out.spi, oseq: out.esn ? out.esn.oseq : (out.replay?.oseq ?? 0) };
}

const steps: { step: string; spi: number; oseq: number; states: string[] }[] = [];
for (let i = 0; i < count; i++) {
  for (const mode of ['software', 'offload'] as const) {
    const rows = (await controlCall('sa.pin', { ref: 'lab/gcm', mode }, { socket, timeoutMs: 120_000 })) as { state: string }[];
    steps.push({ step: `${i}:${mode}`, ...(await outboundOseq()), states: rows.map((r) => r.state) });
  }
}
await controlCall('sa.pin', { ref: 'lab/gcm', mode: null }, { socket });
xfrm.close();
writeFileSync(`${process.env.LAB_RESULTS}/cycles.json`, JSON.stringify({ count, steps }));
