// Benchmark (issue 5): child-updown -> offload verified, per CHILD_SA, for 200
// CHILD_SAs that come up at once, against one raw NEWSA(offload)+GETSA round
// trip measured in the same VM run; plus the swap-gap distribution.
//   npx tsx bench/offload-latency.ts [--children N]
// The lab is qemu TCG: absolute numbers are slow; the ratio to the raw round
// trip is what carries over.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureLab } from '../test/lab/harness/setup.js';
import { runVm } from '../test/lab/harness/vm.js';

const n = Number(process.argv[process.argv.indexOf('--children') + 1] || 200) || 200;
const lab = ensureLab((m) => console.error(m));
const script = `export BENCH_CHILDREN=${n}\n${readFileSync(new URL('./offload-latency.sh', import.meta.url), 'utf8')}`;
console.error(`booting the lab (${lab.abi}); bringing up ${n} CHILD_SAs takes minutes under TCG`);
const r = await runVm({ lab, name: 'bench-offload-latency', script, timeoutMs: 3_600_000 });
if (r.exitCode !== 0) {
  console.error(r.output.split('\n').slice(-30).join('\n'));
  console.error(`bench failed (run dir ${r.runDir})`);
  process.exit(1);
}
const read = <T>(f: string): T => JSON.parse(readFileSync(join(r.runDir, 'results', f), 'utf8')) as T;
const ups = read<Record<string, number>>('ups.json');
const raw = read<number[]>('raw.json');
const log = readFileSync(join(r.runDir, 'results', 'daemon-log.txt'), 'utf8')
  .split('\n')
  .filter((l) => l.startsWith('{'))
  .map((l) => JSON.parse(l) as { event: string; time: string; uniqueid?: number; gapUs?: number });

const verified = new Map<number, number>();
for (const e of log) {
  if (e.event !== 'sa.offloaded' || e.uniqueid === undefined) continue;
  verified.set(e.uniqueid, Math.max(verified.get(e.uniqueid) ?? 0, Date.parse(e.time)));
}
const latencies = Object.entries(ups)
  .map(([id, up]) => (verified.has(Number(id)) ? (verified.get(Number(id)) as number) - up : NaN))
  .filter((x) => Number.isFinite(x));
const gaps = log.filter((e) => e.event === 'sa.swap' && e.gapUs !== undefined).map((e) => (e.gapUs as number) / 1000);

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};
const row = (name: string, xs: number[], unit = 'ms'): string =>
  `| ${name} | ${xs.length} | ${pct(xs, 50).toFixed(1)} ${unit} | ${pct(xs, 99).toFixed(1)} ${unit} | ${Math.max(...xs).toFixed(1)} ${unit} |`;
const rawMs = raw.map((u) => u / 1000);
console.log(`\nlab kernel ${lab.abi}, qemu TCG; ${n} CHILD_SAs up at once, 2 SAs each, 13 netdevsim ports\n`);
console.log('| measure | n | p50 | p99 | max |');
console.log('|---|---|---|---|---|');
console.log(row('child-updown -> both SAs offloaded and verified (per CHILD_SA)', latencies));
console.log(row('raw NEWSA (offload) + GETSA round trip, same VM (baseline)', rawMs));
console.log(row('swap gap: DELSA sent -> NEWSA acked (no SA in the kernel)', gaps));
console.log(`\np50 latency / p50 raw round trip: ${(pct(latencies, 50) / pct(rawMs, 50)).toFixed(1)}x  (each CHILD_SA needs 2 swaps = GETSA, DELSA(+notification), NEWSA, GETSA each, and queues behind the others)`);
if (latencies.length < n) console.log(`note: ${n - latencies.length} CHILD_SAs had no verified offload in the log`);
