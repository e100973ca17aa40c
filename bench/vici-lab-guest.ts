// Guest side of bench/vici-lab.ts (runs in the lab VM through lab_node):
// brings up the CHILD_SAs of charon A's generated config (start_action =
// start), then times, round after round and in rotating order against the
// same charon: swanctl --list-sas --raw, our client in a fresh node process,
// our client in-process, and a raw socket that decodes nothing (charon's own
// time, the floor for any client). Writes $LAB_RESULTS/bench.json and the
// recorded list-sas stream $LAB_RESULTS/list-sas.stream.
import { writeFileSync } from 'node:fs';
import { loadavg as osLoadavg } from 'node:os';
import { join } from 'node:path';
import { ViciClient } from '../src/vici/index.js';
import { timeProcess } from './lib.js';
import { childrenIn, decodeThroughput, recordListSas } from './vici-decode.js';

interface Args {
  a: { socket: string; conf: string; swanctlDir: string };
  total: number;
  rounds: number;
  /** the compiled one-shot lister (bench/vici-list-sas-once.ts as plain JS) */
  once: string;
  bringUpTimeoutMs: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as Args;
const results = process.env.LAB_RESULTS ?? '.';
const env = { STRONGSWAN_CONF: args.a.conf, SWANCTL_DIR: args.a.swanctlDir };
const loadavg = (): string => osLoadavg().map((x) => x.toFixed(2)).join(' ');
const log = (msg: string): void => void process.stdout.write(`[guest ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

const client = new ViciClient({ socketPath: args.a.socket, timeoutMs: 1_800_000 });
let up = 0;
client.on('event', (e) => {
  if (e.name === 'child-updown' && e.message.has('up')) up++;
});
await client.subscribe('child-updown');

// Loading A starts every CHILD_SA (start_action = start): charon queues them
// on one IKE_SA per connection, no VICI round trip per CHILD_SA.
const t0 = performance.now();
const load = timeProcess('swanctl', ['--load-all'], env);
let loadMs = 0;
void load.then((r) => (loadMs = r.ms));
let lastReport = 0;
while (up < args.total) {
  if (performance.now() - t0 > args.bringUpTimeoutMs) throw new Error(`only ${up} of ${args.total} CHILD_SAs up after ${args.bringUpTimeoutMs} ms`);
  if (performance.now() - lastReport > 30_000) {
    lastReport = performance.now();
    log(`${up}/${args.total} CHILD_SAs up after ${((performance.now() - t0) / 1000).toFixed(0)} s (load ${loadavg()})`);
  }
  await new Promise((r) => setTimeout(r, 250));
}
await load;
const bringUpMs = performance.now() - t0;
const stats = await client.stats();
log(`${up} CHILD_SAs in ${stats.ikesas.total} IKE_SAs up in ${(bringUpMs / 1000).toFixed(0)} s`);

type Sample = { ms: number; count: number };
let stream: Buffer = Buffer.alloc(0);
const measures: Record<string, () => Promise<Sample>> = {
  swanctl: async () => {
    const r = await timeProcess('swanctl', ['--list-sas', '--raw'], env);
    return { ms: r.ms, count: r.stdout.split('{name=').length - 1 };
  },
  ourProcess: async () => {
    const r = await timeProcess(process.execPath, [args.once, args.a.socket], {});
    return { ms: r.ms, count: Number(r.stdout.trim()) };
  },
  ourCall: async () => {
    const t = performance.now();
    const sas = await client.listSas();
    return { ms: performance.now() - t, count: sas.reduce((n, s) => n + s.childSas.length, 0) };
  },
  rawSocket: async () => {
    const r = await recordListSas(args.a.socket);
    stream = r.stream;
    return { ms: r.ms, count: childrenIn(r.stream) };
  },
  // for scale: a process that asks charon something tiny (each tool), and node's start-up
  swanctlStats: async () => ({ ms: (await timeProcess('swanctl', ['--stats'], env)).ms, count: 0 }),
  ourVersion: async () => ({ ms: (await timeProcess(process.execPath, [args.once, args.a.socket, 'version'], {})).ms, count: 0 }),
  nodeStartup: async () => ({ ms: (await timeProcess(process.execPath, ['-e', ''], {})).ms, count: 0 }),
};
const names = Object.keys(measures);
const samples: Record<string, Sample[]> = Object.fromEntries(names.map((n) => [n, []]));
const loads: string[] = [];

// One warm-up pass (page cache: the first exec of node and swanctl reads them over 9p), then the rounds.
for (const n of names) await measures[n]?.();
for (let r = 0; r < args.rounds; r++) {
  loads.push(loadavg());
  const order = names.map((_, i) => names[(i + r) % names.length] as string);
  for (const n of order) samples[n]?.push(await (measures[n] as () => Promise<Sample>)());
  const line = names.map((n) => `${n} ${(samples[n]?.at(-1)?.ms ?? 0).toFixed(0)}`).join(', ');
  log(`round ${r + 1}/${args.rounds} (load ${loads.at(-1)}): ${line} ms`);
}
loads.push(loadavg());
await client.close();

writeFileSync(join(results, 'list-sas.stream'), stream);
const guestDecode = decodeThroughput(stream, 16 << 20);
writeFileSync(
  join(results, 'bench.json'),
  JSON.stringify({ total: args.total, ikesas: stats.ikesas.total, bringUpMs, loadMs, rounds: args.rounds, samples, loads, streamBytes: stream.length, guestDecode }, null, 2),
);
log(`decode in the guest: ${guestDecode.decodeMBps.toFixed(1)} MB/s (messages), ${guestDecode.viewsMBps.toFixed(1)} MB/s (views)`);
