// The client against real charon 5.9.8 (kernel-netlink datapath: IKE works on
// this host, ESP does not, so CHILD_SAs fail to install - which is itself a
// real charon error to check). Two charons in two netns over a veth.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ViciClient,
  ViciCommandError,
  ViciSocketError,
  ViciTimeoutError,
  ViciUnknownCommandError,
  ViciUnknownEventError,
  parseIkeUpdown,
  parseLog,
  type ViciMessage,
} from '../../../src/vici/index.js';
import { charonPair, type CharonPair } from './support/pair.js';
import { EventLog } from './support/events.js';

let pair: CharonPair;
const clients: ViciClient[] = [];

function client(path: string, opts: ConstructorParameters<typeof ViciClient>[0] = {}): ViciClient {
  const c = new ViciClient({ socketPath: path, timeoutMs: 15_000, reconnect: { initialDelayMs: 50, maxDelayMs: 500 }, ...opts });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  pair = await charonPair({ datapath: 'kernel' });
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await pair?.destroy();
});

describe('commands', () => {
  it('version and stats', async () => {
    const a = client(pair.a.socketPath);
    await a.connect();
    const v = await a.version();
    expect(v).toMatchObject({ daemon: 'charon', version: '5.9.8', sysname: 'Linux', machine: 'x86_64' });
    const s = await a.stats();
    expect(s.workers.total).toBeGreaterThan(0);
    expect(s.plugins).toEqual(expect.arrayContaining(['vici', 'kernel-netlink', 'kdf']));
    expect(s.ikesas.total).toBeGreaterThanOrEqual(0);
  });

  it('load-conn, get-conns, list-conns (streamed), unload-conn; the log event reports the load', async () => {
    const a = client(pair.a.socketPath);
    const log = new EventLog(a);
    await a.subscribe('log');
    const name = `extra${process.pid}`;
    await a.loadConn(name, {
      version: 2,
      local_addrs: ['10.0.0.1'],
      remote_addrs: ['10.0.0.77'],
      proposals: ['aes128gcm16-prfsha256-x25519'],
      local: { auth: 'psk', id: 'x@vici' },
      remote: { auth: 'psk', id: 'y@vici' },
      children: { net: { mode: 'transport', esp_proposals: ['aes128gcm16'], start_action: 'none', rekey_time: 1234 } },
    });
    expect(await a.getConns()).toEqual(expect.arrayContaining(['lab', name]));
    const conns = await a.listConns();
    const mine = conns.find((c) => c.name === name);
    expect(mine).toMatchObject({ remoteAddrs: ['10.0.0.77'], version: 'IKEv2', local: [{ id: 'x@vici' }], remote: [{ id: 'y@vici' }] });
    expect(mine?.children).toMatchObject([{ name: 'net', mode: 'TRANSPORT', rekeyTime: 1234 }]);
    expect((await a.listConns({ ike: name })).map((c) => c.name)).toEqual([name]);
    const added = await log.waitFor('log', (e) => parseLog(e.message).msg === `added vici connection: ${name}`);
    expect(parseLog(added.message)).toMatchObject({ group: 'CFG', level: 1 });
    await a.unloadConn(name);
    expect(await a.getConns()).not.toContain(name);
  });

  it('charon errors: success=no with errmsg, unknown command, unknown event (feature detection)', async () => {
    const a = client(pair.a.socketPath);
    const e1 = await a.unloadConn('no-such-conn').catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ViciCommandError);
    expect((e1 as ViciCommandError).errmsg).toBe("unload: connection 'no-such-conn' not found");
    const e2 = await a.terminate({ ike: 'no-such-ike', timeout: 1000 }).catch((e: unknown) => e);
    expect((e2 as ViciCommandError).errmsg).toBe('no matching SAs to terminate found');
    await expect(a.call('no-such-command')).rejects.toBeInstanceOf(ViciUnknownCommandError);
    // `alert` exists from 6.0.3 only: 5.9.8 answers EVENT_UNKNOWN.
    const e3 = await a.subscribe(['ike-updown', 'alert']).catch((e: unknown) => e);
    expect(e3).toBeInstanceOf(ViciUnknownEventError);
    expect((e3 as ViciUnknownEventError).events).toEqual(['alert']);
    expect(a.subscriptions).toEqual(['ike-updown']);
    expect(await a.subscribe(['alert', 'child-updown'], { ignoreUnknown: true })).toEqual({ subscribed: ['child-updown'], unknown: ['alert'] });
    // The command socket is still in step after all of that.
    expect((await a.version()).daemon).toBe('charon');
  });

  it('a socket path with no charon behind it is a ViciSocketError naming the path', async () => {
    const path = `${pair.a.dir}/nothing-here.vici`;
    const c = client(path, { reconnect: false });
    const err = await c.version().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ViciSocketError);
    expect((err as ViciSocketError).message).toContain(path);
  });
});

describe('IKE between two charons', () => {
  it('ike-updown up on both sides; the CHILD_SA fails with charon errmsg (no ESP here); list-sas; terminate -> ike-updown down', async () => {
    const a = client(pair.a.socketPath);
    const b = client(pair.b.socketPath);
    const logA = new EventLog(a);
    const logB = new EventLog(b);
    await Promise.all([a.subscribe(['ike-updown', 'child-updown']), b.subscribe(['ike-updown'])]);

    const lines: string[] = [];
    const err = await a.initiate({ child: 'c1', timeout: 10_000 }, { onLog: (l) => lines.push(l.msg) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ViciCommandError);
    expect((err as ViciCommandError).errmsg).toBe("establishing CHILD_SA 'c1' failed");
    expect(lines.some((l) => /IKE_SA lab\[\d+\] established/.test(l))).toBe(true);
    expect((err as ViciCommandError).events.length).toBe(lines.length);

    const upA = parseIkeUpdown((await logA.waitFor('ike-updown', (e) => e.message.has('up'))).message);
    expect(upA).toMatchObject({ up: true, ike: { name: 'lab', state: 'ESTABLISHED', initiator: true, localHost: '10.0.0.1', remoteHost: '10.0.0.2', remoteId: 'b@vici', version: 2 } });
    const upB = parseIkeUpdown((await logB.waitFor('ike-updown', (e) => e.message.has('up'))).message);
    expect(upB.ike).toMatchObject({ initiator: false, initiatorSpi: upA.ike.initiatorSpi, responderSpi: upA.ike.responderSpi });
    // A CHILD_SA that never got installed raises no child-updown.
    expect(logA.named('child-updown')).toEqual([]);

    const sas = await a.listSas();
    expect(sas.map((s) => [s.name, s.uniqueid, s.state, s.childSas.length])).toEqual([['lab', upA.ike.uniqueid, 'ESTABLISHED', 0]]);
    expect(await a.listSas({ ike: 'no-such' })).toEqual([]);
    expect((await a.listSas({ ikeId: upA.ike.uniqueid })).length).toBe(1);

    const t = await a.terminate({ ikeId: upA.ike.uniqueid, timeout: 10_000 });
    expect(t).toMatchObject({ matches: 1, terminated: 1 });
    const down = parseIkeUpdown((await logA.waitFor('ike-updown', (e) => !e.message.has('up'))).message);
    expect(down.ike.uniqueid).toBe(upA.ike.uniqueid);
    await logB.waitFor('ike-updown', (e) => !e.message.has('up'));
    expect(await a.listSas()).toEqual([]);
  });

  it('a timed-out blocking initiate resets the command socket; the next replies are the right ones', async () => {
    const a = client(pair.a.socketPath);
    const name = `void${process.pid}`;
    // 10.0.0.99 does not exist: charon retransmits IKE_SA_INIT and the initiate blocks.
    await a.loadConn(name, {
      version: 2,
      local_addrs: ['10.0.0.1'],
      remote_addrs: ['10.0.0.99'],
      proposals: ['aes128gcm16-prfsha256-x25519'],
      local: { auth: 'psk', id: 'a@vici' },
      remote: { auth: 'psk', id: 'z@vici' },
      children: { c: { mode: 'transport', esp_proposals: ['aes128gcm16'] } },
    });
    const err = await a.initiate({ child: 'c', ike: name }, { timeoutMs: 700 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ViciTimeoutError);
    expect((err as ViciTimeoutError).sent).toBe(true);
    // Whatever charon still sends about that initiate went to the dead socket.
    const replies: ViciMessage[] = await Promise.all([a.call('version'), a.call('stats'), a.call('get-conns')]);
    expect(replies[0]?.string('daemon')).toBe('charon');
    expect(replies[1]?.has('uptime')).toBe(true);
    expect(replies[2]?.strings('conns')).toContain(name);
    await a.terminate({ ike: name, force: true, timeout: 2000 }).catch(() => undefined);
    await a.unloadConn(name);
  });
});
