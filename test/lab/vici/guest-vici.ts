// Guest side of vici.test.ts: drives the VICI client against two real charons
// on the lab kernel (Debian 6.1, kernel XFRM datapath) and stores what it saw
// in $LAB_RESULTS/<phase>.json. `ip xfrm state` is the independent witness of
// what charon installed. The host side asserts; this side records (a check
// that fails here is written down, not thrown, unless nothing after it could
// be measured).
//
//   lab_node test/lab/vici/guest-vici.ts updown|rekey|many '<json: see Args>'
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ViciClient,
  parseChildRekey,
  parseChildUpdown,
  parseIkeUpdown,
  parseLog,
  type ChildSa,
  type ViciEvent,
  type ViciMessage,
} from '../../../src/vici/index.js';
import { EventLog } from '../../host/vici/support/events.js';
import { childName, connName } from './swanctl-gen.js';
import { kernelPolicyCount, kernelSas, type KernelSa } from './xfrm-text.js';

interface Side {
  socket: string;
  ns: string;
  conf: string;
  swanctlDir: string;
}
interface Args {
  a: Side;
  b: Side;
  /** many: the generated layout (swanctl-gen.ts) */
  conns?: number;
  children?: number;
  /** many: rekey rounds of the event storm */
  rounds?: number;
}

const [command, json] = process.argv.slice(2);
const args = JSON.parse(json ?? '{}') as Args;
const results = process.env.LAB_RESULTS ?? '.';

function save(name: string, v: unknown): void {
  writeFileSync(join(results, `${name}.json`), JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x), 2));
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const swanctl = (side: Side, argv: string[]): string =>
  execFileSync('swanctl', argv, { env: { ...process.env, STRONGSWAN_CONF: side.conf, SWANCTL_DIR: side.swanctlDir }, encoding: 'utf8', maxBuffer: 1 << 28 });

/** The fields the host compares (no raw message, no counters). */
function view(c: ChildSa | undefined): Record<string, unknown> | null {
  if (!c) return null;
  const { key, name, uniqueid, reqid, state, mode, protocol, encap, esn, spiIn, spiOut, spiInHex, spiOutHex, encrAlg, encrKeysize, localTs, remoteTs, rekeyTime, lifeTime, installTime } = c;
  return { key, name, uniqueid, reqid, state, mode, protocol, encap, esn, spiIn, spiOut, spiInHex, spiOutHex, encrAlg, encrKeysize, localTs, remoteTs, rekeyTime, lifeTime, installTime };
}
const childOf = (m: ViciMessage): ChildSa | undefined => parseChildUpdown(m).children[0];
const isUp = (e: ViciEvent): boolean => e.message.has('up');

/** Polls `done` every stepMs; returns the ms it took, or null at the deadline. */
async function waitUntil(done: () => boolean | Promise<boolean>, timeoutMs: number, stepMs = 500): Promise<number | null> {
  const t0 = Date.now();
  for (;;) {
    if (await done()) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) return null;
    await sleep(stepMs);
  }
}

const hasSpi = (sas: KernelSa[], spi: number | undefined): boolean => sas.some((s) => s.spi === spi);

function clients(): { a: ViciClient; b: ViciClient; logA: EventLog; logB: EventLog } {
  const a = new ViciClient({ socketPath: args.a.socket, timeoutMs: 300_000 });
  const b = new ViciClient({ socketPath: args.b.socket, timeoutMs: 300_000 });
  return { a, b, logA: new EventLog(a), logB: new EventLog(b) };
}

// ---- 1. child-updown with real CHILD_SAs (swanctl/host-a|host-b verbatim) ----
async function updown(): Promise<void> {
  const { a, b, logA, logB } = clients();
  await Promise.all([a.subscribe(['ike-updown', 'child-updown', 'child-rekey']), b.subscribe(['ike-updown', 'child-updown'])]);
  const out: Record<string, unknown> = {};
  // gcm and gcm-esn share their traffic selectors: one at a time. gcm goes
  // down by terminating the CHILD_SA, gcm-esn with its IKE_SA.
  for (const name of ['gcm', 'gcm-esn']) {
    const fromA = logA.events.length;
    const fromB = logB.events.length;
    const init = await a.initiate({ child: name, timeout: 120_000 });
    const upA = childOf((await logA.waitFor('child-updown', (e) => isUp(e) && childOf(e.message)?.name === name, 120_000, fromA)).message);
    // B by SPI, not by name: the responder picks its child config by traffic
    // selectors, and gcm / gcm-esn have the same ones.
    const upB = childOf((await logB.waitFor('child-updown', (e) => isUp(e) && childOf(e.message)?.spiIn === upA?.spiOut, 120_000, fromB)).message);
    const kernelA = kernelSas(args.a.ns);
    const kernelB = kernelSas(args.b.ns);
    const listed = (await a.listSas({ child: name }))[0]?.childSas.find((c) => c.uniqueid === upA?.uniqueid);

    const byIke = name === 'gcm-esn';
    const beforeDown = logA.events.length;
    const term = byIke ? await a.terminate({ ike: 'lab', timeout: 120_000 }) : await a.terminate({ childId: upA?.uniqueid, timeout: 120_000 });
    const downA = childOf((await logA.waitFor('child-updown', (e) => !isUp(e) && childOf(e.message)?.uniqueid === upA?.uniqueid, 120_000, fromA)).message);
    const downB = childOf((await logB.waitFor('child-updown', (e) => !isUp(e) && childOf(e.message)?.uniqueid === upB?.uniqueid, 120_000, fromB)).message);
    // The kernel SAs go when charon destroys the CHILD_SA, just after the event.
    const spis = [upA?.spiIn, upA?.spiOut];
    const goneMs = await waitUntil(() => {
      const [ka, kb] = [kernelSas(args.a.ns), kernelSas(args.b.ns)];
      return spis.every((s) => !hasSpi(ka, s) && !hasSpi(kb, s));
    }, 30_000);
    const ikeDownA = byIke ? await logA.waitFor('ike-updown', (e) => !isUp(e), 60_000, beforeDown) : undefined;
    out[name] = {
      initiate: { success: init.response.string('success'), lastLog: init.logs.at(-1)?.msg },
      upA: view(upA),
      upB: view(upB),
      ikeA: (() => {
        const ike = parseChildUpdown((logA.events.slice(fromA).find((e) => e.name === 'child-updown' && isUp(e)) as ViciEvent).message).ike;
        return { name: ike.name, state: ike.state, localHost: ike.localHost, remoteHost: ike.remoteHost };
      })(),
      kernelA,
      kernelB,
      listed: view(listed),
      terminate: { matches: term.matches, terminated: term.terminated },
      downA: view(downA),
      downB: view(downB),
      ikeDownA: ikeDownA ? { up: parseIkeUpdown(ikeDownA.message).up, name: parseIkeUpdown(ikeDownA.message).ike.name } : null,
      // after the terminate: the order of A's updown events
      downOrderA: logA.events.slice(beforeDown).filter((e) => e.name.endsWith('updown')).map((e) => `${e.name}:${isUp(e) ? 'up' : 'down'}`),
      goneMs,
      kernelAfterA: kernelSas(args.a.ns),
      kernelAfterB: kernelSas(args.b.ns),
    };
  }
  save('updown', out);
  await Promise.all([a.close(), b.close()]);
}

// ---- 2. child-rekey (test/lab/vici/swanctl/rekey-a|b.conf: rekey_time 8 s on A) ----
async function rekey(): Promise<void> {
  const { a, b, logA, logB } = clients();
  await Promise.all([a.subscribe(['child-updown', 'child-rekey']), b.subscribe(['child-updown', 'child-rekey'])]);
  await a.initiate({ child: 'rk', timeout: 120_000 });
  const upEv = await logA.waitFor('child-updown', (e) => isUp(e) && childOf(e.message)?.name === 'rk', 120_000);
  const up = childOf(upEv.message) as ChildSa;
  const upB = childOf((await logB.waitFor('child-updown', (e) => isUp(e) && childOf(e.message)?.name === 'rk', 120_000)).message) as ChildSa;

  const ev1 = await logA.waitFor('child-rekey', (e) => parseChildRekey(e.message).rekeys[0]?.old.uniqueid === up.uniqueid, 180_000);
  // right at the event: what the kernels hold and what list-sas says
  const kernelA = kernelSas(args.a.ns);
  const kernelB = kernelSas(args.b.ns);
  const listedAtRekey = ((await a.listSas({ child: 'rk' }))[0]?.childSas ?? []).map(view);
  const r1 = parseChildRekey(ev1.message);
  const first = r1.rekeys[0];
  const evB = await logB.waitFor('child-rekey', (e) => parseChildRekey(e.message).rekeys[0]?.old.spiIn === up.spiOut, 60_000);
  const rB = parseChildRekey(evB.message);

  // The old CHILD_SA's way out, sampled every 500 ms: list-sas state and its
  // four kernel SAs (A in/out, B in/out); a row whenever something changed.
  const timeline: { ms: number; listed: string | null; aIn: boolean; aOut: boolean; bIn: boolean; bOut: boolean }[] = [];
  const t0 = ev1.receivedAt;
  const goneMs = await waitUntil(async () => {
    const listed = ((await a.listSas({ child: 'rk' }))[0]?.childSas ?? []).find((c) => c.uniqueid === up.uniqueid);
    const [ka, kb] = [kernelSas(args.a.ns), kernelSas(args.b.ns)];
    const row = { ms: Date.now() - t0, listed: listed?.state ?? null, aIn: hasSpi(ka, up.spiIn), aOut: hasSpi(ka, up.spiOut), bIn: hasSpi(kb, up.spiOut), bOut: hasSpi(kb, up.spiIn) };
    const last = timeline.at(-1);
    if (!last || last.listed !== row.listed || last.aIn !== row.aIn || last.aOut !== row.aOut || last.bIn !== row.bIn || last.bOut !== row.bOut) timeline.push(row);
    return row.listed === null && !row.aIn && !row.aOut && !row.bIn && !row.bOut;
  }, 60_000);

  // The next rekey continues the chain from the first one's new CHILD_SA.
  const newId = first?.new.uniqueid;
  const ev2 = await logA.waitFor('child-rekey', (e) => parseChildRekey(e.message).rekeys[0]?.old.uniqueid === newId, 180_000);
  const second = parseChildRekey(ev2.message).rekeys[0];
  const kernelAfter2 = kernelSas(args.a.ns);

  save('rekey', {
    up: view(up),
    upB: view(upB),
    upToRekeyMs: ev1.receivedAt - upEv.receivedAt,
    event: {
      ike: { name: r1.ike.name, uniqueid: r1.ike.uniqueid, state: r1.ike.state, childSas: r1.ike.childSas.length },
      rekeys: r1.rekeys.map((r) => ({ name: r.name, old: view(r.old), new: view(r.new) })),
      topKeys: [...ev1.message.keys()],
    },
    peer: { ike: rB.ike.name, rekeys: rB.rekeys.map((r) => ({ name: r.name, old: view(r.old), new: view(r.new) })) },
    kernelA,
    kernelB,
    listedAtRekey,
    timeline,
    goneMs,
    second: second ? { old: view(second.old), new: view(second.new) } : null,
    kernelAfter2,
    downsForOld: logA.named('child-updown').filter((e) => !isUp(e) && childOf(e.message)?.uniqueid === up.uniqueid).length,
    downsB: logB.named('child-updown').filter((e) => !isUp(e)).length,
  });
  await a.terminate({ ike: 'rk', timeout: 120_000 });
  await Promise.all([a.close(), b.close()]);
}

// ---- 3. list-sas of many CHILD_SAs, 4. an event storm during commands ----

/** CHILD_SAs in `swanctl --list-sas --raw` (libvici's own rendering of the same stream). */
function swanctlChildren(raw: string): { key: string; name: string; uniqueid: number; state: string; spiIn: number; spiOut: number }[] {
  const out = [];
  for (const m of raw.matchAll(/([^\s{}]+) \{name=(\S+) uniqueid=(\d+) reqid=\d+ state=(\S+)[^{}]*? spi-in=([0-9a-f]+) spi-out=([0-9a-f]+)/g)) {
    out.push({ key: m[1] as string, name: m[2] as string, uniqueid: Number(m[3]), state: m[4] as string, spiIn: parseInt(m[5] as string, 16), spiOut: parseInt(m[6] as string, 16) });
  }
  return out;
}

async function many(): Promise<void> {
  const conns = args.conns ?? 3;
  const perConn = args.children ?? 20;
  const total = conns * perConn;
  const connNames = Array.from({ length: conns }, (_, i) => connName(i + 1));
  const names = connNames.flatMap((_, i) => Array.from({ length: perConn }, (_, j) => childName(i + 1, j + 1)));
  const { a, b, logA, logB } = clients();
  await Promise.all([a.subscribe(['ike-updown', 'child-updown', 'child-rekey']), b.subscribe(['child-updown'])]);

  // One IKE_SA per connection first (its first CHILD_SA rides on IKE_AUTH),
  // then every other CHILD_SA without blocking charon's workers.
  const t0 = Date.now();
  await Promise.all(connNames.map((_, i) => a.initiate({ child: childName(i + 1, 1), timeout: 120_000 })));
  await Promise.all(names.filter((n) => !/c1$/.test(n)).map((child) => a.initiate({ child, timeout: -1 })));
  await logA.waitForCount('child-updown', total, 1_200_000);
  const bringUpMs = Date.now() - t0;
  await logB.waitForCount('child-updown', total, 120_000);

  const sas = await a.listSas();
  const streamed = await a.streamedCall('list-sas', 'list-sa');
  const raw = swanctl(args.a, ['--list-sas', '--raw']);
  const kernelA = kernelSas(args.a.ns);
  const kernelB = kernelSas(args.b.ns);
  const ikeOnly = await a.listIkeSas();
  const v2 = await a.listSas({ ike: 'v2' });
  save('many', {
    total,
    conns,
    bringUpMs,
    ikesas: (await a.stats()).ikesas,
    ours: sas.map((ike) => ({
      name: ike.name,
      uniqueid: ike.uniqueid,
      state: ike.state,
      children: ike.childSas.map((c) => ({ key: c.key, name: c.name, uniqueid: c.uniqueid, state: c.state, spiIn: c.spiIn, spiOut: c.spiOut, localTs: c.localTs, mode: c.mode })),
    })),
    streamedEvents: streamed.events.length,
    swanctl: swanctlChildren(raw),
    swanctlIkeSas: [...raw.matchAll(/^list-sa event \{(\S+) \{uniqueid=(\d+)/gm)].map((m) => m[1]),
    kernelA: kernelA.map(({ src, dst, spi, mode, sel }) => ({ src, dst, spi, mode, sel })),
    kernelB: kernelB.map(({ src, dst, spi, mode, sel }) => ({ src, dst, spi, mode, sel })),
    policiesA: kernelPolicyCount(args.a.ns),
    ikeOnly: ikeOnly.map((ike) => ({ name: ike.name, children: ike.childSas.length })),
    v2: v2.map((ike) => ({ name: ike.name, children: ike.childSas.map((c) => c.name) })),
  });

  await storm(a, logA, connNames, names);
  await Promise.all([a.close(), b.close()]);
}

async function storm(a: ViciClient, logA: EventLog, connNames: string[], names: string[]): Promise<void> {
  const total = names.length;
  const rounds = args.rounds ?? 3;
  const installed = async (): Promise<Map<string, number>> =>
    new Map((await a.listSas()).flatMap((ike) => ike.childSas).filter((c) => c.state === 'INSTALLED').map((c) => [c.name, c.uniqueid]));
  // Where each CHILD_SA stands now; every child-rekey moves it from old to new.
  const current = await installed();
  const startIds = new Map(current);
  const from = logA.events.length;

  await a.subscribe('log'); // several log lines per rekey on top of the child-rekey events
  const startRekeys = logA.named('child-rekey').length;
  const stormClient = new ViciClient({ socketPath: args.a.socket, timeoutMs: 300_000 });
  const t0 = Date.now();
  let running = true;
  const rekeyMatches: number[] = [];
  const roundMs: number[] = [];
  const stormDone = (async () => {
    for (let r = 0; r < rounds; r++) {
      // a second client asks for a rekey of every CHILD_SA at once; the next
      // round starts when this one's child-rekey events are all in (a
      // CHILD_SA still rekeying would not rekey again)
      const res = await Promise.all(names.map((child) => stormClient.rekey({ child })));
      rekeyMatches.push(res.filter((x) => (x.matches ?? 0) >= 1).length);
      await logA.waitForCount('child-rekey', startRekeys + (r + 1) * total, 900_000);
      roundMs.push(Date.now() - t0);
    }
  })().finally(() => (running = false));

  // Meanwhile, on the first client's command socket: batches of different
  // commands at once, each reply checked for being its own.
  let batches = 0;
  let commands = 0;
  const mismatches: string[] = [];
  const errors: string[] = [];
  const check = (ok: boolean, what: string): void => {
    if (!ok && mismatches.length < 20) mismatches.push(what);
  };
  const sortedConns = [...connNames].sort();
  while (running) {
    try {
      const [v, s, sas, conns, lst, one] = await Promise.all([
        a.version(),
        a.stats(),
        a.listSas({ noblock: true }),
        a.getConns(),
        a.streamedCall('list-conns', 'list-conn'),
        a.listSas({ ike: 'v1', child: 'v1c1' }),
      ]);
      commands += 6;
      check(v.daemon === 'charon' && /^5\./.test(v.version), `version: ${v.daemon} ${v.version}`);
      check(s.workers.total > 0 && s.ikesas.total === connNames.length, `stats: workers ${s.workers.total}, ikesas ${s.ikesas.total}`);
      check(sas.every((ike) => connNames.includes(ike.name)), `list-sas: ${sas.map((i) => i.name).join(',')}`);
      check(JSON.stringify([...conns].sort()) === JSON.stringify(sortedConns), `get-conns: ${conns.join(',')}`);
      check(JSON.stringify(lst.events.flatMap((m) => [...m.keys()]).sort()) === JSON.stringify(sortedConns), 'list-conns events');
      check(one.length === 1 && one[0]?.name === 'v1' && (one[0]?.childSas ?? []).every((c) => c.name === 'v1c1'), `list-sas v1/v1c1: ${one.map((i) => i.name).join(',')}`);
      batches++;
    } catch (e) {
      if (errors.length < 20) errors.push(`${(e as Error).name}: ${(e as Error).message}`);
    }
  }
  let stormError: string | null = null;
  await stormDone.catch((e: unknown) => (stormError = String(e)));
  const stormMs = Date.now() - t0;
  await stormClient.close();

  const during = logA.events.slice(from);
  const rekeyEvents = during.filter((e) => e.name === 'child-rekey');
  const logEvents = during.filter((e) => e.name === 'log').map((e) => parseLog(e.message));
  // Every rekey's new SPIs in one of charon's log lines ("... established with SPIs <in>_i <out>_o").
  const logged = new Set<string>();
  for (const l of logEvents) {
    const m = /established with SPIs ([0-9a-f]{8})_i ([0-9a-f]{8})_o/.exec(l.msg);
    if (m) logged.add(`${m[1]}/${m[2]}`);
  }
  let rekeysWithoutLog = 0;
  for (const e of rekeyEvents) for (const r of parseChildRekey(e.message).rekeys) if (!logged.has(`${r.new.spiInHex}/${r.new.spiOutHex}`)) rekeysWithoutLog++;

  // No event lost: following the child-rekey chain of every CHILD_SA ends at
  // the one charon lists as INSTALLED (polled: the last rekeys may still be
  // completing), and the kernel holds exactly those SAs once the rekeyed
  // inbound SAs are gone (charon.delete_rekeyed_delay).
  for (const e of rekeyEvents) for (const r of parseChildRekey(e.message).rekeys) if (current.get(r.name) === r.old.uniqueid) current.set(r.name, r.new.uniqueid);
  let finalInstalled = await installed();
  const chainMs = await waitUntil(async () => {
    finalInstalled = await installed();
    return finalInstalled.size === total && [...current].every(([n, id]) => finalInstalled.get(n) === id);
  }, 60_000);
  const spisWanted = new Set((await a.listSas()).flatMap((ike) => ike.childSas).filter((c) => c.state === 'INSTALLED').flatMap((c) => [c.spiIn, c.spiOut]));
  let kernel = kernelSas(args.a.ns);
  const kernelMs = await waitUntil(() => {
    kernel = kernelSas(args.a.ns);
    return kernel.length === 2 * total;
  }, 60_000, 1000);

  save('storm', {
    total,
    rounds,
    stormMs,
    roundMs,
    rekeyMatches,
    stormError,
    batches,
    commands,
    mismatches,
    errors,
    events: { total: during.length, childRekey: rekeyEvents.length, log: logEvents.length, rekeyPairs: rekeyEvents.reduce((n, e) => n + parseChildRekey(e.message).rekeys.length, 0) },
    rekeysWithoutLog,
    logSample: logEvents.slice(0, 12).map((l) => `${l.group}/${l.level} ${l.ikesaName ?? '-'}: ${l.msg}`),
    chain: {
      moved: [...current].filter(([n, id]) => startIds.get(n) !== id).length,
      matchesInstalled: [...current].filter(([n, id]) => finalInstalled.get(n) === id).length,
      installed: finalInstalled.size,
      chainMs,
    },
    kernel: { count: kernel.length, kernelMs, missing: [...spisWanted].filter((s) => !hasSpi(kernel, s)).length, extra: kernel.filter((s) => !spisWanted.has(s.spi)).length },
  });
}

switch (command) {
  case 'updown':
    await updown();
    break;
  case 'rekey':
    await rekey();
    break;
  case 'many':
    await many();
    break;
  default:
    throw new Error(`usage: guest-vici.ts updown|rekey|many '<json>' (got ${command})`);
}
