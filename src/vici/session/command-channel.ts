// The command socket. VICI has no sequence numbers, so exactly one command is
// in flight per connection and replies are matched by position: a FIFO queue,
// one active job. A streamed command registers its event on this socket, so
// charon sends the stream (list-sa, control-log, ...) here and only here, then
// the response ends it. A job that times out after being sent resets the
// socket: its late reply can then never be taken for the next job's.
import { decodeMessage } from '../wire/elements.js';
import { ViciProtocolError } from '../wire/errors.js';
import type { ViciMessage } from '../wire/message.js';
import { PacketType, checkName, encodePacket, packetLabel, type Packet } from '../wire/packet.js';
import { Backoff } from './backoff.js';
import { ViciConnection, type CloseReason } from './connection.js';
import {
  ViciClosedError,
  ViciCommandError,
  ViciSocketError,
  ViciTimeoutError,
  ViciUnknownCommandError,
  ViciUnknownEventError,
} from './errors.js';
import type { ChannelContext } from './context.js';
import { Waiters } from './waiters.js';

export interface CommandRequest {
  command: string;
  /** encoded request message (may be empty) */
  message: Buffer;
  /** event that streams this command's results (list-sa for list-sas) */
  stream?: string;
  /** Infinity: wait as long as it takes */
  timeoutMs: number;
  /** each streamed event, as it arrives */
  onEvent?: (message: ViciMessage) => void;
  /** keep streamed events for the result (default true) */
  collect?: boolean;
}

export interface CommandResult {
  response: ViciMessage;
  events: ViciMessage[];
}

type Phase = 'queued' | 'register' | 'request' | 'unregister';

interface Job {
  readonly req: CommandRequest;
  readonly segment: Buffer;
  phase: Phase;
  events: ViciMessage[];
  response?: ViciMessage;
  unknownCommand: boolean;
  /** what the caller's onEvent threw; the job still runs to the end of its stream */
  callbackError?: Error;
  done: boolean;
  timer?: NodeJS.Timeout;
  resolve(result: CommandResult): void;
  reject(error: Error): void;
}

export class CommandChannel {
  readonly #ctx: ChannelContext;
  readonly #backoff: Backoff | undefined;
  readonly #connectWaiters = new Waiters<void>();
  #queue: Job[] = [];
  #active: Job | undefined;
  #conn: ViciConnection | undefined;
  #connecting = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #closed = false;
  /** why the last connect attempt or connection failed, for the errors of those who gave up waiting */
  #lastError: Error | undefined;

  constructor(ctx: ChannelContext) {
    this.#ctx = ctx;
    this.#backoff = ctx.backoff ? new Backoff(ctx.backoff) : undefined;
  }

  get connected(): boolean {
    return this.#conn !== undefined;
  }

  /** Queues a command. Names and size are checked now, before anything is queued. */
  run(req: CommandRequest): Promise<CommandResult> {
    if (this.#closed) return Promise.reject(new ViciClosedError(`command ${req.command}`));
    let segment: Buffer;
    try {
      checkName(req.command, 'command name', false);
      if (req.stream !== undefined) checkName(req.stream, 'stream event name', false);
      segment = encodePacket({ type: PacketType.CMD_REQUEST, name: req.command, message: req.message });
    } catch (e) {
      return Promise.reject(e as Error);
    }
    return new Promise<CommandResult>((resolve, reject) => {
      const job: Job = { req, segment, phase: 'queued', events: [], unknownCommand: false, done: false, resolve, reject };
      if (Number.isFinite(req.timeoutMs)) job.timer = setTimeout(() => this.#timeout(job), req.timeoutMs);
      this.#queue.push(job);
      this.#pump();
    });
  }

  /** Resolves once the socket is open (now, or after retries within timeoutMs). */
  connect(timeoutMs: number): Promise<void> {
    if (this.#closed) return Promise.reject(new ViciClosedError('connect'));
    if (this.#conn) return Promise.resolve();
    const p = this.#connectWaiters.add(timeoutMs, () => this.#lastFailure('connect', timeoutMs));
    this.#ensureConnecting();
    return p;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    const jobs = this.#active ? [this.#active, ...this.#queue] : this.#queue;
    this.#queue = [];
    this.#active = undefined;
    for (const job of jobs) this.#settle(job, new ViciClosedError(`command ${job.req.command}`));
    this.#connectWaiters.rejectAll(new ViciClosedError('connect'));
    this.#conn?.destroy(new ViciClosedError('command socket'));
    this.#conn = undefined;
  }

  #lastFailure(op: string, timeoutMs: number): Error {
    const last = this.#lastError;
    if (last instanceof ViciSocketError) {
      return ViciSocketError.extend(last, `; gave up after ${timeoutMs} ms`);
    }
    return new ViciTimeoutError(op, timeoutMs, false);
  }

  #hasDemand(): boolean {
    return this.#connectWaiters.size > 0 || this.#queue.some((j) => !j.done);
  }

  #pump(): void {
    if (this.#closed) return;
    if (!this.#conn) {
      if (this.#hasDemand()) this.#ensureConnecting();
      return;
    }
    if (this.#active) return;
    let job: Job | undefined;
    while ((job = this.#queue.shift()) && job.done);
    if (!job) return;
    this.#active = job;
    if (job.req.stream !== undefined) {
      job.phase = 'register';
      this.#send({ type: PacketType.EVENT_REGISTER, name: job.req.stream });
    } else {
      job.phase = 'request';
      this.#sendSegment(job.segment);
    }
  }

  #send(packet: Packet): void {
    this.#sendSegment(encodePacket(packet));
  }

  #sendSegment(segment: Buffer): void {
    // A connection that is going away reports through onClose; the write is lost with it.
    if (this.#conn && !this.#conn.closed) this.#conn.sendSegment(segment);
  }

  #ensureConnecting(): void {
    if (this.#connecting || this.#conn || this.#closed || this.#retryTimer) return;
    this.#connecting = true;
    const path = this.#ctx.resolvePath();
    ViciConnection.connect(path, this.#ctx.connectTimeoutMs).then(
      (conn) => {
        this.#connecting = false;
        if (this.#closed) {
          conn.destroy(new ViciClosedError('command socket'));
          return;
        }
        this.#conn = conn;
        this.#backoff?.reset();
        conn.attach({ onPacket: (p) => this.#onPacket(conn, p), onClose: (r) => this.#onClose(conn, r) });
        this.#connectWaiters.resolveAll();
        this.#pump();
      },
      (err: Error) => {
        this.#connecting = false;
        this.#lastError = err;
        if (this.#closed) return;
        if (!this.#backoff) {
          // No retries: everyone waiting for this connection fails now.
          for (const job of this.#queue.splice(0)) this.#settle(job, err);
          this.#connectWaiters.rejectAll(err);
          return;
        }
        if (!this.#hasDemand()) return;
        this.#retryTimer = setTimeout(() => {
          this.#retryTimer = undefined;
          if (this.#hasDemand()) this.#ensureConnecting();
        }, this.#backoff.next());
      },
    );
  }

  #onPacket(conn: ViciConnection, p: Packet): void {
    if (conn !== this.#conn) return;
    const job = this.#active;
    if (!job) return this.#protocolError(conn, `unexpected ${packetLabel(p.type)} while no command is active`);
    let message: ViciMessage | undefined;
    if (p.message !== undefined) {
      try {
        message = decodeMessage(p.message);
      } catch (e) {
        // The reply is unusable and the stream suspect: reset.
        return conn.destroy(e as Error);
      }
    }
    switch (p.type) {
      case PacketType.EVENT:
        if (job.phase !== 'request') return this.#protocolError(conn, `EVENT ${p.name ?? ''} during ${job.phase} of ${job.req.command}`);
        if (p.name === job.req.stream) this.#deliver(job, message as ViciMessage);
        else this.#ctx.onStrayEvent(p.name ?? '', message as ViciMessage);
        return;
      case PacketType.CMD_RESPONSE:
      case PacketType.CMD_UNKNOWN:
        if (job.phase !== 'request') return this.#protocolError(conn, `${packetLabel(p.type)} during ${job.phase} of ${job.req.command}`);
        if (p.type === PacketType.CMD_RESPONSE) job.response = message;
        else job.unknownCommand = true;
        if (job.req.stream !== undefined) {
          job.phase = 'unregister';
          this.#send({ type: PacketType.EVENT_UNREGISTER, name: job.req.stream });
        } else {
          this.#finish(job);
        }
        return;
      case PacketType.EVENT_CONFIRM:
      case PacketType.EVENT_UNKNOWN:
        if (job.phase === 'register') {
          if (p.type === PacketType.EVENT_UNKNOWN) {
            this.#active = undefined;
            this.#settle(job, new ViciUnknownEventError([job.req.stream as string]));
            this.#pump();
          } else {
            job.phase = 'request';
            this.#sendSegment(job.segment);
          }
          return;
        }
        // An unregister reply ends the job either way: we asked to stop the stream.
        if (job.phase === 'unregister') return this.#finish(job);
        return this.#protocolError(conn, `${packetLabel(p.type)} during ${job.phase} of ${job.req.command}`);
      default:
        return this.#protocolError(conn, `${packetLabel(p.type)} is a client packet type`);
    }
  }

  #deliver(job: Job, message: ViciMessage): void {
    if (job.req.collect !== false) job.events.push(message);
    if (!job.req.onEvent || job.callbackError) return;
    try {
      job.req.onEvent(message);
    } catch (e) {
      job.callbackError = e instanceof Error ? e : new Error(String(e));
    }
  }

  #protocolError(conn: ViciConnection, reason: string): void {
    conn.destroy(new ViciProtocolError('packet', reason));
  }

  #finish(job: Job): void {
    if (this.#active === job) this.#active = undefined;
    const cmd = job.req.command;
    if (job.callbackError) this.#settle(job, job.callbackError);
    else if (job.unknownCommand) this.#settle(job, new ViciUnknownCommandError(cmd));
    else {
      const response = job.response as ViciMessage;
      const success = response.has('success') ? textOf(response, 'success') : 'yes';
      if (success !== 'yes') this.#settle(job, new ViciCommandError(cmd, errmsgOf(response), response, job.events));
      else this.#settle(job, { response, events: job.events });
    }
    this.#pump();
  }

  #settle(job: Job, outcome: CommandResult | Error): void {
    if (job.done) return;
    job.done = true;
    clearTimeout(job.timer);
    if (outcome instanceof Error) job.reject(outcome);
    else job.resolve(outcome);
  }

  #timeout(job: Job): void {
    if (job.done) return;
    const sent = job === this.#active;
    if (sent) {
      // The reply may still come: drop the socket so it cannot be matched to the next job.
      const conn = this.#conn;
      this.#conn = undefined;
      this.#active = undefined;
      conn?.destroy(new ViciTimeoutError(`command ${job.req.command}`, job.req.timeoutMs, true));
    } else {
      this.#queue = this.#queue.filter((j) => j !== job);
    }
    // Only the unregistration was outstanding: the command itself has its answer.
    if (job.phase === 'unregister') this.#finish(job);
    else this.#settle(job, new ViciTimeoutError(`command ${job.req.command}`, job.req.timeoutMs, sent));
    this.#pump();
  }

  #onClose(conn: ViciConnection, reason: CloseReason): void {
    if (conn !== this.#conn) return;
    this.#conn = undefined;
    this.#lastError = reason;
    const job = this.#active;
    this.#active = undefined;
    if (job?.phase === 'unregister') {
      // The response is in; the lost unregistration does not matter (charon drops registrations with the connection).
      this.#finish(job);
    } else if (job) {
      const err =
        reason instanceof ViciSocketError ? ViciSocketError.extend(reason, ` while ${job.req.command} was in flight`) : reason;
      this.#settle(job, err);
    }
    this.#pump();
  }
}

/** A value as text, or undefined when it is a section or list (a reply we cannot read). */
function textOf(response: ViciMessage, key: string): string | undefined {
  const v = response.get(key);
  return Buffer.isBuffer(v) ? v.toString('utf8') : undefined;
}

function errmsgOf(response: ViciMessage): string | undefined {
  return textOf(response, 'errmsg');
}
