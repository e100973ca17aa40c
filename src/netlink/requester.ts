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

/**
 * Where a request's outcome goes. A batch shares one per sendmsg chunk and
 * each request knows its slot: no promise or closure per request (at
 * thousands of NEWSA per batch their allocation and GC were most of this
 * file's cost).
 */
interface Completion {
  settle(slot: number, seq: number, error: Error | undefined, replies: NetlinkMessage[], interrupted: boolean): void;
}

interface Pending {
  kind: 'ack' | 'dump';
  replies: NetlinkMessage[];
  interrupted: boolean;
  request: Buffer;
  describe: MessageDescriber | undefined;
  timeoutMs: number;
  deadline: number;
  completion: Completion;
  slot: number;
}

/** The requests of one sendmsg: results land in their slots; one promise for all. */
class ChunkCompletion implements Completion {
  #waiting = 0;
  #release: (() => void) | undefined;
  constructor(readonly results: BatchResult[]) {}

  add(): void {
    this.#waiting++;
  }

  settle(slot: number, seq: number, error: Error | undefined, replies: NetlinkMessage[]): void {
    this.results[slot] = error ? { ok: false, error, seq } : { ok: true, replies, seq };
    if (--this.#waiting === 0) this.#release?.();
  }

  /** Resolves once every request added so far has settled. */
  settled(): Promise<void> {
    if (this.#waiting === 0) return Promise.resolve();
    return new Promise((resolve) => (this.#release = resolve));
  }
}

/** One dump: a promise of its replies and whether the kernel flagged it interrupted. */
class DumpCompletion implements Completion {
  readonly promise: Promise<[NetlinkMessage[], boolean]>;
  #resolve!: (v: [NetlinkMessage[], boolean]) => void;
  #reject!: (e: Error) => void;
  constructor() {
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  settle(_slot: number, _seq: number, error: Error | undefined, replies: NetlinkMessage[], interrupted: boolean): void {
    if (error) this.#reject(error);
    else this.#resolve([replies, interrupted]);
  }
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
  /** cached: reading it from the addon costs a native call per request */
  readonly #portId: number;
  readonly #pending = new Map<number, Pending>();
  #seq: number;
  #closed = false;
  #sweep: NodeJS.Timeout | undefined;
  /** the kernel runs one dump per socket at a time (EBUSY otherwise): dumps queue here */
  #dumpChain: Promise<unknown> = Promise.resolve();
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
    this.#portId = this.#sock.portId;
  }

  static open(protocol: number, options: OpenOptions = {}): NetlinkRequester {
    return new NetlinkRequester(protocol, options);
  }

  get portId(): number {
    return this.#portId;
  }

  /** Requests sent (or prepared) and not settled yet. */
  get inFlight(): number {
    return this.#pending.size;
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
    const results = new Array<BatchResult>(messages.length);
    let i = 0;
    while (i < messages.length) {
      const chunk = new ChunkCompletion(results);
      const bufs: Buffer[] = [];
      const pendings: Pending[] = [];
      let bytes = 0;
      try {
        while (i < messages.length && bufs.length < MAX_BATCH && bytes < MAX_BATCH_BYTES) {
          const m = messages[i] as OutgoingMessage;
          const p = this.#prepare(m, (m.flags ?? 0) | NLM_F_REQUEST | NLM_F_ACK, 'ack', opts, chunk, i);
          chunk.add();
          bufs.push(p.request);
          pendings.push(p);
          bytes += p.request.length;
          i++;
        }
      } catch (e) {
        // A message that cannot be framed: nothing of this chunk was sent.
        // Settle what was prepared (and wipe it) rather than leave it
        // waiting for a timeout.
        for (const b of bufs) this.#settle(b.readUInt32LE(8), undefined, e as Error);
        throw e;
      }
      this.#send(bufs, pendings);
      await chunk.settled();
    }
    return results;
  }

  /**
   * NLM_F_DUMP request; retried when the kernel flags it interrupted
   * (NLM_F_DUMP_INTR). Dumps on one socket run one after another.
   */
  dump(m: OutgoingMessage, opts: RequestOptions = {}): Promise<NetlinkMessage[]> {
    // The chain itself never rejects (failures are caught below): one handler.
    const run = this.#dumpChain.then(() => this.#dumpNow(m, opts));
    this.#dumpChain = run.catch(() => undefined);
    return run;
  }

  async #dumpNow(m: OutgoingMessage, opts: RequestOptions): Promise<NetlinkMessage[]> {
    for (let attempt = 1; ; attempt++) {
      const done = new DumpCompletion();
      const p = this.#prepare(m, (m.flags ?? 0) | NLM_F_REQUEST | NLM_F_DUMP, 'dump', opts, done, 0);
      this.#send([p.request], [p]);
      const [replies, interrupted] = await done.promise;
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
    for (const seq of [...this.#pending.keys()]) this.#settle(seq, undefined, new NetlinkSocketError('socket closed while a request was pending'));
    this.#updateKeepAlive();
  }

  #prepare(m: OutgoingMessage, flags: number, kind: Pending['kind'], opts: RequestOptions, completion: Completion, slot: number): Pending {
    if (this.#closed) throw new NetlinkSocketError('socket is closed');
    this.#seq = (this.#seq + 1) >>> 0 || 1;
    const seq = this.#seq;
    // nlmsg_pid = our port id: the kernel copies it into the notifications a
    // request causes (XFRM: c->portid), so listeners can tell ours from others'.
    // An object literal, not `{ ...m, flags }`: on Node 20 that spread took
    // the slow path and left an object whose property loads in encodeMessage
    // were slow too (~3.5 µs a request, measured).
    const request = encodeMessage({ type: m.type, flags, payload: m.payload }, seq, this.#portId);
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const p: Pending = {
      kind,
      replies: [],
      interrupted: false,
      request,
      describe: opts.describe,
      timeoutMs,
      // Provisional: restarted when sendmsg returns (the kernel handles the
      // request inside sendmsg, which can block for seconds loading modules).
      deadline: performance.now() + timeoutMs,
      completion,
      slot,
    };
    this.#pending.set(seq, p);
    this.#updateKeepAlive();
    return p;
  }

  #send(bufs: Buffer[], pendings: readonly Pending[]): void {
    try {
      this.#sock.send(bufs);
      const now = performance.now();
      for (const p of pendings) p.deadline = now + p.timeoutMs;
    } catch (e) {
      const err = e as { errno?: number; message?: string };
      const failure = new NetlinkSocketError(`sendmsg of ${bufs.length} request(s) failed`, err.errno);
      for (const b of bufs) this.#settle(b.readUInt32LE(8), undefined, failure);
    }
  }

  #settle(seq: number, ok: { replies: NetlinkMessage[]; interrupted: boolean } | undefined, error?: Error): void {
    const p = this.#pending.get(seq);
    if (!p) return;
    this.#pending.delete(seq);
    this.#updateKeepAlive();
    if (ok) p.completion.settle(p.slot, seq, undefined, ok.replies, ok.interrupted);
    else p.completion.settle(p.slot, seq, error ?? new Error('unknown failure'), p.replies, p.interrupted);
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
    if (!p || (m.pid !== 0 && m.pid !== this.#portId)) {
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
      request: this.#name(p),
      seq: p.request.readUInt32LE(8),
    });
  }

  /** The request's name for errors, only computed when one is made. */
  #name(p: Pending): string {
    const type = p.request.readUInt16LE(4);
    return p.describe?.name(type) ?? `netlink type ${type}`;
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
        if (p) this.#settle(seq, undefined, new NetlinkTimeoutError(this.#name(p), p.timeoutMs));
      }
    });
  }
}
