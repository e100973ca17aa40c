// One agent's connection on the PF side: the VF the PF identified it as,
// requests answered strictly in order (one at a time), a hello deadline,
// and a bounded queue. Garbage is answered (when a request id can be read)
// and counted; a peer that keeps sending it, or floods, is cut off. The
// handler decides; this only carries.
import type { Socket } from 'node:net';
import type { AnyFrame, FrameInput } from '../protocol/codec.js';
import { MESSAGES, REASONS, type ReasonName } from '../protocol/constants.js';
import type { MailboxDecodeError } from '../protocol/errors.js';
import { MailboxStream } from '../protocol/stream.js';
import { describePeer, type PeerFacts } from './identity.js';

export type Answer = { ok: FrameInput; close?: string } | { error: ReasonName; message: string; close?: string };

export interface ConnectionHandler {
  /** hello first, then the rest; an answer per request */
  handle(conn: PfConnection, frame: AnyFrame): Promise<Answer>;
  closed(conn: PfConnection, reason: string): void;
  refused(conn: PfConnection, request: string, reason: ReasonName, message: string): void;
  /**
   * A frame arrived (before it is handled): the agent is alive even when the
   * PF is slow to get to its requests (a heartbeat queued behind an sa.add
   * that takes long must not make the VF stale).
   */
  seen(conn: PfConnection): void;
}

export interface ConnectionLimits {
  helloTimeoutMs: number;
  /** requests waiting for their turn before the peer is cut off */
  maxQueued: number;
  /** undecodable frames before the peer is cut off */
  maxBad: number;
}

let nextId = 1;

export class PfConnection {
  readonly id = nextId++;
  readonly peer: string;
  #hello = false;
  #queue: AnyFrame[] = [];
  #running = false;
  #bad = 0;
  readonly #stream: MailboxStream;
  readonly #helloTimer: NodeJS.Timeout;

  constructor(
    socket: Socket,
    readonly facts: PeerFacts,
    readonly vf: string,
    private readonly h: ConnectionHandler,
    private readonly limits: ConnectionLimits,
  ) {
    this.peer = describePeer(facts);
    this.#stream = new MailboxStream(socket);
    this.#stream.on('frame', (f) => this.#onFrame(f));
    this.#stream.on('bad', (e, id) => this.#onBad(e, id));
    this.#stream.on('close', (reason) => {
      clearTimeout(this.#helloTimer);
      for (const f of this.#queue) wipeFrame(f);
      this.#queue = [];
      this.h.closed(this, reason);
    });
    this.#helloTimer = setTimeout(() => {
      if (!this.#hello) this.close(`no hello within ${limits.helloTimeoutMs} ms`);
    }, limits.helloTimeoutMs);
    this.#helloTimer.unref();
  }

  get greeted(): boolean {
    return this.#hello;
  }

  get closed(): boolean {
    return this.#stream.closed;
  }

  /** A PF notice (rekey); false when the connection is gone. */
  notice(attrs: FrameInput): boolean {
    return this.#stream.send('rekey', 0, attrs);
  }

  close(reason: string): void {
    this.#stream.close(reason);
  }

  #onFrame(f: AnyFrame): void {
    if (this.#hello) this.h.seen(this);
    if (this.#queue.length >= this.limits.maxQueued) {
      wipeFrame(f);
      this.h.refused(this, f.kind, 'busy', `more than ${this.limits.maxQueued} requests queued: cut off`);
      this.#stream.send('error', f.id, { reason: REASONS.busy, message: 'too many requests in flight' });
      this.close('flooding');
      return;
    }
    this.#queue.push(f);
    if (!this.#running) void this.#drain();
  }

  #onBad(e: MailboxDecodeError, id: number | undefined): void {
    this.#bad++;
    const reason: ReasonName = e.problem === 'version' ? 'version' : 'malformed';
    this.h.refused(this, 'frame', reason, e.message);
    if (id !== undefined) this.#stream.send('error', id, { reason: REASONS[reason], message: e.message });
    if (reason === 'version') this.close('unsupported protocol version');
    else if (this.#bad >= this.limits.maxBad) this.close(`${this.#bad} undecodable frames`);
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length && !this.#stream.closed) {
        const f = this.#queue.shift() as AnyFrame;
        await this.#one(f);
      }
    } finally {
      this.#running = false;
    }
  }

  async #one(f: AnyFrame): Promise<void> {
    let answer: Answer;
    if (MESSAGES[f.kind].role !== 'request') {
      answer = { error: 'unexpected', message: `${f.kind} is not a request a VF sends` };
    } else if (!this.#hello && f.kind !== 'hello') {
      answer = { error: 'hello-first', message: `${f.kind} before hello` };
    } else if (this.#hello && f.kind === 'hello') {
      answer = { error: 'unexpected', message: 'hello twice on one connection' };
    } else {
      try {
        answer = await this.h.handle(this, f);
      } catch (e) {
        answer = { error: 'internal', message: (e as Error).message };
      } finally {
        wipeFrame(f);
      }
      if (f.kind === 'hello' && 'ok' in answer) {
        this.#hello = true;
        clearTimeout(this.#helloTimer);
      }
    }
    wipeFrame(f);
    if ('ok' in answer) this.#stream.send('ok', f.id, answer.ok);
    else {
      this.h.refused(this, f.kind, answer.error, answer.message);
      this.#stream.send('error', f.id, { reason: REASONS[answer.error], message: answer.message });
    }
    if (answer.close) this.close(answer.close);
  }
}

/** Keys in a frame (sa.add) go as soon as it has been handled. */
export function wipeFrame(f: AnyFrame): void {
  for (const s of [f.child?.saIn, f.child?.saOut]) {
    s?.aead?.key.wipe();
    s?.auth?.key.wipe();
    s?.crypt?.key.wipe();
  }
}
