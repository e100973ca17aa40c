// Guest side of bench/sa-install.ts (run by bench/sa-install.sh in the lab VM).
//
//   sa-install-guest.ts prepare N LAYOUT DIR
//       writes DIR/ip.batch and DIR/sas.spec (the same SAs for ip and the C program)
//   sa-install-guest.ts install N LAYOUT COLD_NETNS WARM_NETNS [PROFILE_DIR]
//       XfrmClient.addStates of the N SAs, twice in this one process: first
//       into COLD_NETNS (first use of the code in a fresh node: bytecode
//       compilation and JIT warm-up are part of it), then into WARM_NETNS (a
//       second, equally fresh netns: the steady state of a running daemon)
//   sa-install-guest.ts install-raw N LAYOUT NETNS
//       diagnostic: the same NEWSA messages encoded BEFORE the clock starts,
//       then NetlinkRequester.requestBatch (after a warm-up of the socket
//       path with GETSADINFO) — our socket layer without the XFRM codec
//
// Prints one JSON line per timed run: {"method","netns","n","ok","failed",
// "firstError","ns"}. ns is the wall clock around the one call only: the
// XfrmState objects (keys in SecretBytes) and the socket (opened in the
// netns, kernel features probed) exist before the clock starts, as in a
// running daemon. Encoding the requests is inside, as the C loop's message
// building is. With PROFILE_DIR, a V8 CPU profile of each timed window
// (install only) is written there as <method>.cpuprofile.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { join } from 'node:path';
import { NETLINK_XFRM, wipeOutgoing, type OutgoingMessage } from '../src/netlink/message.js';
import { NetlinkRequester, type BatchResult } from '../src/netlink/requester.js';
import { XfrmClient, type XfrmBatchResult } from '../src/xfrm/client.js';
import { probeKernelFeatures } from '../src/xfrm/features.js';
import { encodeXfrm, xfrmDescriber } from '../src/xfrm/messages.js';
import { stateToWire, wipeStateKeys, type XfrmState } from '../src/xfrm/state.js';
import { SA_LAYOUTS, ipBatchLine, saSpecs, specLine, toState, type SaLayout } from './sa-install-set.js';

/** Generous deadline: TCG, and a kernel that may be loading crypto modules. */
const TIMEOUT_MS = 300_000;

function layoutArg(v: string | undefined): SaLayout {
  const l = SA_LAYOUTS.find((x) => x === v);
  if (!l) throw new Error(`layout must be one of ${SA_LAYOUTS.join(', ')}, not ${String(v)}`);
  return l;
}

function countArg(v: string | undefined): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`SA count must be a positive integer, not ${String(v)}`);
  return n;
}

/** Wall clock of `run`, optionally under the V8 sampling profiler. */
async function timed<T>(run: () => Promise<T>, profileFile: string | undefined): Promise<{ value: T; ns: number }> {
  const session = profileFile ? new Session() : undefined;
  if (session) {
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: 500 });
    await session.post('Profiler.start');
  }
  const t0 = process.hrtime.bigint();
  const value = await run();
  const ns = Number(process.hrtime.bigint() - t0);
  if (session && profileFile) {
    writeFileSync(profileFile, JSON.stringify((await session.post('Profiler.stop')).profile));
    session.disconnect();
  }
  return { value, ns };
}

function report(method: string, netns: string, results: readonly (XfrmBatchResult | BatchResult)[], ns: number): boolean {
  const failures = results.filter((r) => !r.ok);
  const first = failures[0];
  const line = {
    method,
    netns,
    n: results.length,
    ok: results.length - failures.length,
    failed: failures.length,
    firstError: first && !first.ok ? first.error.message : null,
    ns,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
  return failures.length === 0;
}

const wipeStates = (states: readonly XfrmState[]): void => states.forEach(wipeStateKeys);

async function install(n: number, layout: SaLayout, coldNetns: string, warmNetns: string, profileDir: string | undefined): Promise<boolean> {
  let good = true;
  for (const [method, netns] of [
    ['ours', coldNetns],
    ['ours-warm', warmNetns],
  ] as const) {
    const states = saSpecs(n, layout).map(toState);
    const client = await XfrmClient.open({ netns: { name: netns }, timeoutMs: TIMEOUT_MS });
    try {
      const { value, ns } = await timed(() => client.addStates(states), profileDir && join(profileDir, `${method}.cpuprofile`));
      good = report(method, netns, value, ns) && good;
    } finally {
      client.close();
      wipeStates(states);
    }
  }
  return good;
}

async function installRaw(n: number, layout: SaLayout, netns: string): Promise<boolean> {
  const requester = NetlinkRequester.open(NETLINK_XFRM, { netns: { name: netns } });
  const states = saSpecs(n, layout).map(toState);
  let messages: OutgoingMessage[] = [];
  try {
    const features = await probeKernelFeatures(requester);
    messages = states.map((s) => encodeXfrm('NEWSA', stateToWire(s), { features }));
    // Warm the request/ack path (same code, no SAs): GETSADINFO, n times.
    const sadinfo = encodeXfrm('GETSADINFO', { header: { flags: 0xffffffff } });
    await requester.requestBatch(Array.from({ length: n }, () => sadinfo), { timeoutMs: TIMEOUT_MS });
    // The wipe is inside the clock, as addStates has it: the rows compare like with like.
    const { value, ns } = await timed(async () => {
      try {
        return await requester.requestBatch(messages, { describe: xfrmDescriber, timeoutMs: TIMEOUT_MS });
      } finally {
        for (const m of messages) wipeOutgoing(m);
      }
    }, undefined);
    return report('ours-raw', netns, value, ns);
  } finally {
    requester.close();
    for (const m of messages) wipeOutgoing(m);
    wipeStates(states);
  }
}

const usage = 'usage: sa-install-guest.ts prepare N LAYOUT DIR | install N LAYOUT COLD_NETNS WARM_NETNS [PROFILE_DIR] | install-raw N LAYOUT NETNS';
const [cmd, n, layout, a, b, c] = process.argv.slice(2);
if (cmd === 'prepare' && a) {
  const specs = saSpecs(countArg(n), layoutArg(layout));
  writeFileSync(join(a, 'ip.batch'), `${specs.map(ipBatchLine).join('\n')}\n`);
  writeFileSync(join(a, 'sas.spec'), `${specs.map(specLine).join('\n')}\n`);
} else if (cmd === 'install' && a && b) {
  if (!(await install(countArg(n), layoutArg(layout), a, b, c))) process.exitCode = 1;
} else if (cmd === 'install-raw' && a) {
  if (!(await installRaw(countArg(n), layoutArg(layout), a))) process.exitCode = 1;
} else {
  throw new Error(usage);
}
