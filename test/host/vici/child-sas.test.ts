// Real CHILD_SAs on this host: charon's kernel-libipsec plugin does ESP in
// userspace (TUN device), so CHILD_SAs install, carry pings, rekey and get
// deleted exactly as far as charon and VICI are concerned. (The kernel XFRM
// datapath, ESN and offload are the lab's business.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ViciClient, parseChildRekey, parseChildUpdown, type ChildSa, type ViciMessage } from '../../../src/vici/index.js';
import { charonPair, type CharonPair, type ChildSpec } from './support/pair.js';
import { EventLog } from './support/events.js';

const MANY = 60;
let pair: CharonPair;
let a: ViciClient;
let b: ViciClient;
let logA: EventLog;
let logB: EventLog;

const specs: ChildSpec[] = [
  { name: 'c1', portSelector: false },
  // rekeys every 3 s, for the child-rekey test
  { name: 'rk', settings: { rekey_time: '3s', life_time: '20s', rand_time: '0s' } },
  ...Array.from({ length: MANY }, (_, i) => ({ name: `m${i + 1}` })),
];

beforeAll(async () => {
  pair = await charonPair({ datapath: 'libipsec', children: specs });
  a = new ViciClient({ socketPath: pair.a.socketPath, timeoutMs: 20_000 });
  b = new ViciClient({ socketPath: pair.b.socketPath, timeoutMs: 20_000 });
  logA = new EventLog(a);
  logB = new EventLog(b);
  await Promise.all([a.subscribe(['ike-updown', 'child-updown', 'child-rekey', 'ike-rekey']), b.subscribe(['child-updown'])]);
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await pair?.destroy();
});

/** Brings up m1..mN where they are not installed yet (tests may run alone with -t). */
async function ensureMany(): Promise<void> {
  const up = new Set(((await a.listSas())[0]?.childSas ?? []).filter((c) => c.state === 'INSTALLED').map((c) => c.name));
  const before = logA.named('child-updown').length;
  let started = 0;
  for (let i = 1; i <= MANY; i++) {
    if (up.has(`m${i}`)) continue;
    await a.initiate({ child: `m${i}`, timeout: 10_000 });
    started++;
  }
  await logA.waitForCount('child-updown', before + started);
}

function childOf(msg: ViciMessage): ChildSa | undefined {
  return parseChildUpdown(msg).children[0];
}

describe('CHILD_SAs', () => {
  it('child-updown up with the installed CHILD_SA, mirrored on the responder; list-sas agrees; counters move; down on terminate', async () => {
    const r = await a.initiate({ child: 'c1', timeout: 10_000 });
    expect(r.response.string('success')).toBe('yes');
    expect(r.logs.at(-1)?.msg).toMatch(/^CHILD_SA c1\{\d+\} established with SPIs/);

    const up = childOf((await logA.waitFor('child-updown', (e) => e.message.has('up') && childOf(e.message)?.name === 'c1')).message) as ChildSa;
    expect(up).toMatchObject({ name: 'c1', state: 'INSTALLED', mode: 'TUNNEL', protocol: 'ESP', encap: true, encrAlg: 'AES_GCM_16', encrKeysize: 128, localTs: ['10.1.1.0/24'], remoteTs: ['10.1.2.0/24'] });
    expect(up.key).toBe(`c1-${up.uniqueid}`);
    expect(up.spiInHex).toMatch(/^[0-9a-f]{8}$/);
    expect(up.spiIn).toBe(parseInt(up.spiInHex as string, 16));

    const peer = childOf((await logB.waitFor('child-updown', (e) => e.message.has('up') && childOf(e.message)?.name === 'c1')).message) as ChildSa;
    expect(peer.spiIn).toBe(up.spiOut);
    expect(peer.spiOut).toBe(up.spiIn);
    expect(peer.localTs).toEqual(['10.1.2.0/24']);

    pair.nsA.exec('ping', ['-c', '3', '-i', '0.2', '-W', '2', '-I', '10.1.1.1', '10.1.2.1']);
    const [ike] = await a.listSas({ child: 'c1' });
    const listed = ike?.childSas.find((c) => c.uniqueid === up.uniqueid);
    expect(listed).toMatchObject({ spiIn: up.spiIn, spiOut: up.spiOut, reqid: up.reqid, packetsOut: 3n, packetsIn: 3n });
    expect(listed?.bytesOut).toBeGreaterThan(0n);
    expect(listed?.useOut).toBeGreaterThanOrEqual(0);

    const t = await a.terminate({ childId: up.uniqueid, timeout: 10_000 });
    expect(t.matches).toBe(1);
    const down = await logA.waitFor('child-updown', (e) => !e.message.has('up') && childOf(e.message)?.uniqueid === up.uniqueid);
    expect(childOf(down.message)?.spiIn).toBe(up.spiIn);
  });

  it('child-rekey (rekey_time 3 s): old and new CHILD_SA; the old one lingers in list-sas for delete_rekeyed_delay, then goes without a child-updown down', async () => {
    await a.initiate({ child: 'rk', timeout: 10_000 });
    const up = childOf((await logA.waitFor('child-updown', (e) => e.message.has('up') && childOf(e.message)?.name === 'rk')).message) as ChildSa;
    const ev = await logA.waitFor('child-rekey', (e) => parseChildRekey(e.message).rekeys[0]?.old.uniqueid === up.uniqueid, 15_000);
    const rekey = parseChildRekey(ev.message);
    expect(rekey.ike.name).toBe('lab');
    expect(rekey.ike.childSas).toEqual([]);
    const pair0 = rekey.rekeys[0];
    expect(pair0?.name).toBe('rk');
    expect(pair0?.old).toMatchObject({ key: 'rk', name: 'rk', uniqueid: up.uniqueid, reqid: up.reqid, spiIn: up.spiIn, state: 'REKEYED' });
    expect(pair0?.new).toMatchObject({ key: 'rk', name: 'rk', reqid: up.reqid, state: 'INSTALLED' });
    expect(pair0?.new.uniqueid).not.toBe(up.uniqueid);
    expect(pair0?.new.spiIn).not.toBe(up.spiIn);

    // Right after the rekey the old CHILD_SA is still listed (not INSTALLED any more)...
    const lingering = (await a.listSas({ child: 'rk' }))[0]?.childSas.find((c) => c.uniqueid === up.uniqueid);
    expect(lingering?.state).not.toBe('INSTALLED');
    // ...until charon.delete_rekeyed_delay (5 s) has passed; it goes without a child-updown down.
    const gone = Date.now() + 8000;
    while ((await a.listSas({ child: 'rk' }))[0]?.childSas.some((c) => c.uniqueid === up.uniqueid)) {
      expect(Date.now()).toBeLessThan(gone);
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(logA.named('child-updown').filter((e) => !e.message.has('up') && childOf(e.message)?.uniqueid === up.uniqueid)).toEqual([]);
    await a.terminate({ child: 'rk', timeout: 10_000 });
  });

  it(`list-sas streams one IKE_SA with ${MANY}+ CHILD_SAs; the same set swanctl lists; rekey by child id`, async () => {
    await ensureMany();

    const sas = await a.listSas();
    expect(sas).toHaveLength(1);
    const children = sas[0]?.childSas ?? [];
    const mine = children.filter((c) => /^m\d+$/.test(c.name));
    expect(mine).toHaveLength(MANY);
    expect(new Set(mine.map((c) => c.name)).size).toBe(MANY);
    for (const c of mine) {
      expect(c.state).toBe('INSTALLED');
      expect(c.localTs[0]).toBe(`10.1.1.0/24[udp/${10000 + specs.findIndex((s) => s.name === c.name) + 1}]`);
    }
    // swanctl (libvici) sees the same CHILD_SAs
    const raw = pair.a.swanctl(['--list-sas', '--raw']).stdout;
    const swanctlKeys = [...raw.matchAll(/[ {]([\w]+-\d+) \{name=/g)].map((m) => m[1]).sort();
    expect(children.map((c) => c.key).sort()).toEqual(swanctlKeys);
    // child-id filter (5.9.6+): the IKE_SA with just that CHILD_SA
    const one = mine[7] as ChildSa;
    const filtered = await a.listSas({ childId: one.uniqueid });
    expect(filtered[0]?.childSas.map((c) => c.uniqueid)).toEqual([one.uniqueid]);

    // rekey a CHILD_SA by unique id, the way the offload manager recovers one
    const r = await a.rekey({ childId: one.uniqueid });
    expect(r.matches).toBe(1);
    const ev = await logA.waitFor('child-rekey', (e) => parseChildRekey(e.message).rekeys[0]?.old.uniqueid === one.uniqueid);
    expect(parseChildRekey(ev.message).rekeys[0]?.new.name).toBe(one.name);
  });

  it('an event storm on the event socket while commands run: every reply is the right one, no event lost', async () => {
    const names = Array.from({ length: MANY }, (_, i) => `m${i + 1}`);
    await ensureMany();
    // Where each CHILD_SA stands now; every child-rekey moves it from old to new.
    const current = new Map<string, number>();
    for (const c of (await a.listSas())[0]?.childSas ?? []) if (c.state === 'INSTALLED' && names.includes(c.name)) current.set(c.name, c.uniqueid);
    expect(current.size).toBe(MANY);
    let seen = logA.events.length;
    const follow = (): void => {
      for (const e of logA.events.slice(seen)) {
        if (e.name !== 'child-rekey') continue;
        for (const r of parseChildRekey(e.message).rekeys) if (current.get(r.name) === r.old.uniqueid) current.set(r.name, r.new.uniqueid);
      }
      seen = logA.events.length;
    };

    await a.subscribe('log'); // several log lines per rekey on top of the child-rekey events
    const eventsBefore = logA.events.length;
    const storm = new ViciClient({ socketPath: pair.a.socketPath, timeoutMs: 20_000 });
    const rounds = 4;
    const startRekeys = logA.named('child-rekey').length;
    let running = true;
    const stormDone = (async () => {
      for (let r = 0; r < rounds; r++) {
        // a second client asks for a rekey of every CHILD_SA, all at once; the
        // next round starts when this one's child-rekey events are all in (a
        // CHILD_SA still rekeying would not rekey again)
        const res = await Promise.all(names.map((child) => storm.rekey({ child })));
        expect(res.every((x) => (x.matches ?? 0) >= 1)).toBe(true);
        await logA.waitForCount('child-rekey', startRekeys + (r + 1) * MANY);
      }
    })().finally(() => (running = false));

    let rounds2 = 0;
    while (running) {
      const [v, s, sas, conns, lst] = await Promise.all([a.version(), a.stats(), a.listSas({ noblock: true }), a.getConns(), a.streamedCall('list-conns', 'list-conn')]);
      expect(v.daemon).toBe('charon');
      expect(s.workers.total).toBeGreaterThan(0);
      for (const ike of sas) expect(ike.name).toBe('lab');
      expect(conns).toEqual(['lab']);
      expect(lst.events.map((m) => [...m.keys()])).toEqual([['lab']]);
      rounds2++;
    }
    await stormDone;
    await storm.close();
    expect(rounds2).toBeGreaterThan(2);
    expect(logA.named('child-rekey').length - startRekeys).toBeGreaterThanOrEqual(rounds * MANY);
    expect(logA.events.length - eventsBefore).toBeGreaterThan(3 * rounds * MANY);

    // No event lost: following the child-rekey chain of every CHILD_SA ends at
    // the one charon lists as INSTALLED.
    const deadline = Date.now() + 30_000;
    for (;;) {
      follow();
      const installed = new Map(((await a.listSas())[0]?.childSas ?? []).filter((c) => c.state === 'INSTALLED' && names.includes(c.name)).map((c) => [c.name, c.uniqueid]));
      if ([...current].every(([n, id]) => installed.get(n) === id) && installed.size === MANY) break;
      expect(Date.now()).toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
});
