// Benchmark in the lab (Debian 6.1 kernel under qemu TCG, kernel XFRM
// datapath, strongSwan 5.9.8): list N CHILD_SAs over VICI with our client vs
// `swanctl --list-sas --raw` (strongSwan's libvici), in the same VM run
// against the same charon; plus in-process decode throughput of the recorded
// list-sa stream, in the guest and on this host. Target: <= 1.5x swanctl.
//
//   sudo npx tsx bench/vici-lab.ts [--conns 20] [--children 50] [--rounds 8] [--timeout-min 100]
//
// N = conns x children: CONNS IKE_SAs with CHILDREN CHILD_SAs each
// (test/lab/vici/swanctl-gen.ts), all started by charon at load
// (start_action = start). Expect ~30-45 min with 1000 CHILD_SAs on a shared
// 2-core machine: bringing them up takes ~5 min, and charon needs 15-50 s in
// TCG to answer each listing (it asks the kernel for every SA's counters), so
// a round of the four listings takes ~2 min.
// The guest side is bench/vici-lab-guest.ts.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { runInLab } from '../test/lab/harness/scenario.js';
import { confFiles, swanctlPair } from '../test/lab/vici/swanctl-gen.js';
import { compileOnceLister, ROOT } from './vici-compile.js';
import { median, numArg } from './lib.js';
import { decodeThroughput, type DecodeRate } from './vici-decode.js';

const CONNS = numArg('conns', 20);
const CHILDREN = numArg('children', 50);
const ROUNDS = numArg('rounds', 8);
const TIMEOUT_MS = numArg('timeout-min', 100) * 60_000;
const TOTAL = CONNS * CHILDREN;

interface Sample {
  ms: number;
  count: number;
}
interface GuestBench {
  total: number;
  ikesas: number;
  bringUpMs: number;
  loadMs: number;
  rounds: number;
  samples: Record<string, Sample[]>;
  loads: string[];
  streamBytes: number;
  guestDecode: DecodeRate;
}

// Quiet file logs and a retransmit timeout TCG under load does not hit (see test/lab/vici/pair.sh).
const QUIET = `  retransmit_timeout = 30
  filelog {
    lab {
      default = 0
      knl = 0
      cfg = 0
    }
  }`;

async function main(): Promise<void> {
  const resultsDir = join(ROOT, 'bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  // Inside the checkout (bench/results is git-ignored): the guest sees the checkout at the same path.
  const compiled = mkdtempSync(join(resultsDir, '.vici-lab-once-'));
  try {
    console.log(`compiling the one-shot lister ...`);
    const once = compileOnceLister(compiled);
    const { a, b } = swanctlPair({ conns: CONNS, children: CHILDREN, childExtraA: ['start_action = start'] });
    const guestArgs = JSON.stringify({ total: TOTAL, rounds: ROUNDS, once, bringUpTimeoutMs: Math.max(60_000, TIMEOUT_MS - 30 * 60_000) }).slice(1, -1);
    const script = [
      confFiles('"$LAB_TMP/bench"', { 'a.conf': a, 'b.conf': b }),
      'source "$LAB_PROJECT/test/lab/vici/pair.sh"',
      'lab_modules',
      `BENCH_QUIET='${QUIET}'`,
      // B loaded, A not yet: the guest subscribes first, then loads A (its children start at load)
      'LOAD_A=no charon_pair_up L "$LAB_TMP/bench/a.conf" "$LAB_TMP/bench/b.conf" "$BENCH_QUIET"',
      `lab_node bench/vici-lab-guest.ts "$(vici_args L '${guestArgs}')"`,
      'charon_pair_down L',
    ].join('\n');
    const hostLoad = loadavg().map((x) => x.toFixed(1)).join(' ');
    console.log(`booting the lab: ${TOTAL} CHILD_SAs (${CONNS} IKE_SAs x ${CHILDREN}), ${ROUNDS} rounds; host load ${hostLoad}`);
    const run = await runInLab('vici-bench', script, { timeoutMs: TIMEOUT_MS, onOutput: (c) => process.stdout.write(c) });
    run.expectSuccess();
    const g = run.json<GuestBench>('bench');
    const stream = readFileSync(join(run.runDir, 'results', 'list-sas.stream'));
    const hostDecode = decodeThroughput(stream);

    for (const [name, xs] of Object.entries(g.samples)) {
      for (const s of xs) if (s.count !== 0 && s.count !== TOTAL) throw new Error(`${name} listed ${s.count} CHILD_SAs, not ${TOTAL}`);
    }
    const ms = (name: string): number[] => (g.samples[name] ?? []).map((s) => s.ms);
    const sw = median(ms('swanctl'));
    const rows: [string, string][] = [
      ['swanctl', 'swanctl --list-sas --raw (process)'],
      ['ourProcess', 'our client, fresh node process (connect + listSas)'],
      ['ourCall', 'our client, in-process listSas() (typed views)'],
      ['rawSocket', 'raw socket, no decoding (charon alone: the floor)'],
      ['swanctlStats', 'for scale: swanctl --stats (process, tiny command)'],
      ['ourVersion', 'for scale: our client, fresh process, version()'],
      ['nodeStartup', 'for scale: node -e "" (process start)'],
    ];
    // Contention from other VMs on the host comes and goes over minutes:
    // each measure is also compared with swanctl's sample of the same round
    // (taken within ~2 min of it, in rotating order), and that ratio's median
    // is the paired figure.
    const listing = ['swanctl', 'ourProcess', 'ourCall', 'rawSocket'];
    const paired = (key: string): number => median(ms(key).map((x, i) => x / (ms('swanctl')[i] as number)));
    const table = rows.map(([key, label]) => {
      const xs = ms(key);
      const m = median(xs);
      const vs = listing.includes(key) ? [`${(m / sw).toFixed(2)}x`, `${paired(key).toFixed(2)}x`] : ['', ''];
      return [label, (m / 1000).toFixed(2), (Math.min(...xs) / 1000).toFixed(2), (Math.max(...xs) / 1000).toFixed(2), ...vs];
    });
    const head = ['measure', `median s (${g.rounds} rounds)`, 'min s', 'max s', 'vs swanctl (medians)', 'vs swanctl (paired)'];
    const where = `lab: Debian ${run.output.match(/6\.1\.\d+/)?.[0] ?? '6.1'} under qemu TCG (2 vCPUs), strongSwan 5.9.8, kernel XFRM; ${g.total} CHILD_SAs in ${g.ikesas} IKE_SAs, list-sas stream ${g.streamBytes} bytes; brought up in ${(g.bringUpMs / 1000).toFixed(0)} s; guest load ${g.loads[0]} .. ${g.loads.at(-1)}; host load ${hostLoad}`;
    console.log(`\n${where}\n`);
    for (const r of [head, ...table]) console.log(`${String(r[0]).padEnd(54)} ${String(r[1]).padStart(20)} ${String(r[2]).padStart(8)} ${String(r[3]).padStart(8)} ${String(r[4]).padStart(21)} ${String(r[5]).padStart(20)}`);
    const dec = (d: DecodeRate): string => `${d.decodeMBps.toFixed(1)} MB/s (messages), ${d.viewsMBps.toFixed(1)} MB/s (with IkeSa/ChildSa views)`;
    console.log(`\ndecode throughput of the recorded stream (${g.streamBytes} bytes, ${hostDecode.events} list-sa events, ${hostDecode.children} CHILD_SAs):`);
    console.log(`  in the guest (TCG): ${dec(g.guestDecode)}`);
    console.log(`  on this host:       ${dec(hostDecode)}`);
    const clientMs = (g.streamBytes / (g.guestDecode.viewsMBps * 1e6)) * 1000;
    console.log(`  => our client's own share of one listing in the guest: ~${clientMs.toFixed(0)} ms decoding (+ process start-up when fresh)`);
    console.log('\nmarkdown:\n');
    console.log(`| ${head.join(' | ')} |\n|${head.map(() => '---').join('|')}|`);
    for (const r of table) console.log(`| ${r.join(' | ')} |`);

    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    copyFileSync(join(run.runDir, 'results', 'list-sas.stream'), join(resultsDir, `vici-lab-${TOTAL}.stream`));
    const out = join(resultsDir, `vici-lab-${stamp}.json`);
    writeFileSync(out, JSON.stringify({ where, conns: CONNS, children: CHILDREN, ...g, hostLoad, hostDecode, medianMs: Object.fromEntries(rows.map(([k]) => [k, median(ms(k))])), pairedVsSwanctl: Object.fromEntries(listing.map((k) => [k, paired(k)])), runDir: run.runDir }, null, 2));
    console.log(`\nresults: ${out}`);
  } finally {
    rmSync(compiled, { recursive: true, force: true });
  }
}

await main();
