// The agent's end of the mailbox: connects to the PF (unix socket, or TCP
// with mutual TLS: the PF's certificate must chain to the configured CA),
// sends requests and pairs each answer with its request, and hands PF notices
// (rekey) to whoever listens. A request unanswered within the timeout ends
// the connection: the agent reconnects and resyncs rather than guess.
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { AnyFrame, Frame, FrameInput } from '../protocol/codec.js';
import { reasonName, type RequestKind } from '../protocol/constants.js';
import { MailboxStream } from '../protocol/stream.js';
import type { VfAgentConfig } from '../config.js';

/** The PF refused a request; `reason` is the protocol's name for why. */
export class MailboxRefusedError extends Error {
  override readonly name = 'MailboxRefusedError';
  constructor(
    readonly request: string,
    readonly reason: string,
    readonly code: number,
    readonly detail: string,
  ) {
    super(`PF refused ${request}: ${reason}${detail ? ` (${detail})` : ''}`);
  }
}

/** The connection ended before the answer came. */
export class MailboxClosedError extends Error {
  override readonly name = 'MailboxClosedError';
}

export interface MailboxClientEvents {
  notice: [AnyFrame];
  close: [string];
}

interface Pending {
  kind: string;
  resolve: (f: Frame<'ok'>) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

export class MailboxClient extends EventEmitter<MailboxClientEvents> {
  readonly #stream: MailboxStream;
  readonly #pending = new Map<number, Pending>();
  readonly #timeoutMs: number;
  #nextId = 1;
  /** the PF's refusal of the connection itself (an error frame with id 0), once it came */
  #refusal: Frame<'error'> | undefined;

  private constructor(socket: Socket, timeoutMs: number) {
    super();
    this.#timeoutMs = timeoutMs;
    this.#stream = new MailboxStream(socket);
    this.#stream.on('frame', (f) => this.#onFrame(f));
    this.#stream.on('bad', () => this.close('the PF sent a frame that cannot be decoded'));
    this.#stream.on('close', (closed) => {
      const refusal = this.#refusal;
      const reason = refusal ? `${closed}: ${refusedError('connection', refusal).message}` : closed;
      this.#rejectAll((kind) => (refusal ? refusedError(kind, refusal) : new MailboxClosedError(`connection closed during ${kind}: ${reason}`)));
      this.emit('close', reason);
    });
  }

  /** Connects to the PF as configured (vf.pf). */
  static async connect(pf: VfAgentConfig['pf'], timeoutMs: number): Promise<MailboxClient> {
    const socket = await open(pf, timeoutMs);
    return new MailboxClient(socket, timeoutMs);
  }

  get closed(): boolean {
    return this.#stream.closed;
  }

  /** Sends a request; resolves with the PF's ok, rejects with MailboxRefusedError or MailboxClosedError. */
  request(kind: RequestKind, attrs: FrameInput = {}): Promise<Frame<'ok'>> {
    if (this.#refusal) return Promise.reject(refusedError(kind, this.#refusal));
    const id = this.#nextId;
    this.#nextId = this.#nextId >= 0xffffffff ? 1 : this.#nextId + 1;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new MailboxClosedError(`${kind}: no answer within ${this.#timeoutMs} ms`));
        this.close(`${kind} unanswered`);
      }, this.#timeoutMs);
      this.#pending.set(id, { kind, resolve, reject, timer });
      if (!this.#stream.send(kind, id, attrs)) {
        clearTimeout(timer);
        this.#pending.delete(id);
        reject(new MailboxClosedError(`${kind}: not connected`));
      }
    });
  }

  close(reason: string): void {
    this.#stream.close(reason);
  }

  #onFrame(f: AnyFrame): void {
    if (f.kind === 'error' && f.id === 0) {
      // Request ids start at 1: id 0 is the PF refusing the connection itself
      // (identity), before it read anything. It may come before our hello is
      // even sent; it is the answer to every request of this connection.
      this.#refusal = f;
      this.#rejectAll((kind) => refusedError(kind, f));
      return;
    }
    if (f.kind === 'ok' || f.kind === 'error') {
      const p = this.#pending.get(f.id);
      if (!p) return;
      this.#pending.delete(f.id);
      clearTimeout(p.timer);
      if (f.kind === 'ok') p.resolve(f);
      else p.reject(refusedError(p.kind, f));
      return;
    }
    if (f.kind === 'rekey') this.emit('notice', f);
    // Requests are the agent's to send, never to receive: ignored.
  }

  /** Every request still waiting gets its error now. */
  #rejectAll(error: (kind: string) => Error): void {
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      p.reject(error(p.kind));
      this.#pending.delete(id);
    }
  }
}

function refusedError(request: string, f: Frame<'error'>): MailboxRefusedError {
  return new MailboxRefusedError(request, reasonName(f.attrs.reason), f.attrs.reason, f.attrs.message ?? '');
}

function open(pf: VfAgentConfig['pf'], timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    let s: Socket;
    const fail = (e: Error): void => {
      clearTimeout(timer);
      s.destroy();
      reject(e);
    };
    const timer = setTimeout(() => fail(new MailboxClosedError(`connecting to the PF: no connection within ${timeoutMs} ms`)), timeoutMs);
    if (pf.unix !== undefined) {
      s = createConnection(pf.unix);
      s.once('connect', () => {
        clearTimeout(timer);
        resolve(s);
      });
    } else {
      const t = pf.tls as NonNullable<VfAgentConfig['pf']['tls']>;
      let material: { cert: Buffer; key: Buffer; ca: Buffer };
      try {
        material = { cert: readFileSync(t.cert), key: readFileSync(t.key), ca: readFileSync(t.ca) };
      } catch (e) {
        clearTimeout(timer);
        reject(e as Error);
        return;
      }
      const tls = tlsConnect({ host: t.host, port: t.port, ...material, servername: t.servername ?? t.host, minVersion: 'TLSv1.3' });
      material.key.fill(0);
      s = tls;
      tls.once('secureConnect', () => {
        clearTimeout(timer);
        resolve(tls);
      });
    }
    // Stays for the socket's life: an error after connecting destroys it, and the stream sees the close.
    s.on('error', (e) => fail(e));
  });
}
