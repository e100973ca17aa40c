// Benchmark: SA install rate on the lab kernel (Debian 6.1 under qemu TCG),
// same VM, same SAs, three ways — `ip -batch`, a C loop (one NEWSA per
// sendmsg with ack), and our XfrmClient.addStates (batched, up to 256 NEWSA
// per sendmsg; timed as the first call in a fresh process and as a second
// call in the same process) — plus two rows that locate the cost: the C program sending
// 256 NEWSA per sendmsg (what batching alone buys from the kernel), and our
// NetlinkRequester.requestBatch with the same NEWSA messages encoded before
// the clock starts (our socket layer without the XFRM codec).
//
//   npx tsx bench/sa-install.ts [--count 2000] [--rounds 3] [--layout peers|one-peer]
//                               [--runner tsc|tsx] [--cpus 2] [--profile] [--json]
//
// Prepares the lab (ensureLab), compiles bench/c/sa-install-loop.c with gcc
// and our side with tsc (--runner tsc, the default: the shipped form, as in
// dist/) into a scratch directory, boots ONE VM running bench/sa-install.sh,
// and prints a table of medians. --runner tsx runs our side through lab_node
// (tsx) instead: tsx compiles with esbuild keepNames, which wraps every
// function expression in a defineProperty call — measurably slower hot
// paths that the shipped code does not have. --profile also writes a V8 CPU
// profile of each of our timed windows to the run directory. Every run must leave exactly N SAs (SADINFO
// count) and, in the first round, the same SAD (hash of the sorted listing)
// as the other methods, or the bench fails. Results also go to
// bench/results/sa-install-<time>.json. Numbers and how to read them:
// docs/bench.md.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadavg } from 'node:os';
import { projectRoot } from '../test/lab/harness/paths.js';
import { ensureLab } from '../test/lab/harness/setup.js';
import { runVm } from '../test/lab/harness/vm.js';
import { median } from './lib.js';
import { SA_LAYOUTS, type SaLayout } from './sa-install-set.js';

const ROOT = projectRoot;
const METHODS = ['ip', 'c-loop', 'ours', 'ours-warm', 'c-batch', 'ours-raw'] as const;
type Method = (typeof METHODS)[number];
const LABEL: Record<Method, string> = {
  ip: 'ip -batch (iproute2 6.1)',
  'c-loop': 'C loop, 1 NEWSA/sendmsg + ack',
  ours: 'XfrmClient.addStates, cold process',
  'ours-warm': 'XfrmClient.addStates, warm (2nd call)',
  'c-batch': '(reference) C, 256 NEWSA/sendmsg',
  'ours-raw': '(diagnostic) requestBatch, pre-encoded NEWSA',
};
const TARGET_VS_IP = 10;
const TARGET_VS_C = 0.7;

const argv = process.argv.slice(2);
function opt(name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return fallback;
  const v = argv[i + 1];
  if (v === undefined) throw new Error(`--${name} needs a value`);
  return v;
}
function intOpt(name: string, fallback: number, min: number): number {
  const v = Number(opt(name, String(fallback)));
  if (!Number.isInteger(v) || v < min) throw new Error(`--${name} must be an integer >= ${min}`);
  return v;
}
const count = intOpt('count', 2000, 1);
const rounds = intOpt('rounds', 3, 1);
const cpus = intOpt('cpus', 2, 1);
const layout: SaLayout = ((name: string): SaLayout => {
  const l = SA_LAYOUTS.find((x) => x === name);
  if (!l) throw new Error(`--layout must be one of ${SA_LAYOUTS.join(', ')}`);
  return l;
})(opt('layout', 'peers'));
const jsonOut = argv.includes('--json');
const profile = argv.includes('--profile');
const runner = opt('runner', 'tsc');
if (runner !== 'tsc' && runner !== 'tsx') throw new Error('--runner must be tsc or tsx');

interface RunResult {
  method: Method;
  round: number;
  n: number;
  ns: number;
  count: number;
  failed?: number;
  digest: string | null;
}

const log = (m: string): void => void process.stderr.write(`${m}\n`);

/** The scratch directory lives in the checkout: the guest sees it at the same path. */
function compileCLoop(dir: string): string {
  const bin = join(dir, 'sa-install-loop');
  execFileSync('gcc', ['-O2', '-Wall', '-Wextra', '-Werror', '-o', bin, join(ROOT, 'bench', 'c', 'sa-install-loop.c')], { stdio: 'inherit' });
  return bin;
}

/**
 * tsc output of the guest installer and everything it imports (src/ as in
 * dist/), with the project's compiler options. The addon is looked up two
 * levels above src/native/: a copy goes there (a snapshot, so a rebuild of
 * native/ by someone else mid-run cannot pull it away); packages resolve
 * from the checkout's node_modules further up.
 */
function compileOurs(dir: string): string {
  const out = join(dir, 'js');
  const tsconfig = join(dir, 'tsconfig.json');
  writeFileSync(
    tsconfig,
    JSON.stringify({
      extends: join(ROOT, 'tsconfig.base.json'),
      compilerOptions: { rootDir: ROOT, outDir: out, sourceMap: false, noEmit: false },
      files: [join(ROOT, 'bench', 'sa-install-guest.ts')],
    }),
  );
  execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], { stdio: 'inherit' });
  const addon = join('native', 'build', 'Release', 'ipsec_offload.node');
  mkdirSync(join(out, dirname(addon)), { recursive: true });
  copyFileSync(join(ROOT, addon), join(out, addon));
  return join(out, 'bench', 'sa-install-guest.js');
}

function readRuns(runDir: string): RunResult[] {
  const dir = join(runDir, 'results', 'runs');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as RunResult);
}

/** Throws unless every run installed exactly `count` SAs and round 1 left identical SADs. */
function verify(runs: readonly RunResult[], ipStartupNs: readonly number[]): void {
  const problems: string[] = [];
  for (const m of METHODS) {
    const mine = runs.filter((r) => r.method === m);
    if (mine.length !== rounds) problems.push(`${m}: ${mine.length} runs recorded, expected ${rounds}`);
  }
  for (const r of runs) {
    if (r.count !== count) problems.push(`${r.method} round ${r.round}: SADINFO count ${r.count}, expected ${count}`);
    if ((r.failed ?? 0) !== 0) problems.push(`${r.method} round ${r.round}: ${r.failed} requests failed`);
  }
  const digests = new Set(runs.filter((r) => r.round === 1).map((r) => r.digest));
  if (digests.size !== 1 || digests.has(null)) problems.push(`round 1 SADs differ between methods: ${[...digests].join(' ')}`);
  if (ipStartupNs.length === 0) problems.push('no ip startup timing');
  if (problems.length) throw new Error(`sa-install bench: results rejected:\n  ${problems.join('\n  ')}`);
}

function table(rows: { method: Method; ms: number; rate: number; spread: string }[]): string {
  const ip = rows.find((r) => r.method === 'ip')?.rate ?? NaN;
  const c = rows.find((r) => r.method === 'c-loop')?.rate ?? NaN;
  const head = ['method', 'SAs', 'median ms', 'SAs/s', 'vs ip -batch', 'vs C loop', `runs (ms)`];
  const body = rows.map((r) => [LABEL[r.method], String(count), r.ms.toFixed(1), r.rate.toFixed(0), `${(r.rate / ip).toFixed(2)}x`, `${(r.rate / c).toFixed(2)}x`, r.spread]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] as string).length)));
  const line = (cells: string[]): string => `| ${cells.map((x, i) => (i === 0 || i === 6 ? x.padEnd(widths[i] as number) : x.padStart(widths[i] as number))).join(' | ')} |`;
  return [line(head), `|${widths.map((w, i) => (i === 0 || i === 6 ? ':' : '-') + '-'.repeat(w) + (i === 0 || i === 6 ? '-' : ':')).join('|')}|`, ...body.map(line)].join('\n');
}

async function main(): Promise<void> {
  const lab = ensureLab(log);
  mkdirSync(join(ROOT, 'scratch'), { recursive: true });
  const dir = mkdtempSync(join(ROOT, 'scratch', 'sa-install-'));
  let bin: string;
  let ours: string;
  try {
    bin = compileCLoop(dir);
    ours = runner === 'tsc' ? compileOurs(dir) : '';
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  const loadBefore = loadavg();
  const loadSamples: number[] = [loadBefore[0] as number];
  const sampler = setInterval(() => loadSamples.push(loadavg()[0] as number), 5000);
  const script = [
    `BENCH_N=${count}`,
    `BENCH_ROUNDS=${rounds}`,
    `BENCH_LAYOUT=${layout}`,
    `BENCH_CLOOP=${bin}`,
    `BENCH_OURS=${ours}`,
    `BENCH_PROFILE=${profile ? 1 : 0}`,
    readFileSync(join(ROOT, 'bench', 'sa-install.sh'), 'utf8'),
  ].join('\n');
  log(`sa-install: ${count} SAs (${layout}), ${rounds} rounds, one VM with ${cpus} vCPUs (kernel ${lab.abi}); load ${loadBefore.join(' ')}`);
  let vm;
  try {
    vm = await runVm({
      lab,
      name: 'bench-sa-install',
      script,
      cpus,
      // TCG on a shared 2-core host: the JS rows alone can take ~10 ms per SA.
      timeoutMs: 900_000 + rounds * count * 200,
      onOutput: (c) => void process.stderr.write(c),
    });
  } finally {
    clearInterval(sampler);
    rmSync(dir, { recursive: true, force: true });
  }
  const loadAfter = loadavg();
  if (vm.exitCode !== 0) {
    throw new Error(`sa-install bench: VM ${vm.timedOut ? 'timed out' : `exited ${String(vm.exitCode)}`} (run dir ${vm.runDir})\n${vm.output.split('\n').slice(-30).join('\n')}\n${vm.consoleTail}`);
  }
  const runs = readRuns(vm.runDir);
  const ipStartupNs = (JSON.parse(readFileSync(join(vm.runDir, 'results', 'ip-startup.json'), 'utf8')) as { ns: number[] }).ns;
  verify(runs, ipStartupNs);

  const rows = METHODS.map((method) => {
    const times = runs.filter((r) => r.method === method).sort((a, b) => a.round - b.round).map((r) => r.ns / 1e6);
    const ms = median(times);
    return { method, ms, rate: count / (ms / 1000), spread: times.map((t) => t.toFixed(0)).join(' ') };
  });
  const rate = (m: Method): number => rows.find((r) => r.method === m)?.rate ?? NaN;
  const target = (m: Method): { vsIp: number; vsC: number; met: boolean } => {
    const vsIp = rate(m) / rate('ip');
    const vsC = rate(m) / rate('c-loop');
    return { vsIp, vsC, met: vsIp >= TARGET_VS_IP && vsC >= TARGET_VS_C };
  };
  const cold = target('ours');
  const warm = target('ours-warm');
  const startupMs = median(ipStartupNs) / 1e6;
  const report = {
    when: new Date().toISOString(),
    kernel: lab.abi,
    vcpus: cpus,
    count,
    rounds,
    layout,
    // --profile: our rows ran under the V8 sampling profiler (slower than without)
    profile,
    hostLoad: { before: loadBefore, after: loadAfter, max1m: Math.max(...loadSamples, loadAfter[0] as number) },
    ipStartupMs: startupMs,
    rows,
    runs,
    targets: { want: { vsIp: TARGET_VS_IP, vsC: TARGET_VS_C }, cold, warm },
    runDir: vm.runDir,
  };
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  const file = join(ROOT, 'bench', 'results', `sa-install-${report.when.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);

  if (jsonOut) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return;
  }
  const out = [
    '',
    `SA install, ${count} software SAs (ESP transport, rfc4106(gcm(aes)), layout ${layout}), median of ${rounds} rounds, one VM`,
    `lab kernel ${lab.abi} under qemu TCG, ${cpus} vCPUs: TCG timings are for ratios between the rows, not absolute speeds`,
    ...(profile ? ['--profile: our rows ran under the V8 sampling profiler, slower than without it'] : []),
    '',
    table(rows),
    '',
    `ip -batch rows include starting ip (median ${startupMs.toFixed(1)} ms for a one-line batch).`,
    `Every run left exactly ${count} SAs (SADINFO); round 1 SADs identical across methods.`,
    `host load (1/5/15 min): before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')}, 1-min max ${report.hostLoad.max1m} (2-core host; other lab VMs may share it)`,
    ...(
      [
        ['cold', cold],
        ['warm', warm],
      ] as const
    ).map(
      ([k, t]) =>
        `target (${k}) >= ${TARGET_VS_IP}x ip -batch and >= ${TARGET_VS_C}x C loop: ${t.vsIp.toFixed(2)}x and ${t.vsC.toFixed(2)}x, ${t.met ? 'MET' : 'NOT MET'}`,
    ),
    `results: ${file}`,
  ];
  process.stdout.write(`${out.join('\n')}\n`);
}

await main();
