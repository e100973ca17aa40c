// Request/ack and dump over one netlink socket, with sequence matching,
// per-request deadlines and batching (many requests in one sendmsg).
//
// A requester never joins multicast groups: the kernel stamps notifications
// caused by our own requests with our seq and port id, so on a shared socket
// they would be indistinguishable from replies. Use NetlinkListener for events.
import type { NativeNetlinkSocket, NativeSocketEvent } from '../native/addon.js';
import { NetlinkDecodeError, NetlinkError, NetlinkSocketError, NetlinkTimeoutError } from './errors.js';
import {
  NLM_F_ACK,
  NLM_F_DUMP,
  NLM_F_DUMP_INTR,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSG_OVERRUN,
  encodeMessage,
  parseAck,
  parseDone,
  splitMessages,
  type NetlinkMessage,
  type OutgoingMessage,
} from './message.js';
import { openNative, type OpenOptions } from './open.js';

/** How a protocol codec names a request and its attributes in errors. */
export interface MessageDescriber {
  /** e.g. "XFRM_MSG_NEWSA" */
  name(type: number): string;
  /** attribute at `offset` (from the start of the nlmsghdr) of `request` */
  attributeAt?(request: Buffer, offset: number): string | undefined;
  /** attribute name for a type number reported as missing */
  attributeName?(type: number): string;
}

export interface RequestOptions {
  timeoutMs?: number;
  describe?: MessageDescriber;
}

/** One request's outcome, with the sequence number it went out with. */
export type BatchResult = { ok: true; replies: NetlinkMessage[]; seq: number } | { ok: false; error: Error; seq: number };

interface Pending {
  kind: 'ack' | 'dump';
  replies: NetlinkMessage[];
  interrupted: boolean;
  request: Buffer;
  describe: MessageDescriber | undefined;
  name: string;
  timeoutMs: number;
  deadline: number;
  resolve(replies: NetlinkMessage[], interrupted: boolean): void;
  reject(e: Error): void;
}

const DEFAULT_TIMEOUT_MS = 5000;
/** Requests per sendmsg: their acks must fit the receive buffer at once. */
const MAX_BATCH = 256;
const MAX_BATCH_BYTES = 128 * 1024;
const DUMP_RETRIES = 5;
/** Deadlines are checked by one sweep, not a timer per request. */
const SWEEP_MS = 50;

export class NetlinkRequester {
  readonly #sock: NativeNetlinkSocket;
  readonly #pending = new Map<number, Pending>();
  #seq: number;
  #closed = false;
  #sweep: NodeJS.Timeout | undefined;
  /** replies nobody waited for (late after a timeout, or foreign) */
  strayMessages = 0;

  private constructor(protocol: number, options: OpenOptions) {
    // Random start: a reopened socket never matches a late reply meant for
    // a previous incarnation on a recycled port id.
    this.#seq = (Math.random() * 0x7fffffff) >>> 0;
    this.#sock = openNative(
      protocol,
      { receiveBuffer: 4 << 20, ...options },
      (d) => this.#onData(d),
      (e) => this.#onEvent(e),
    );
    this.#sock.keepAlive(false);
  }

  static open(protocol: number, options: OpenOptions = {}): NetlinkRequester {
    return new NetlinkRequester(protocol, options);
  }

  get portId(): number {
    return this.#sock.portId;
  }

  /** Sends one request with NLM_F_ACK; resolves with any replies once acked. */
  async request(m: OutgoingMessage, opts: RequestOptions = {}): Promise<NetlinkMessage[]> {
    const [r] = await this.requestBatch([m], opts);
    if (!r) throw new Error('unreachable: empty batch result');
    if (!r.ok) throw r.error;
    return r.replies;
  }

  /**
   * Sends many requests, MAX_BATCH per sendmsg; each settles on its own.
   * The kernel handles a datagram synchronously, so by the time sendmsg
   * returns every ack of the chunk is queued for us.
   */
  async requestBatch(messages: readonly OutgoingMessage[], opts: RequestOptions = {}): Promise<BatchResult[]> {
    const results: Promise<BatchResult>[] = [];
    let chunk: Buffer[] = [];
    let chunkBytes = 0;
    let chunkPromises: Promise<BatchResult>[] = [];
    const flush = async (): Promise<void> => {
      if (chunk.length === 0) return;
      const toSend = chunk;
      const waiting = chunkPromises;
      chunk = [];
      chunkBytes = 0;
      chunkPromises = [];
      this.#send(toSend, waiting.length);
      await Promise.all(waiting);
    };
    for (const m of messages) {
      const { buf, seq, promise } = this.#prepare(m, (m.flags ?? 0) | NLM_F_REQUEST | NLM_F_ACK, 'ack', opts);
      const settled = promise.then(
        ([replies]): BatchResult => ({ ok: true, replies, seq }),
        (error: Error): BatchResult => ({ ok: false, error, seq }),
      );
      results.push(settled);
      chunk.push(buf);
      chunkBytes += buf.length;
      chunkPromises.push(settled);
      if (chunk.length >= MAX_BATCH || chunkBytes >= MAX_BATCH_BYTES) await flush();
    }
    await flush();
    return Promise.all(results);
  }

  /** NLM_F_DUMP request; retried when the kernel flags it interrupted (NLM_F_DUMP_INTR). */
  async dump(m: OutgoingMessage, opts: RequestOptions = {}): Promise<NetlinkMessage[]> {
    for (let attempt = 1; ; attempt++) {
      const { buf, promise } = this.#prepare(m, (m.flags ?? 0) | NLM_F_REQUEST | NLM_F_DUMP, 'dump', opts);
      this.#send([buf], 1);
      const [replies, interrupted] = await promise;
      if (!interrupted) return replies;
      if (attempt >= DUMP_RETRIES) {
        throw new NetlinkError({
          errno: 4, // EINTR
          extack: `dump interrupted by concurrent changes ${attempt} times in a row`,
          request: opts.describe?.name(m.type) ?? `type ${m.type}`,
        });
      }
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#sock.close();
    for (const [seq, p] of this.#pending) {
      this.#pending.delete(seq);
      p.reject(new NetlinkSocketError('socket closed while a request was pending'));
    }
    this.#updateKeepAlive();
  }

  #prepare(
    m: OutgoingMessage,
    flags: number,
    kind: Pending['kind'],
    opts: RequestOptions,
  ): { buf: Buffer; seq: number; promise: Promise<[NetlinkMessage[], boolean]> } {
    if (this.#closed) throw new NetlinkSocketError('socket is closed');
    this.#seq = (this.#seq + 1) >>> 0 || 1;
    const seq = this.#seq;
    // nlmsg_pid = our port id: the kernel copies it into the notifications a
    // request causes (XFRM: c->portid), so listeners can tell ours from others'.
    const buf = encodeMessage({ ...m, flags }, seq, this.#sock.portId);
    const name = opts.describe?.name(m.type) ?? `netlink type ${m.type}`;
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const promise = new Promise<[NetlinkMessage[], boolean]>((resolve, reject) => {
      this.#pending.set(seq, {
        kind,
        replies: [],
        interrupted: false,
        request: buf,
        describe: opts.describe,
        name,
        timeoutMs,
        // Provisional: restarted when sendmsg returns (the kernel handles the
        // request inside sendmsg, which can block for seconds loading modules).
        deadline: performance.now() + timeoutMs,
        resolve: (r, i) => resolve([r, i]),
        reject,
      });
    });
    this.#updateKeepAlive();
    return { buf, seq, promise };
  }

  #send(bufs: Buffer[], count: number): void {
    try {
      this.#sock.send(bufs);
      const now = performance.now();
      for (const b of bufs) {
        const p = this.#pending.get(b.readUInt32LE(8));
        if (p) p.deadline = now + p.timeoutMs;
      }
    } catch (e) {
      const err = e as { errno?: number; message?: string };
      const failure = new NetlinkSocketError(`sendmsg of ${count} request(s) failed`, err.errno);
      for (const b of bufs) this.#settle(b.readUInt32LE(8), undefined, failure);
    }
  }

  #settle(seq: number, ok: { replies: NetlinkMessage[]; interrupted: boolean } | undefined, error?: Error): void {
    const p = this.#pending.get(seq);
    if (!p) return;
    this.#pending.delete(seq);
    this.#updateKeepAlive();
    if (ok) p.resolve(ok.replies, ok.interrupted);
    else p.reject(error ?? new Error('unknown failure'));
    // The framed request may hold key material (NEWSA): zero our copy now,
    // not whenever the garbage collector gets to it.
    p.request.fill(0);
  }

  #onData(datagrams: Buffer[]): void {
    for (const d of datagrams) {
      let messages: NetlinkMessage[];
      try {
        messages = splitMessages(d);
      } catch (e) {
        if (e instanceof NetlinkDecodeError) {
          this.strayMessages++;
          continue;
        }
        throw e;
      }
      for (const m of messages) this.#onMessage(m);
    }
  }

  #onMessage(m: NetlinkMessage): void {
    const p = this.#pending.get(m.seq);
    if (!p || (m.pid !== 0 && m.pid !== this.#sock.portId)) {
      this.strayMessages++;
      return;
    }
    if (m.flags & NLM_F_DUMP_INTR) p.interrupted = true;
    if (m.type === NLMSG_ERROR) {
      const ack = parseAck(m);
      if (ack.errno === 0) this.#settle(m.seq, { replies: p.replies, interrupted: p.interrupted });
      else this.#settle(m.seq, undefined, this.#error(p, ack.errno, ack.extack, ack.offset, ack.missingType));
      return;
    }
    if (m.type === NLMSG_DONE && p.kind === 'dump') {
      const done = parseDone(m);
      if (done.errno === 0) this.#settle(m.seq, { replies: p.replies, interrupted: p.interrupted });
      else this.#settle(m.seq, undefined, this.#error(p, done.errno, done.extack, done.offset));
      return;
    }
    if (m.type === NLMSG_OVERRUN) {
      this.#settle(m.seq, undefined, this.#error(p, 105 /* ENOBUFS */, 'netlink overrun'));
      return;
    }
    // Copy: the payload is a view into a datagram buffer we do not keep.
    p.replies.push({ ...m, payload: Buffer.from(m.payload) });
  }

  #error(p: Pending, errno: number, extack?: string, offset?: number, missingType?: number): NetlinkError {
    const type = p.request.readUInt16LE(4);
    const d = p.describe;
    let attribute: string | undefined;
    if (offset !== undefined && offset >= NLMSG_HDRLEN) attribute = d?.attributeAt?.(p.request, offset);
    if (missingType !== undefined) {
      const missing = d?.attributeName?.(missingType) ?? `type ${missingType}`;
      attribute = `missing ${missing}`;
    }
    return new NetlinkError({
      errno,
      ...(extack !== undefined ? { extack } : {}),
      ...(offset !== undefined ? { offset } : {}),
      ...(attribute !== undefined ? { attribute } : {}),
      request: d?.name(type) ?? `netlink type ${type}`,
      seq: p.request.readUInt32LE(8),
    });
  }

  #onEvent(e: NativeSocketEvent): void {
    if (e.type === 'enobufs') {
      // Replies were dropped; which ones is unknowable. Fail everything in
      // flight now rather than letting callers wait for their deadlines.
      for (const seq of [...this.#pending.keys()]) {
        this.#settle(seq, undefined, new NetlinkSocketError('receive buffer overrun, replies lost; re-read the state', e.errno));
      }
    } else if (e.type === 'foreign' || e.type === 'truncated') {
      this.strayMessages++;
    }
  }

  #updateKeepAlive(): void {
    const busy = this.#pending.size > 0 && !this.#closed;
    if (busy === (this.#sweep !== undefined)) return;
    if (busy) {
      this.#sweep = setInterval(() => this.#expire(), SWEEP_MS);
      this.#sock.keepAlive(true);
    } else {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
      if (!this.#closed) this.#sock.keepAlive(false);
    }
  }

  #expire(): void {
    const now = performance.now();
    const expired = [...this.#pending].filter(([, p]) => p.deadline <= now).map(([seq]) => seq);
    if (expired.length === 0) return;
    // Timers run before I/O in a loop turn: after a stall (a long sendmsg, a
    // busy JS task) the reply may already be queued. Give the poll phase of
    // this turn a chance (setImmediate runs after it) before calling it a timeout.
    setImmediate(() => {
      for (const seq of expired) {
        const p = this.#pending.get(seq);
        if (p) this.#settle(seq, undefined, new NetlinkTimeoutError(p.name, p.timeoutMs));
      }
    });
  }
}
