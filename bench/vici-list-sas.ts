// Benchmark: list N CHILD_SAs over VICI with our client vs `swanctl --list-sas
// --raw` (strongSwan's libvici), in the same run against the same charon;
// plus in-process decode throughput of the recorded list-sa stream.
//
//   sudo npx tsx bench/vici-list-sas.ts [--children 1000] [--rounds 7]
//
// Where: this host, two charons (5.9.8) in two netns, CHILD_SAs installed by
// kernel-libipsec (userspace ESP; this host's kernel has no ESP). charon's own
// cost per CHILD_SA differs on a real XFRM datapath (list-sas queries the
// kernel for each SA's counters), which the lab run measures; the client side
// is the same. Baseline: swanctl --list-sas --raw, target <= 1.5x its wall time.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ViciClient } from '../src/vici/index.js';
import { charonPair } from '../test/host/vici/support/pair.js';
import { median, numArg, timeProcess } from './lib.js';
import { compileOnceLister, ROOT } from './vici-compile.js';
import { decodeThroughput, recordListSas } from './vici-decode.js';

const N = numArg('children', 1000);
const ROUNDS = numArg('rounds', 7);

async function main(): Promise<void> {
  const loadBefore = loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(`setting up ${N} CHILD_SAs (kernel-libipsec) ...`);
  const pair = await charonPair({
    datapath: 'libipsec',
    children: Array.from({ length: N }, (_, i) => ({ name: `b${i + 1}` })),
    charonExtra: '  threads = 16',
  });
  const client = new ViciClient({ socketPath: pair.a.socketPath, timeoutMs: 120_000 });
  try {
    await client.subscribe('child-updown');
    let up = 0;
    client.on('event', (e) => {
      if (e.name === 'child-updown' && e.message.has('up')) up++;
    });
    const t0 = performance.now();
    // Establish the IKE_SA first, then let every CHILD_SA negotiate without blocking charon's workers.
    await client.initiate({ child: 'b1', timeout: 20_000 });
    for (let i = 2; i <= N; i++) await client.initiate({ child: `b${i}`, timeout: -1 });
    while (up < N) {
      if (performance.now() - t0 > 600_000) throw new Error(`only ${up} of ${N} CHILD_SAs came up`);
      await new Promise((r) => setTimeout(r, 100));
    }
    console.log(`${N} CHILD_SAs up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    const env = { STRONGSWAN_CONF: pair.a.confPath, SWANCTL_DIR: join(pair.a.dir, 'swanctl') };
    const script = compileOnceLister(compiled);
    const rows: Record<string, number[]> = { swanctl: [], swanctlVersion: [], nodeStartup: [], ourProcess: [], ourCall: [], ourCallRaw: [] };
    let counted = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const sw = await timeProcess('swanctl', ['--list-sas', '--raw'], env);
      counted = (sw.stdout.match(/\{name=/g) ?? []).length;
      rows.swanctl?.push(sw.ms);
      rows.swanctlVersion?.push((await timeProcess('swanctl', ['--version'], env)).ms);
      rows.nodeStartup?.push((await timeProcess(process.execPath, ['-e', ''], {})).ms);
      const ours = await timeProcess(process.execPath, [script, pair.a.socketPath], {});
      if (Number(ours.stdout.trim()) !== counted) throw new Error(`our process listed ${ours.stdout.trim()}, swanctl ${counted}`);
      rows.ourProcess?.push(ours.ms);
      let t = performance.now();
      const sas = await client.listSas();
      rows.ourCall?.push(performance.now() - t);
      if (sas.reduce((n, s) => n + s.childSas.length, 0) !== counted) throw new Error('in-process count differs from swanctl');
      t = performance.now();
      await client.streamedCall('list-sas', 'list-sa');
      rows.ourCallRaw?.push(performance.now() - t);
    }

    // Decode throughput of the recorded stream (segments -> packets -> messages, then views).
    const { stream } = await recordListSas(pair.a.socketPath);
    const { decodeMBps, viewsMBps } = decodeThroughput(stream);

    const med = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v)]));
    // The host is shared and its load swings within seconds: besides the
    // ratio of medians, each measure over swanctl's sample of the same round
    // (taken moments apart), and that ratio's median.
    const paired = (key: string): number => median((rows[key] ?? []).map((x, i) => x / (rows.swanctl?.[i] ?? NaN)));
    const vs = (key: string): [string, string] => [`${((med[key] ?? 0) / (med.swanctl ?? 1)).toFixed(2)}x`, `${paired(key).toFixed(2)}x`];
    const table = [
      ['measure', `median of ${ROUNDS} (ms)`, 'vs swanctl', 'paired'],
      ['swanctl --list-sas --raw (process)', med.swanctl?.toFixed(1), '1.00x', '1.00x'],
      ['our client, fresh node process (connect + listSas)', med.ourProcess?.toFixed(1), ...vs('ourProcess')],
      ['  (for scale: swanctl --version, no daemon contact)', med.swanctlVersion?.toFixed(1), '', ''],
      ['  (for scale: node -e "" startup)', med.nodeStartup?.toFixed(1), '', ''],
      ['our client, in-process listSas() (typed views)', med.ourCall?.toFixed(1), ...vs('ourCall')],
      ['our client, in-process streamedCall (messages only)', med.ourCallRaw?.toFixed(1), ...vs('ourCallRaw')],
    ];
    const load = loadavg().map((x) => x.toFixed(1)).join(' ');
    console.log(`\nlist ${counted} CHILD_SAs (1 IKE_SA), stream of ${stream.length} bytes; host kernel ${release()}, load ${loadBefore} -> ${load}\n`);
    for (const row of table) console.log(`${String(row[0]).padEnd(54)} ${String(row[1]).padStart(12)} ${String(row[2]).padStart(10)} ${String(row[3]).padStart(8)}`);
    console.log(`\ndecode throughput (segments+packets+messages): ${decodeMBps.toFixed(0)} MB/s; with IkeSa/ChildSa views: ${viewsMBps.toFixed(0)} MB/s`);

    mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
    writeFileSync(join(ROOT, 'bench', 'results', `vici-list-sas-${counted}.stream`), stream);
    const out = join(ROOT, 'bench', 'results', `vici-list-sas-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(out, JSON.stringify({ children: counted, rounds: ROUNDS, datapath: 'kernel-libipsec (host)', samplesMs: rows, medianMs: med, pairedVsSwanctl: { ourProcess: paired('ourProcess'), ourCall: paired('ourCall'), ourCallRaw: paired('ourCallRaw') }, hostLoad: { before: loadBefore, after: load }, kernel: release(), streamBytes: stream.length, decodeMBps, viewsMBps }, null, 2));
    console.log(`results: ${out}`);
  } finally {
    await client.close();
    await pair.destroy();
    rmSync(compiled, { recursive: true, force: true });
  }
}

const compiled = mkdtempSync(join(tmpdir(), 'vici-bench-'));

await main();
