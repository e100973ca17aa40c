// Guest side of xfrm.test.ts: drives XfrmClient and XfrmMonitor on the lab
// kernel (Debian 6.1 + netdevsim) and stores what it saw in
// $LAB_RESULTS/<name>.json for the host-side assertions. It also records the
// kernel's raw answers and notifications (ALG_AEAD, OFFLOAD_DEV,
// REPLAY_ESN_VAL, LTIME_VAL...) as unit-test fixtures in $LAB_RESULTS/fixtures/.
//
//   lab_node test/lab/xfrm/guest-xfrm.ts NSIM_DEV VETH_DEV
//
// Network set up by xfrm.sh: NSIM_DEV 10.0.0.1/24 (10.0.0.2 a permanent
// neighbour), VETH_DEV 10.9.0.1/24 to a peer namespace at 10.9.0.2.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { SecretBytes } from '../../../src/netlink/codec/secret.js';
import { NetlinkListener } from '../../../src/netlink/listener.js';
import { NETLINK_XFRM, NLM_F_REPLACE, encodeMessage, type NetlinkMessage } from '../../../src/netlink/message.js';
import { NetlinkRequester } from '../../../src/netlink/requester.js';
import { aeIdToWire } from '../../../src/xfrm/ae.js';
import { XfrmClient } from '../../../src/xfrm/client.js';
import { XFRMNLGRP } from '../../../src/xfrm/constants.js';
import type { XfrmEvent } from '../../../src/xfrm/events.js';
import { featuresFromVersion } from '../../../src/xfrm/features.js';
import { encodeXfrm, xfrmDescriber } from '../../../src/xfrm/messages.js';
import { selector } from '../../../src/xfrm/model.js';
import { XfrmMonitor } from '../../../src/xfrm/monitor.js';
import { makePolicy, template } from '../../../src/xfrm/policy.js';
import { stateIdOf } from '../../../src/xfrm/state-requests.js';
import { makeState, type XfrmEsn, type XfrmState, type XfrmStateInput } from '../../../src/xfrm/state.js';

const results = process.env.LAB_RESULTS ?? '.';
const [nsimDev, vethDev] = process.argv.slice(2);
if (!nsimDev || !vethDev) throw new Error('usage: guest-xfrm.ts NSIM_DEV VETH_DEV');

const json = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x), 2);
function save(name: string, v: unknown): void {
  writeFileSync(join(results, `${name}.json`), json(v));
}
const ifindex = (dev: string): number => Number(readFileSync(`/sys/class/net/${dev}/ifindex`, 'utf8'));
const ping = (dst: string, count: number): void => {
  try {
    execFileSync('ping', ['-q', '-c', String(count), '-i', '0.2', '-W', '1', dst], { stdio: 'ignore' });
  } catch {
    // nobody answers ESP here: the packets going out are what counts
  }
};
/** netdevsim's SA table (debugfs; read whole, the file cannot seek). */
const nsimIpsec = (): string => readFileSync('/sys/kernel/debug/netdevsim/netdevsim1/ports/0/ipsec', 'utf8');
async function outcome(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
    return { ok: true };
  } catch (e) {
    const x = e as Record<string, unknown>;
    return { ok: false, name: x.name, code: x.code, errno: x.errno, extack: x.extack, attribute: x.attribute, message: x.message };
  }
}
/** Without keys and bigints: what the host asserts on. */
const view = (s: XfrmState) => ({ ...s, aead: s.aead && { name: s.aead.name, icvBits: s.aead.icvBits, keyBits: s.aead.keyBits } });

// A fixed test key (rfc4106: 16 key bytes + 4 salt); these SAs protect nothing.
const KEY_HEX = '0102030405060708090a0b0c0d0e0f1011121314';
const aead = () => ({ name: 'rfc4106(gcm(aes))', key: SecretBytes.copyOf(Buffer.from(KEY_HEX, 'hex')), icvBits: 128 });
const sa = (spi: number, more: Partial<XfrmStateInput> = {}): XfrmState =>
  makeState({ saddr: '10.0.0.1', daddr: '10.0.0.2', spi, proto: 'esp', mode: 'transport', reqid: 1, aead: aead(), ...more });
const esn = (replayWindow: number): XfrmEsn => ({ oseq: 0, seq: 0, oseqHi: 0, seqHi: 0, replayWindow, bmpLen: Math.ceil(replayWindow / 32), bitmap: [] });

const nsim = ifindex(nsimDev);
const veth = ifindex(vethDev);
// Generous deadline: under TCG the first GCM SA loads esp4/aead modules and runs the crypto
// self-tests inside sendmsg, which can block for seconds (see the report on requester deadlines).
const client = await XfrmClient.open({ timeoutMs: 60_000 });
const monitor = XfrmMonitor.open({ keepAlive: false });
const events: XfrmEvent[] = [];
monitor.on('event', (e) => events.push(e));

// Raw kernel bytes for the unit-test fixtures (a separate socket: XfrmMonitor zeroes what it decoded).
const raw = NetlinkListener.open(NETLINK_XFRM, [XFRMNLGRP.sa, XFRMNLGRP.aevents, XFRMNLGRP.expire, XFRMNLGRP.policy]);
raw.keepAlive(false);
const notifications: NetlinkMessage[] = [];
raw.on('message', (m) => notifications.push({ ...m, payload: Buffer.from(m.payload) }));
const rawRequester = NetlinkRequester.open(NETLINK_XFRM);
const fixtureDir = join(results, 'fixtures');
mkdirSync(fixtureDir, { recursive: true });
const ipVersion = execFileSync('ip', ['-V'], { encoding: 'utf8' }).trim();
function fixture(name: string, description: string, how: string, msgs: NetlinkMessage[], expectations: unknown[]): void {
  writeFileSync(
    join(fixtureDir, `${name}.json`),
    `${json({
      name,
      description,
      captured: {
        command: 'lab_node test/lab/xfrm/guest-xfrm.ts NSIM_DEV VETH_DEV (run by test/lab/xfrm/xfrm.sh)',
        how,
        kernel: release(),
        iproute2: ipVersion,
        date: new Date().toISOString().slice(0, 10),
        capturedBy: 'test/lab/xfrm/capture-fixtures.ts',
      },
      datagrams: msgs.map((m) => ({ direction: 'received', hex: encodeMessage({ type: m.type, flags: m.flags, payload: m.payload }, m.seq, m.pid).toString('hex') })),
      expect: expectations,
    })}\n`,
  );
}

try {
  save('features', client.features);

  // ---- A. software, offloaded (out and in), silent fallback on a veth ------------------------
  await client.addState(sa(0x1000));
  await client.addState(sa(0x1001, { offload: { ifindex: nsim, dir: 'out', packet: false } }));
  await client.addState(sa(0x1002, { saddr: '10.0.0.2', daddr: '10.0.0.1', offload: { ifindex: nsim, dir: 'in', packet: false } }));
  await client.addState(sa(0x1003, { saddr: '10.9.0.1', daddr: '10.9.0.2', offload: { ifindex: veth, dir: 'out', packet: false } }));
  await client.addState(sa(0x1004, { flags: ['esn'], esn: esn(128) }));
  await client.addState(
    sa(0x1005, {
      mode: 'tunnel',
      aead: undefined,
      auth: { name: 'hmac(sha256)', key: SecretBytes.copyOf(Buffer.alloc(32, 0xab)), truncBits: 128 },
      crypt: { name: 'cbc(aes)', key: SecretBytes.copyOf(Buffer.alloc(16, 0xcd)) },
      encap: { type: 'espinudp', sport: 4500, dport: 4500, oa: '0.0.0.0' },
      mark: { value: 0x10, mask: 0xff },
      ifId: 7,
      setMark: { value: 0x20, mask: 0xf0 },
      replayWindow: 32,
    }),
  );
  const readback: Record<string, unknown> = {};
  for (const spi of [0x1000, 0x1001, 0x1002, 0x1003, 0x1004, 0x1005]) {
    const s = sa(spi);
    const id = spi === 0x1002 ? { ...stateIdOf(s), daddr: '10.0.0.1' } : spi === 0x1003 ? { ...stateIdOf(s), daddr: '10.9.0.2' } : spi === 0x1005 ? { ...stateIdOf(s), mark: { value: 0x10, mask: 0xff } } : stateIdOf(s);
    readback[spi.toString(16)] = view(await client.getState(id));
  }
  save('readback', { nsim, veth, states: readback });
  const dump = await rawRequester.dump(encodeXfrm('GETSA_DUMP', {}), { describe: xfrmDescriber });
  fixture('lab-state-dump', 'GETSA dump: software, crypto-offloaded out/in (netdevsim), veth fallback, ESN window 128, auth-trunc+enc with encap/mark/if_id/output-mark', 'NetlinkRequester GETSA dump, raw replies', dump, [
    { kind: 'newsa', match: { state: { spi: 0x1001, offload: { ifindex: nsim, dir: 'out', packet: false }, aead: { name: 'rfc4106(gcm(aes))', keyBits: 160, icvBits: 128 } } } },
    { kind: 'newsa', match: { state: { spi: 0x1002, daddr: '10.0.0.1', offload: { ifindex: nsim, dir: 'in' } } } },
    { kind: 'newsa', match: { state: { spi: 0x1004, flags: ['esn'], esn: { replayWindow: 128, bmpLen: 4, bitmap: [0, 0, 0, 0] } } } },
    { kind: 'newsa', match: { state: { spi: 0x1005, mode: 'tunnel', auth: { name: 'hmac(sha256)', truncBits: 128 }, crypt: { name: 'cbc(aes)' }, encap: { type: 'espinudp', sport: 4500 }, mark: { value: 16, mask: 255 }, ifId: 7, setMark: { value: 32, mask: 240 } } } },
  ]);

  // ---- B. refusals -------------------------------------------------------------------------------
  const refusals = {
    esnOffload: await outcome(client.addState(sa(0x2000, { flags: ['esn'], esn: esn(128), offload: { ifindex: nsim, dir: 'out', packet: false } }))),
    esnSoftware: await outcome(client.addState(sa(0x2001, { flags: ['esn'], esn: esn(128) }))),
    packetRefusedByUs: await outcome(client.addState(sa(0x2002, { offload: { ifindex: nsim, dir: 'out', packet: true } }))),
    saDirRefusedByUs: await outcome(client.addState(sa(0x2003, { saDir: 'out' }))),
    packetToKernel: await (async () => {
      // what the kernel itself says when told a 6.2 feature (we normally refuse first)
      const pretend = await XfrmClient.open({ features: featuresFromVersion('6.2.0'), timeoutMs: 60_000 });
      try {
        return await outcome(pretend.addState(sa(0x2004, { offload: { ifindex: nsim, dir: 'out', packet: true } })));
      } finally {
        pretend.close();
      }
    })(),
    shortEsnNewae: await outcome(
      // NEWAE with the 24-byte ESN form NEWSA accepts: the client never sends this
      rawRequester.request(
        encodeXfrm('NEWAE', {
          ...aeIdToWire({ daddr: '10.0.0.2', spi: 0x2001, proto: 'esp' }),
          attrs: { replayEsnVal: { bmpLen: 4, replayWindow: 128, oseq: 9 } },
          flags: NLM_F_REPLACE,
        }),
        { describe: xfrmDescriber },
      ),
    ),
  };
  await client.flushStates();
  const fill = await client.addStates(Array.from({ length: 34 }, (_, i) => sa(0x5000 + i, { offload: { ifindex: nsim, dir: 'out', packet: false } })));
  const failed = fill.map((r, i) => ({ i, r })).filter((x) => !x.r.ok);
  save('refusals', {
    ...refusals,
    fill: {
      accepted: fill.filter((r) => r.ok).length,
      failures: failed.map(({ i, r }) => ({ i, ...(r.ok ? {} : { name: r.error.name, code: (r.error as { code?: string }).code, extack: (r.error as { extack?: string }).extack }) })),
      offloadedAfter: (await client.dumpStates()).filter((s) => s.offload).length,
    },
  });

  // ---- C. promote and demote with replay and counter continuity -------------------------------------
  await client.flushStates();
  await client.addPolicy(
    makePolicy({
      selector: selector('10.0.0.1/32', '10.0.0.2/32'),
      dir: 'out',
      templates: [template({ saddr: '10.0.0.1', daddr: '10.0.0.2', proto: 'esp', mode: 'transport', reqid: 1 })],
    }),
  );
  const id = stateIdOf(sa(0x3000));
  await client.addState(sa(0x3000));
  ping('10.0.0.2', 3);
  const before = await client.getState(id);
  const t0 = performance.now();
  const final = await client.deleteState(id);
  const tDeleted = performance.now();
  await client.addState({ ...final, offload: { ifindex: nsim, dir: 'out', packet: false } });
  const tAdded = performance.now();
  const promoted = await client.getState(id);
  const ipPromoted = execFileSync('ip', ['xfrm', 'state', 'list'], { encoding: 'utf8' });
  ping('10.0.0.2', 2);
  const promotedLater = await client.getState(id);
  const nsimTable = nsimIpsec();
  const final2 = await client.deleteState(id);
  const { offload: _dropped, ...software } = final2;
  await client.addState(software);
  const demoted = await client.getState(id);
  save('swap', {
    before: view(before),
    final: view(final),
    promoted: view(promoted),
    promotedLater: view(promotedLater),
    final2: view(final2),
    demoted: view(demoted),
    ipPromoted,
    nsimTable,
    nsimTableDemoted: nsimIpsec(),
    gapMs: { delete: tDeleted - t0, add: tAdded - tDeleted, total: tAdded - t0 },
  });

  // ---- D. ESN: GETAE, NEWAE, a 32-bit wrap, and the final state from DELSA ---------------------------
  await client.flushStates();
  const eid = stateIdOf(sa(0x4000));
  await client.addState(sa(0x4000, { flags: ['esn'], esn: esn(128) }));
  ping('10.0.0.2', 4);
  const ae1 = await client.getAe(eid, { thresholds: true });
  const aeReply = await rawRequester.request(encodeXfrm('GETAE', aeIdToWire(eid, ['rthr', 'ethr'])), { describe: xfrmDescriber });
  fixture('lab-getae-esn', 'GETAE of an outbound ESN SA after 4 packets: full REPLAY_ESN_VAL (4 words), LTIME_VAL, thresholds', 'NetlinkRequester GETAE, raw reply', aeReply, [
    { kind: 'newae', match: { ae: { spi: 0x4000, flags: ['rthr', 'ethr'], esn: { oseq: 4, oseqHi: 0, replayWindow: 128, bmpLen: 4 } } } },
  ]);
  if (!ae1.esn) throw new Error('GETAE of an ESN SA returned no ESN state');
  const setAe = await outcome(client.setAe({ id: eid, esn: { ...ae1.esn, oseq: 0xfffffff0, oseqHi: 1 } }));
  const ae2 = await client.getAe(eid);
  ping('10.0.0.2', 20);
  const ae3 = await client.getAe(eid);
  const esnFinal = await client.deleteState(eid);
  await new Promise((r) => setTimeout(r, 300));
  save('esn', {
    ae1,
    setAe,
    ae2,
    ae3,
    final: view(esnFinal),
    delsaEvents: events.filter((e) => e.kind === 'delsa' && e.id.spi === 0x4000).map((e) => (e.kind === 'delsa' && e.state ? view(e.state) : null)),
    newaeEvents: events.filter((e) => e.kind === 'newae').map((e) => (e.kind === 'newae' ? e.ae : null)),
  });

  save('events', {
    kinds: events.map((e) => e.kind),
    newsaSpis: events.flatMap((e) => (e.kind === 'newsa' ? [e.state.spi] : [])),
    decodeErrors: monitor.decodeErrors,
    overruns: monitor.overruns,
  });
  const interesting = notifications.filter((m) => m.type === 17 || m.type === 30 || (m.type === 16 && notifications.indexOf(m) < 8) || m.type === 28);
  fixture(
    'lab-notifications',
    'XFRM multicast during the lab run: NEWSA (software and offloaded), NEWAE (cu after NEWAE, cr from traffic) with REPLAY_ESN_VAL + LTIME_VAL, DELSA with the final ESN state in XFRMA_SA, FLUSHSA',
    'NetlinkListener on groups SA, AEVENTS, EXPIRE, POLICY; raw messages',
    interesting,
    [
      { kind: 'newsa', match: { state: { spi: 0x1001, offload: { dir: 'out' } } } },
      { kind: 'delsa', match: { id: { spi: 0x4000 }, state: { spi: 0x4000, esn: { oseqHi: 2, bmpLen: 4 } } } },
      { kind: 'newae', match: { ae: { spi: 0x4000, flags: ['cu'] } } },
      { kind: 'flushsa', match: { proto: 0 } },
    ],
  );
} finally {
  await client.flushStates().catch(() => undefined);
  await client.flushPolicies().catch(() => undefined);
  monitor.close();
  raw.close();
  rawRequester.close();
  client.close();
}
