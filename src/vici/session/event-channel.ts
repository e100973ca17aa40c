// The event socket: a long-lived connection that only (un)registers events and
// receives them, so broadcast events never interleave with command replies.
// charon forgets registrations when a connection ends and replays nothing, so
// after a loss we reconnect with capped exponential backoff, register every
// subscribed event again, and only then announce `reconnected`: from that
// moment no event is missed, and a consumer's list-sas resync is complete.
//
// Subscriptions are reconciled, not replayed: `desired` is what the owner
// wants, `registered` what charon confirmed on this connection; one
// (un)register request is in flight at a time, like any VICI request.
import { decodeMessage } from '../wire/elements.js';
import { ViciProtocolError } from '../wire/errors.js';
import type { ViciMessage } from '../wire/message.js';
import { PacketType, checkName, packetLabel, type Packet } from '../wire/packet.js';
import { Backoff } from './backoff.js';
import { ViciConnection, type CloseReason } from './connection.js';
import { ViciClosedError, ViciSocketError, ViciTimeoutError, ViciUnknownEventError } from './errors.js';
import type { ChannelContext } from './context.js';
import { Waiters } from './waiters.js';

export interface EventChannelContext extends ChannelContext {
  /** Deadline of one (un)register request; a miss resets the socket. */
  requestTimeoutMs: number;
  onEvent(name: string, message: ViciMessage): void;
  /** Connected and every subscription settled. `downMs` is set after a loss. */
  onUp(downMs: number | undefined): void;
  onDown(reason: CloseReason): void;
  /** Problems nobody is waiting on (a re-registration charon refused). */
  onError(error: Error): void;
}

export interface SubscribeResult {
  subscribed: string[];
  unknown: string[];
}

interface Inflight {
  kind: 'register' | 'unregister';
  name: string;
  timer: NodeJS.Timeout;
}

export class EventChannel {
  readonly #ctx: EventChannelContext;
  readonly #backoff: Backoff | undefined;
  readonly #desired = new Set<string>();
  readonly #registered = new Set<string>();
  readonly #subWaiters = new Map<string, Waiters<boolean>>();
  readonly #unsubWaiters = new Map<string, Waiters<void>>();
  readonly #upWaiters = new Waiters<void>();
  #conn: ViciConnection | undefined;
  #inflight: Inflight | undefined;
  #connecting = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** connected and all subscriptions settled */
  #up = false;
  /** has been up once: from then on the connection is kept, whoever waits */
  #everUp = false;
  #downSince: number | undefined;
  #lastError: Error | undefined;

  constructor(ctx: EventChannelContext) {
    this.#ctx = ctx;
    this.#backoff = ctx.backoff ? new Backoff(ctx.backoff) : undefined;
  }

  get up(): boolean {
    return this.#up;
  }

  get subscriptions(): string[] {
    return [...this.#desired];
  }

  /** Resolves when connected with all subscriptions settled. */
  connect(timeoutMs: number): Promise<void> {
    if (this.#closed) return Promise.reject(new ViciClosedError('connect'));
    if (this.#up) return Promise.resolve();
    const p = this.#upWaiters.add(timeoutMs, () => this.#giveUp('connect', timeoutMs));
    this.#ensureConnecting();
    return p;
  }

  /**
   * Registers the events not yet registered. Resolves with what charon
   * accepted and what it does not know (EVENT_UNKNOWN). Registering twice on
   * one connection would deliver every event twice, so known names are skipped.
   */
  async subscribe(names: readonly string[], timeoutMs: number): Promise<SubscribeResult> {
    if (this.#closed) throw new ViciClosedError('subscribe');
    for (const n of names) checkName(n, 'event name', false);
    const pending: [string, Promise<boolean>][] = [];
    for (const name of new Set(names)) {
      this.#desired.add(name);
      if (this.#registered.has(name) && !this.#unregistering(name)) {
        // Registered already (an unsubscribe not yet sent is simply withdrawn).
        this.#unsubWaiters.get(name)?.resolveAll();
        this.#unsubWaiters.delete(name);
        pending.push([name, Promise.resolve(true)]);
        continue;
      }
      let w = this.#subWaiters.get(name);
      if (!w) this.#subWaiters.set(name, (w = new Waiters<boolean>()));
      const p = w.add(timeoutMs, () => {
        // A subscription that failed leaves nothing behind.
        if (!this.#registered.has(name)) this.#desired.delete(name);
        return this.#giveUp(`event registration ${name}`, timeoutMs, this.#inflight?.name === name);
      });
      pending.push([name, p]);
    }
    this.#ensureConnecting();
    this.#reconcile();
    const settled = await Promise.allSettled(pending.map(([, p]) => p));
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    const result: SubscribeResult = { subscribed: [], unknown: [] };
    settled.forEach((r, i) => {
      const name = pending[i]?.[0] as string;
      if (r.status === 'fulfilled' && r.value) result.subscribed.push(name);
      else result.unknown.push(name);
    });
    return result;
  }

  async unsubscribe(names: readonly string[], timeoutMs: number): Promise<void> {
    if (this.#closed) throw new ViciClosedError('unsubscribe');
    const pending: Promise<void>[] = [];
    for (const name of new Set(names)) {
      this.#desired.delete(name);
      // A subscribe still waiting for this name is answered: it was asked and withdrawn.
      this.#subWaiters.get(name)?.resolveAll(true);
      this.#subWaiters.delete(name);
      const registering = this.#inflight?.kind === 'register' && this.#inflight.name === name;
      if (!this.#registered.has(name) && !registering) continue;
      let w = this.#unsubWaiters.get(name);
      if (!w) this.#unsubWaiters.set(name, (w = new Waiters<void>()));
      pending.push(w.add(timeoutMs, () => this.#giveUp(`event unregistration ${name}`, timeoutMs, this.#inflight?.name === name)));
    }
    this.#reconcile();
    const settled = await Promise.allSettled(pending);
    const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  #unregistering(name: string): boolean {
    return this.#inflight?.kind === 'unregister' && this.#inflight.name === name;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    if (this.#inflight) clearTimeout(this.#inflight.timer);
    this.#inflight = undefined;
    const err = new ViciClosedError('event subscription');
    for (const w of this.#subWaiters.values()) w.rejectAll(err);
    for (const w of this.#unsubWaiters.values()) w.rejectAll(err);
    this.#subWaiters.clear();
    this.#unsubWaiters.clear();
    this.#upWaiters.rejectAll(new ViciClosedError('connect'));
    this.#conn?.destroy(new ViciClosedError('event socket'));
    this.#conn = undefined;
    this.#up = false;
  }

  #giveUp(op: string, timeoutMs: number, sent = false): Error {
    const last = this.#lastError;
    if (!sent && !this.#conn && last instanceof ViciSocketError) {
      return ViciSocketError.extend(last, `; gave up after ${timeoutMs} ms`);
    }
    return new ViciTimeoutError(op, timeoutMs, sent);
  }

  #hasDemand(): boolean {
    if (this.#everUp) return true;
    if (this.#upWaiters.size > 0) return true;
    for (const w of this.#subWaiters.values()) if (w.size > 0) return true;
    return false;
  }

  #ensureConnecting(): void {
    if (this.#connecting || this.#conn || this.#closed || this.#retryTimer || !this.#hasDemand()) return;
    this.#connecting = true;
    ViciConnection.connect(this.#ctx.resolvePath(), this.#ctx.connectTimeoutMs).then(
      (conn) => {
        this.#connecting = false;
        if (this.#closed) {
          conn.destroy(new ViciClosedError('event socket'));
          return;
        }
        this.#conn = conn;
        this.#registered.clear();
        conn.attach({ onPacket: (p) => this.#onPacket(conn, p), onClose: (r) => this.#onClose(conn, r) });
        this.#reconcile();
      },
      (err: Error) => {
        this.#connecting = false;
        this.#lastError = err;
        if (this.#closed) return;
        if (!this.#backoff) return this.#failWaiters(err);
        this.#scheduleRetry();
      },
    );
  }

  #scheduleRetry(): void {
    if (!this.#backoff || this.#closed || this.#retryTimer || !this.#hasDemand()) return;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#ensureConnecting();
    }, this.#backoff.next());
  }

  /** Without retries, a failed connection fails everyone waiting for one. */
  #failWaiters(err: Error): void {
    this.#upWaiters.rejectAll(err);
    for (const [name, w] of this.#subWaiters) {
      if (!this.#registered.has(name)) this.#desired.delete(name);
      w.rejectAll(err);
    }
    this.#subWaiters.clear();
  }

  /** Sends the next (un)registration the sets call for; announces `up` when none is left. */
  #reconcile(): void {
    const conn = this.#conn;
    if (!conn || this.#inflight || this.#closed) return;
    for (const name of this.#desired) if (!this.#registered.has(name)) return this.#request(conn, 'register', name);
    for (const name of this.#registered) if (!this.#desired.has(name)) return this.#request(conn, 'unregister', name);
    if (this.#up) return;
    this.#up = true;
    this.#backoff?.reset();
    const downMs = this.#everUp && this.#downSince !== undefined ? Date.now() - this.#downSince : undefined;
    this.#everUp = true;
    this.#downSince = undefined;
    this.#upWaiters.resolveAll();
    this.#ctx.onUp(downMs);
  }

  #request(conn: ViciConnection, kind: Inflight['kind'], name: string): void {
    const timer = setTimeout(() => {
      // charon did not answer: the socket is out of step, start over on a new one.
      conn.destroy(new ViciTimeoutError(`event ${kind === 'register' ? 'registration' : 'unregistration'} ${name}`, this.#ctx.requestTimeoutMs, true));
    }, this.#ctx.requestTimeoutMs);
    this.#inflight = { kind, name, timer };
    conn.send({ type: kind === 'register' ? PacketType.EVENT_REGISTER : PacketType.EVENT_UNREGISTER, name });
  }

  #onPacket(conn: ViciConnection, p: Packet): void {
    if (conn !== this.#conn) return;
    if (p.type === PacketType.EVENT) {
      let message: ViciMessage;
      try {
        message = decodeMessage(p.message as Buffer);
      } catch (e) {
        return conn.destroy(e as Error);
      }
      // Delivered whether or not the registration is confirmed yet: charon only
      // sends what we registered, and an event before the confirm is still real.
      this.#ctx.onEvent(p.name ?? '', message);
      return;
    }
    const op = this.#inflight;
    if (!op || (p.type !== PacketType.EVENT_CONFIRM && p.type !== PacketType.EVENT_UNKNOWN)) {
      return conn.destroy(new ViciProtocolError('packet', `unexpected ${packetLabel(p.type)} on the event socket`));
    }
    clearTimeout(op.timer);
    this.#inflight = undefined;
    const ok = p.type === PacketType.EVENT_CONFIRM;
    if (op.kind === 'register') {
      if (ok) this.#registered.add(op.name);
      else {
        this.#desired.delete(op.name);
        // Nothing to unregister either.
        this.#unsubWaiters.get(op.name)?.resolveAll();
        this.#unsubWaiters.delete(op.name);
      }
      const w = this.#subWaiters.get(op.name);
      this.#subWaiters.delete(op.name);
      if (w && w.size > 0) w.resolveAll(ok);
      else if (!ok) this.#ctx.onError(new ViciUnknownEventError([op.name]));
    } else {
      // EVENT_UNKNOWN here means "was not registered": the outcome is the same.
      this.#registered.delete(op.name);
      this.#unsubWaiters.get(op.name)?.resolveAll();
      this.#unsubWaiters.delete(op.name);
    }
    this.#reconcile();
  }

  #onClose(conn: ViciConnection, reason: CloseReason): void {
    if (conn !== this.#conn) return;
    this.#conn = undefined;
    this.#lastError = reason;
    if (this.#inflight) clearTimeout(this.#inflight.timer);
    this.#inflight = undefined;
    this.#registered.clear();
    // Unsubscribes are done: charon dropped every registration with the connection.
    for (const w of this.#unsubWaiters.values()) w.resolveAll();
    this.#unsubWaiters.clear();
    if (this.#up) {
      this.#up = false;
      this.#downSince = Date.now();
      this.#ctx.onDown(reason);
    }
    if (this.#closed) return;
    if (!this.#backoff) return this.#failWaiters(reason);
    this.#scheduleRetry();
  }
}
