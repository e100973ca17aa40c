// Session mechanics against a scripted peer (see scripted-peer.ts): queueing,
// timeouts that reset the socket, streamed calls, event delivery around
// confirms, protocol errors, reconnect with re-registration, typed errors.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ViciSession } from '../../../src/vici/session/session.js';
import { Backoff } from '../../../src/vici/session/backoff.js';
import { discoverSocketPath, normalizeSocketPath } from '../../../src/vici/session/socket-path.js';
import {
  ViciClosedError,
  ViciCommandError,
  ViciSocketError,
  ViciTimeoutError,
  ViciUnknownCommandError,
  ViciUnknownEventError,
} from '../../../src/vici/session/errors.js';
import { ViciEncodeError, ViciProtocolError } from '../../../src/vici/wire/errors.js';
import { PacketType } from '../../../src/vici/wire/packet.js';
import type { ViciEvent } from '../../../src/vici/session/session.js';
import { ScriptedPeer, charonLike, waitUntil, type PeerConnection } from './scripted-peer.js';

let peer: ScriptedPeer;
let session: ViciSession | undefined;

beforeEach(async () => {
  peer = new ScriptedPeer();
  await peer.listen();
});

afterEach(async () => {
  await session?.close();
  session = undefined;
  await peer.destroy();
});

function open(opts: ConstructorParameters<typeof ViciSession>[0] = {}): ViciSession {
  session = new ViciSession({ socketPath: peer.path, timeoutMs: 2000, reconnect: { initialDelayMs: 20, maxDelayMs: 80 }, ...opts });
  return session;
}

describe('command socket', () => {
  it('sends one command at a time, in call order, and matches replies by position', async () => {
    const held: PeerConnection[] = [];
    peer.handler = (conn, p) => {
      if (p.type === PacketType.CMD_REQUEST) held.push(conn);
    };
    const s = open();
    const replies = Promise.all(['one', 'two', 'three'].map((cmd) => s.call(cmd)));
    await waitUntil('first request', () => held.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(peer.log().map(([, , n]) => n)).toEqual(['one']); // the others wait in our queue
    for (const n of ['1', '2', '3']) {
      held.at(-1)?.respond({ n });
      await waitUntil(`reply ${n} consumed`, () => held.length === Number(n) + 1 || n === '3');
    }
    expect((await replies).map((m) => m.string('n'))).toEqual(['1', '2', '3']);
    expect(peer.connections).toHaveLength(1);
  });

  it('a command that times out after being sent resets its socket; a late reply never reaches the next caller', async () => {
    let slow: PeerConnection | undefined;
    peer.handler = (conn, p) => {
      if (p.type !== PacketType.CMD_REQUEST) return;
      if (p.name === 'slow') slow = conn;
      else conn.respond({ answer: p.name ?? '' });
    };
    const s = open();
    const err = await s.call('slow', undefined, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ViciTimeoutError);
    expect((err as ViciTimeoutError).sent).toBe(true);
    await waitUntil('old socket closed', () => slow?.closed === true);
    slow?.respond({ answer: 'slow' }); // too late, and to a dead socket
    const next = await s.call('fast');
    expect(next.string('answer')).toBe('fast');
    expect(peer.connections).toHaveLength(2);
  });

  it('a command that times out while still queued is dropped without a reset', async () => {
    let first: PeerConnection | undefined;
    peer.handler = (conn, p) => {
      if (p.type === PacketType.CMD_REQUEST && p.name === 'first') first = conn;
    };
    const s = open();
    const a = s.call('first', undefined, { timeoutMs: 2000 });
    const b = s.call('second', undefined, { timeoutMs: 50 });
    const err = await b.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ViciTimeoutError);
    expect((err as ViciTimeoutError).sent).toBe(false);
    first?.respond({ ok: 'yes' });
    expect((await a).string('ok')).toBe('yes');
    expect(peer.log().map(([c, , n]) => [c, n])).toEqual([[0, 'first']]);
  });

  it('streamed call: register, events in order to this call only, response, unregister', async () => {
    peer.handler = (conn, p) => {
      if (p.type === PacketType.EVENT_REGISTER || p.type === PacketType.EVENT_UNREGISTER) conn.confirm();
      if (p.type === PacketType.CMD_REQUEST) {
        for (let i = 0; i < 5; i++) conn.event('list-sa', { i });
        conn.respond({});
      }
    };
    const s = open();
    const seen: string[] = [];
    const broadcast: ViciEvent[] = [];
    s.on('event', (e) => broadcast.push(e));
    const r = await s.streamedCall('list-sas', 'list-sa', { noblock: 'yes' }, { onEvent: (m) => seen.push(m.string('i') ?? '') });
    expect(r.events.map((m) => m.string('i'))).toEqual(['0', '1', '2', '3', '4']);
    expect(seen).toEqual(['0', '1', '2', '3', '4']);
    expect(broadcast).toEqual([]);
    expect(peer.log().map(([, t, n]) => [t, n])).toEqual([
      [PacketType.EVENT_REGISTER, 'list-sa'],
      [PacketType.CMD_REQUEST, 'list-sas'],
      [PacketType.EVENT_UNREGISTER, 'list-sa'],
    ]);
  });

  it('a socket lost after the response, before the unregistration confirm, still completes the call', async () => {
    peer.handler = (conn, p) => {
      if (p.type === PacketType.EVENT_REGISTER) conn.confirm();
      else if (p.type === PacketType.CMD_REQUEST) {
        conn.event('list-sa', { x: '1' });
        conn.respond({});
      } else if (p.type === PacketType.EVENT_UNREGISTER) conn.close();
    };
    const s = open();
    const r = await s.streamedCall('list-sas', 'list-sa');
    expect(r.events).toHaveLength(1);
  });

  it('stream(): async iteration yields events and returns the response', async () => {
    peer.handler = (conn, p) => {
      if (p.type === PacketType.EVENT_REGISTER || p.type === PacketType.EVENT_UNREGISTER) conn.confirm();
      if (p.type === PacketType.CMD_REQUEST) {
        conn.event('list-conn', { a: '1' });
        conn.event('list-conn', { b: '2' });
        conn.respond({ done: 'yes' });
      }
    };
    const s = open();
    const it = s.stream('list-conns', 'list-conn');
    const got: string[] = [];
    let r = await it.next();
    while (!r.done) {
      got.push(Object.keys(r.value.toJSON())[0] ?? '');
      r = await it.next();
    }
    expect(got).toEqual(['a', 'b']);
    expect(r.value.string('done')).toBe('yes');
  });

  it('an onEvent callback that throws fails its call but keeps the socket in step', async () => {
    peer.handler = (conn, p) => {
      if (p.type === PacketType.EVENT_REGISTER || p.type === PacketType.EVENT_UNREGISTER) conn.confirm();
      if (p.type === PacketType.CMD_REQUEST && p.name === 'list-sas') {
        conn.event('list-sa', {});
        conn.event('list-sa', {});
        conn.respond({});
      } else if (p.type === PacketType.CMD_REQUEST) conn.respond({ v: '1' });
    };
    const s = open();
    const boom = new Error('consumer bug');
    await expect(s.streamedCall('list-sas', 'list-sa', undefined, { onEvent: () => { throw boom; } })).rejects.toBe(boom);
    expect((await s.call('version')).string('v')).toBe('1');
    expect(peer.connections).toHaveLength(1);
  });

  it('maps success=no, CMD_UNKNOWN and EVENT_UNKNOWN to typed errors', async () => {
    peer.handler = (conn, p) => {
      if (p.type === PacketType.CMD_REQUEST && p.name === 'terminate') conn.respond({ success: 'no', errmsg: 'no matching SAs to terminate found', matches: '0' });
      else if (p.type === PacketType.CMD_REQUEST) conn.send(PacketType.CMD_UNKNOWN);
      else if (p.type === PacketType.EVENT_REGISTER) conn.send(PacketType.EVENT_UNKNOWN);
    };
    const s = open();
    const e1 = await s.call('terminate', { ike: 'x' }).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(ViciCommandError);
    expect((e1 as ViciCommandError).errmsg).toBe('no matching SAs to terminate found');
    expect((e1 as ViciCommandError).response.number('matches')).toBe(0);
    await expect(s.call('no-such')).rejects.toBeInstanceOf(ViciUnknownCommandError);
    const e3 = await s.streamedCall('list-foo', 'list-foo').catch((e: unknown) => e);
    expect(e3).toBeInstanceOf(ViciUnknownEventError);
    expect((e3 as ViciUnknownEventError).events).toEqual(['list-foo']);
    const e4 = await s.subscribe(['alert']).catch((e: unknown) => e);
    expect(e4).toBeInstanceOf(ViciUnknownEventError);
  });

  it('validates names and sizes before anything is sent', async () => {
    const s = open();
    await expect(s.call('list sas\n')).rejects.toBeInstanceOf(ViciEncodeError);
    await expect(s.call('load-conn', { big: Buffer.alloc(65536) })).rejects.toBeInstanceOf(ViciEncodeError);
    const huge = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`k${i}`, Buffer.alloc(60000)]));
    await expect(s.call('load-cert', huge)).rejects.toBeInstanceOf(ViciEncodeError);
    await expect(s.streamedCall('list-sas', 'bad\tname')).rejects.toBeInstanceOf(ViciEncodeError);
    await expect(s.subscribe(['\u00e9vent'])).rejects.toBeInstanceOf(ViciEncodeError);
    expect(peer.log()).toEqual([]);
  });

  it('an oversized length from the peer is a protocol error that resets the socket', async () => {
    peer.handler = (conn, p) => {
      if (p.type !== PacketType.CMD_REQUEST) return;
      if (p.name === 'bad') conn.writeRaw(Buffer.from([0x00, 0x09, 0x00, 0x00, 0x01]));
      else conn.respond({ ok: 'yes' });
    };
    const s = open();
    const err = await s.call('bad').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ViciProtocolError);
    expect((err as ViciProtocolError).message).toMatch(/exceeds the 524288-byte limit/);
    await waitUntil('reset', () => peer.connections[0]?.closed === true);
    expect((await s.call('good')).string('ok')).toBe('yes');
  });

  it('a reply with no command in flight is a protocol error that resets the socket', async () => {
    peer.handler = (conn, p) => {
      if (p.type === PacketType.CMD_REQUEST) {
        conn.respond({ n: '1' });
        conn.respond({ n: '2' }); // nobody asked for this one
      }
    };
    const s = open();
    expect((await s.call('x')).string('n')).toBe('1');
    await waitUntil('reset', () => peer.connections[0]?.closed === true);
  });

  it('a socket lost mid-command fails that command with a ViciSocketError naming the path; queued ones run after reconnect', async () => {
    peer.handler = (conn, p) => {
      if (p.type !== PacketType.CMD_REQUEST) return;
      if (p.name === 'crash') conn.close();
      else conn.respond({ ok: p.name ?? '' });
    };
    const s = open();
    const a = s.call('crash').catch((e: unknown) => e);
    const b = s.call('after');
    const err = await a;
    expect(err).toBeInstanceOf(ViciSocketError);
    expect((err as ViciSocketError).path).toBe(peer.path);
    expect((err as ViciSocketError).message).toContain(peer.path);
    expect((err as ViciSocketError).message).toContain('crash');
    expect((await b).string('ok')).toBe('after');
    expect(peer.connections).toHaveLength(2);
  });

  it('charon sending an unasked event on the command socket reaches the event listeners', async () => {
    peer.handler = (conn, p) => {
      if (p.type === PacketType.CMD_REQUEST) {
        conn.event('log', { msg: 'hi' });
        conn.respond({});
      }
    };
    const s = open();
    const events: ViciEvent[] = [];
    s.on('event', (e) => events.push(e));
    await s.call('x');
    expect(events.map((e) => e.name)).toEqual(['log']);
  });
});

describe('event socket', () => {
  it('delivers events that arrive before the registration confirm', async () => {
    peer.handler = (conn, p) => {
      if (p.type === PacketType.EVENT_REGISTER) {
        conn.event(p.name ?? '', { early: 'yes' });
        conn.confirm();
      }
    };
    const s = open();
    const events: ViciEvent[] = [];
    s.on('event', (e) => events.push(e));
    await s.subscribe(['ike-updown']);
    expect(events.map((e) => [e.name, e.message.string('early')])).toEqual([['ike-updown', 'yes']]);
    expect(events[0]?.receivedAt).toBeGreaterThan(0);
  });

  it('registers each event once, however often subscribed; unsubscribe unregisters', async () => {
    const s = open();
    await s.subscribe(['a', 'b']);
    await s.subscribe(['b', 'a', 'c']);
    expect(s.subscriptions.sort()).toEqual(['a', 'b', 'c']);
    await s.unsubscribe('b');
    const regs = peer.log().filter(([, t]) => t === PacketType.EVENT_REGISTER || t === PacketType.EVENT_UNREGISTER);
    expect(regs.map(([, t, n]) => `${t === PacketType.EVENT_REGISTER ? '+' : '-'}${n}`)).toEqual(['+a', '+b', '+c', '-b']);
    expect(s.subscriptions.sort()).toEqual(['a', 'c']);
  });

  it('subscribe and unsubscribe racing each other settle both ways round', async () => {
    let held: (() => void)[] = [];
    peer.handler = (conn, p) => {
      if (p.type === PacketType.EVENT_REGISTER || p.type === PacketType.EVENT_UNREGISTER) held.push(() => conn.confirm());
    };
    const release = async (): Promise<void> => {
      await waitUntil('a request', () => held.length > 0);
      const h = held;
      held = [];
      for (const f of h) f();
    };
    const s = open();
    // withdrawn while its registration is in flight: registered, then unregistered
    const sub = s.subscribe('x');
    await waitUntil('register sent', () => peer.log().length === 1);
    const unsub = s.unsubscribe('x');
    await release();
    await release();
    await Promise.all([sub, unsub]);
    expect(s.subscriptions).toEqual([]);
    // asked again while its unregistration is in flight: unregistered, then registered
    const sub2 = s.subscribe('y');
    await release();
    await sub2;
    const unsub2 = s.unsubscribe('y');
    await waitUntil('unregister sent', () => peer.log().length === 4);
    const sub3 = s.subscribe('y');
    await release();
    await release();
    await Promise.all([unsub2, sub3]);
    expect(s.subscriptions).toEqual(['y']);
    expect(peer.log().map(([, t, n]) => `${t === PacketType.EVENT_REGISTER ? '+' : '-'}${n}`)).toEqual(['+x', '-x', '+y', '-y', '+y']);
  });

  it('several registrations timing out reject once, leaving no stray rejection', async () => {
    peer.handler = () => undefined;
    const s = open({ timeoutMs: 5000 });
    const err = await s.subscribe(['a', 'b', 'c'], { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ViciTimeoutError);
    expect(s.subscriptions).toEqual([]);
  });

  it('ignoreUnknown reports unknown events instead of failing (feature detection)', async () => {
    peer.handler = (conn, p) => {
      if (p.type === PacketType.EVENT_REGISTER) conn.send(p.name === 'alert' ? PacketType.EVENT_UNKNOWN : PacketType.EVENT_CONFIRM);
    };
    const s = open();
    expect(await s.subscribe(['ike-updown', 'alert', 'child-updown'], { ignoreUnknown: true })).toEqual({ subscribed: ['ike-updown', 'child-updown'], unknown: ['alert'] });
    expect(s.subscriptions).toEqual(['ike-updown', 'child-updown']);
  });

  it('after the socket goes away: disconnected, reconnect with backoff, re-register everything, then reconnected', async () => {
    const s = open();
    const seen: string[] = [];
    s.on('connected', () => seen.push('connected'));
    s.on('disconnected', (r) => seen.push(`disconnected:${r.name}`));
    s.on('reconnected', (i) => seen.push(`reconnected:${typeof i.downMs}`));
    await s.connect();
    await s.subscribe(['ike-updown', 'child-updown']);
    const eventConn = peer.connections.find((c) => c.received.some((p) => p.type === PacketType.EVENT_REGISTER));
    expect(eventConn).toBeDefined();

    // "charon restarts": the socket disappears for a while, then comes back.
    await peer.stop();
    await new Promise((r) => setTimeout(r, 250));
    await peer.listen();
    await waitUntil('reconnected', () => seen.includes('reconnected:number'));
    expect(seen).toEqual(['connected', 'disconnected:ViciSocketError', 'reconnected:number']);
    const again = peer.connections.filter((c) => c.id > (eventConn?.id ?? 0) && c.received.some((p) => p.type === PacketType.EVENT_REGISTER));
    expect(again).toHaveLength(1);
    expect(again[0]?.received.map((p) => p.name)).toEqual(['ike-updown', 'child-updown']);
    expect(s.connected).toBe(true);

    // Events flow again without a new subscribe().
    const events: string[] = [];
    s.on('event', (e) => events.push(e.name));
    again[0]?.event('ike-updown', {});
    await waitUntil('event after reconnect', () => events.length === 1);
  });

  it('a registration charon no longer knows after a reconnect is dropped and reported as an error event', async () => {
    const s = open();
    const errors: Error[] = [];
    s.on('error', (e) => errors.push(e));
    await s.subscribe(['old-event']);
    peer.handler = (conn, p) => {
      if (p.type === PacketType.EVENT_REGISTER) conn.send(PacketType.EVENT_UNKNOWN);
      else charonLike(conn, p);
    };
    for (const c of peer.connections) c.close();
    await new Promise<void>((resolve) => s.once('reconnected', () => resolve()));
    expect(errors[0]).toBeInstanceOf(ViciUnknownEventError);
    expect(s.subscriptions).toEqual([]);
  });

  it('a registration without reply resets the event socket after the request timeout', async () => {
    let silent = true;
    peer.handler = (conn, p) => {
      if (p.type === PacketType.EVENT_REGISTER && silent) return;
      charonLike(conn, p);
    };
    const s = open({ timeoutMs: 150 });
    const err = await s.subscribe(['x']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ViciTimeoutError);
    silent = false;
    await s.subscribe(['x']);
    expect(peer.connections.length).toBeGreaterThanOrEqual(2);
  });
});

describe('connecting', () => {
  it('names the socket path when there is nothing to connect to (no reconnect)', async () => {
    const s = open({ socketPath: `${peer.dir}/missing.vici`, reconnect: false });
    const err = await s.call('version').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ViciSocketError);
    expect((err as ViciSocketError).code).toBe('ENOENT');
    expect((err as ViciSocketError).path).toBe(`${peer.dir}/missing.vici`);
    expect((err as ViciSocketError).message).toContain(`${peer.dir}/missing.vici`);
  });

  it('with reconnect, connect() retries until its deadline, then rejects with the last socket error', async () => {
    const s = open({ socketPath: `unix://${peer.dir}/missing.vici` });
    const t0 = Date.now();
    const err = await s.connect({ timeoutMs: 300 }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    expect(err).toBeInstanceOf(ViciSocketError);
    expect((err as Error).message).toMatch(/ENOENT.*gave up after 300 ms/);
  });

  it('with reconnect, a call waits for charon to appear', async () => {
    await peer.stop();
    const s = open();
    const reply = s.call('version', undefined, { timeoutMs: 3000 });
    await new Promise((r) => setTimeout(r, 200));
    await peer.listen();
    expect((await reply).size).toBe(0);
  });

  it('close() fails pending work with ViciClosedError and refuses new work', async () => {
    peer.handler = () => undefined;
    const s = open();
    const pending = s.call('never').catch((e: unknown) => e);
    const sub = s.subscribe(['x']).catch((e: unknown) => e);
    await waitUntil('request sent', () => peer.log().length >= 1);
    await s.close();
    expect(await pending).toBeInstanceOf(ViciClosedError);
    expect(await sub).toBeInstanceOf(ViciClosedError);
    await expect(s.call('x')).rejects.toBeInstanceOf(ViciClosedError);
    await waitUntil('sockets closed', () => peer.connections.every((c) => c.closed));
  });
});

describe('helpers', () => {
  it('Backoff doubles from the initial delay up to the cap, and resets', () => {
    const b = new Backoff({ initialDelayMs: 100, maxDelayMs: 5000 });
    expect(Array.from({ length: 9 }, () => b.next())).toEqual([100, 200, 400, 800, 1600, 3200, 5000, 5000, 5000]);
    b.reset();
    expect(b.next()).toBe(100);
    expect(() => new Backoff({ initialDelayMs: 10, maxDelayMs: 5 })).toThrow(RangeError);
  });

  it('discovers the first existing default socket path, else names the first candidate', () => {
    expect(discoverSocketPath([`${peer.dir}/nope`, peer.path])).toBe(peer.path);
    expect(discoverSocketPath([`${peer.dir}/nope`, `${peer.dir}/nope2`])).toBe(`${peer.dir}/nope`);
  });

  it('accepts unix:// URIs as strongswan.conf writes them, refuses other schemes', () => {
    expect(normalizeSocketPath('unix:///var/run/charon.vici')).toBe('/var/run/charon.vici');
    expect(normalizeSocketPath('/run/strongswan/charon.vici')).toBe('/run/strongswan/charon.vici');
    expect(() => normalizeSocketPath('tcp://127.0.0.1:4502')).toThrow();
  });

  it('a session without socketPath uses discovery', async () => {
    session = new ViciSession({ socketCandidates: [`${peer.dir}/nope`, peer.path], reconnect: false });
    await session.call('version');
    expect(session.socketPath).toBe(peer.path);
  });
});
