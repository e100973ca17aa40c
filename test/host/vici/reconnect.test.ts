// charon goes away and comes back: the session notices, reconnects with
// backoff, registers its events again by itself and says `reconnected`;
// commands issued meanwhile wait and then succeed. Real charon 5.9.8.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ViciClient, parseIkeUpdown, parseLog, type ViciEvent } from '../../../src/vici/index.js';
import { charonPair, type CharonPair } from './support/pair.js';
import { EventLog } from './support/events.js';

let pair: CharonPair;
const clients: ViciClient[] = [];

beforeAll(async () => {
  pair = await charonPair({ datapath: 'kernel' });
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await pair?.destroy();
});

function client(): ViciClient {
  const c = new ViciClient({ socketPath: pair.a.socketPath, timeoutMs: 20_000, reconnect: { initialDelayMs: 50, maxDelayMs: 400 } });
  clients.push(c);
  return c;
}

function lifecycle(c: ViciClient): string[] {
  const seen: string[] = [];
  c.on('connected', () => seen.push('connected'));
  c.on('disconnected', () => seen.push('disconnected'));
  c.on('reconnected', () => seen.push('reconnected'));
  return seen;
}

function once(c: ViciClient, what: 'disconnected' | 'reconnected', timeoutMs = 20_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs);
    c.once(what, () => {
      clearTimeout(t);
      resolve();
    });
  });
}

describe('charon restart', () => {
  it('SIGKILL: disconnected; a call made while charon is gone waits; restart: reconnected, events re-registered', async () => {
    const a = client();
    const seen = lifecycle(a);
    const log = new EventLog(a);
    await a.connect();
    await a.subscribe(['log', 'ike-updown']);
    expect(await a.getConns()).toEqual(['lab']);

    const down = once(a, 'disconnected');
    await pair.a.kill();
    await down;
    expect(a.connected).toBe(false);

    const pending = a.version({ timeoutMs: 20_000 });
    const up = once(a, 'reconnected');
    await new Promise((r) => setTimeout(r, 300)); // a few failed attempts (stale socket file: ECONNREFUSED)
    await pair.a.start();
    await up;
    expect((await pending).daemon).toBe('charon');
    expect(seen).toEqual(['connected', 'disconnected', 'reconnected']);
    expect(a.subscriptions).toEqual(['log', 'ike-updown']);
    expect(await a.getConns()).toEqual([]); // a new charon: nothing loaded yet

    // No subscribe() since the restart: the new charon delivers because the session re-registered.
    const mark = log.events.length;
    pair.a.swanctl(['--load-all']);
    await log.waitFor('log', (e) => parseLog(e.message).msg === 'added vici connection: lab', 10_000, mark);
    await a.initiate({ ike: 'lab', child: 'c1', timeout: 10_000 }).catch(() => undefined); // CHILD_SA fails here (no ESP); the IKE_SA comes up
    const upEvent = await log.waitFor('ike-updown', (e) => e.message.has('up'), 10_000, mark);
    expect(parseIkeUpdown(upEvent.message).ike.state).toBe('ESTABLISHED');
    await a.terminate({ ike: 'lab', timeout: 10_000 });
  });

  it('SIGTERM: charon flushes the ike-updown down of its shutdown to us before the socket closes; then reconnect', async () => {
    const a = client();
    const order: string[] = [];
    const log = new EventLog(a);
    a.on('event', (e: ViciEvent) => order.push(`${e.name}${e.message.has('up') ? ':up' : ':down'}`));
    a.on('disconnected', () => order.push('disconnected'));
    if (!(await a.getConns()).includes('lab')) pair.a.swanctl(['--load-all']);
    await a.subscribe(['ike-updown']);
    await a.initiate({ ike: 'lab', child: 'c1', timeout: 10_000 }).catch(() => undefined);
    await log.waitFor('ike-updown', (e) => e.message.has('up'));

    const down = once(a, 'disconnected');
    await pair.a.stop();
    await down;
    expect(order).toEqual(['ike-updown:up', 'ike-updown:down', 'disconnected']);

    const up = once(a, 'reconnected');
    await pair.a.start();
    await up;
    expect(a.connected).toBe(true);
    pair.a.swanctl(['--load-all']);
    await a.initiate({ ike: 'lab', child: 'c1', timeout: 10_000 }).catch(() => undefined);
    await log.waitFor('ike-updown', (e) => e.message.has('up'), 10_000, 2);
    await a.terminate({ ike: 'lab', timeout: 10_000 });
  });

  it('a session that starts before charon connects once charon is there', async () => {
    await pair.a.stop();
    const a = client();
    const seen = lifecycle(a);
    const connecting = a.connect({ timeoutMs: 20_000 });
    await new Promise((r) => setTimeout(r, 300));
    await pair.a.start();
    await connecting;
    expect(seen).toEqual(['connected']);
    expect((await a.version()).version).toBe('5.9.8');
  });
});
