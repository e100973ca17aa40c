// A VICI session: one command socket (FIFO, one command in flight) and one
// event socket (subscriptions, kept alive across charon restarts). The shape
// follows strongSwan's govici (call, streamed call, subscribe); reconnect with
// backoff and automatic re-registration are what govici leaves to its users.
import { EventEmitter } from 'node:events';
import { encodeMessage } from '../wire/elements.js';
import type { ViciMessage } from '../wire/message.js';
import type { ViciInputSection } from '../wire/values.js';
import type { BackoffOptions } from './backoff.js';
import { CommandChannel, type CommandResult } from './command-channel.js';
import type { CloseReason } from './connection.js';
import { ViciUnknownEventError } from './errors.js';
import { EventChannel, type SubscribeResult } from './event-channel.js';
import { DEFAULT_SOCKET_PATHS, discoverSocketPath, normalizeSocketPath } from './socket-path.js';

export interface ViciSessionOptions {
  /**
   * Socket path or unix:// URI. Default: the first of /var/run/charon.vici and
   * /run/strongswan/charon.vici that exists, looked up at each connect attempt.
   */
  socketPath?: string;
  /** Candidates for discovery when socketPath is not given. */
  socketCandidates?: readonly string[];
  /** Default deadline of a call, subscribe or unsubscribe (ms; default 30000; Infinity = none). */
  timeoutMs?: number;
  /** Default deadline of connect(), and of each single connect attempt (ms; default 10000). */
  connectTimeoutMs?: number;
  /**
   * Reconnect with capped exponential backoff (default: 100 ms doubling up to
   * 5 s). false: a failed connect fails at once and a lost event socket stays down.
   */
  reconnect?: boolean | BackoffOptions;
}

export interface CallOptions {
  /** Deadline for this call, queueing included (ms; Infinity = none). */
  timeoutMs?: number;
}

export interface StreamedCallOptions extends CallOptions {
  /** Each streamed event as it arrives (they are also in the result unless collect is false). */
  onEvent?: (message: ViciMessage) => void;
  /** Keep the streamed events in the result (default true). */
  collect?: boolean;
}

export interface SubscribeOptions {
  timeoutMs?: number;
  /** Resolve with the unknown names instead of rejecting with ViciUnknownEventError. */
  ignoreUnknown?: boolean;
}

export interface ViciEvent {
  name: string;
  message: ViciMessage;
  /** Date.now() when the event was decoded */
  receivedAt: number;
}

export interface StreamedResult {
  /** the streamed event messages, in arrival order */
  events: ViciMessage[];
  /** the final response (empty for list commands) */
  response: ViciMessage;
}

// A type alias (not an interface) so it satisfies EventEmitter's EventMap constraint.
export type ViciSessionEvents = {
  /** an event from a subscription (or one charon sent unasked on the command socket) */
  event: [event: ViciEvent];
  /** the event socket is up with all subscriptions registered, for the first time */
  connected: [];
  /** the event socket was lost (charon stopped, socket removed, protocol error, timeout) */
  disconnected: [reason: CloseReason];
  /** up again with every subscription re-registered: resync now (e.g. list-sas) */
  reconnected: [info: { downMs: number }];
  /** problems nobody awaits, e.g. charon refusing an event on re-registration; emitted only if listened to */
  error: [error: Error];
};

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export class ViciSession extends EventEmitter<ViciSessionEvents> {
  readonly timeoutMs: number;
  readonly connectTimeoutMs: number;
  readonly #commands: CommandChannel;
  readonly #events: EventChannel;
  readonly #fixedPath: string | undefined;
  readonly #candidates: readonly string[];
  #lastPath: string;
  #closed = false;

  constructor(options: ViciSessionOptions = {}) {
    super();
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#fixedPath = options.socketPath !== undefined ? normalizeSocketPath(options.socketPath) : undefined;
    this.#candidates = options.socketCandidates ?? DEFAULT_SOCKET_PATHS;
    this.#lastPath = this.#fixedPath ?? this.#candidates[0] ?? DEFAULT_SOCKET_PATHS[0] ?? '';
    const r = options.reconnect;
    const backoff: BackoffOptions | false = r === false ? false : r === true || r === undefined ? {} : r;
    const base = {
      resolvePath: () => (this.#lastPath = this.#fixedPath ?? discoverSocketPath(this.#candidates)),
      connectTimeoutMs: this.connectTimeoutMs,
      backoff,
      onStrayEvent: (name: string, message: ViciMessage) => this.#emitEvent(name, message),
    };
    this.#commands = new CommandChannel(base);
    this.#events = new EventChannel({
      ...base,
      requestTimeoutMs: Number.isFinite(this.timeoutMs) ? this.timeoutMs : DEFAULT_TIMEOUT_MS,
      onEvent: (name, message) => this.#emitEvent(name, message),
      onUp: (downMs) => {
        if (downMs === undefined) this.emit('connected');
        else this.emit('reconnected', { downMs });
      },
      onDown: (reason) => {
        this.emit('disconnected', reason);
      },
      onError: (error) => this.#emitError(error),
    });
  }

  /** The socket path in use (or last tried). */
  get socketPath(): string {
    return this.#lastPath;
  }

  /** True while the event socket is up with all subscriptions registered. */
  get connected(): boolean {
    return this.#events.up;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Subscribed event names. */
  get subscriptions(): string[] {
    return this.#events.subscriptions;
  }

  /**
   * Opens both sockets. With reconnect on, retries (with backoff) until
   * timeoutMs, then rejects with the last ViciSocketError (which names the
   * path). Calls and subscribe() also connect on demand; connect() is for
   * failing early and for watching `connected`/`reconnected` from the start.
   */
  async connect(options: CallOptions = {}): Promise<void> {
    const t = options.timeoutMs ?? this.connectTimeoutMs;
    await Promise.all([this.#events.connect(t), this.#commands.connect(t)]);
  }

  /** Sends a command and returns its response; `success = no` rejects with ViciCommandError. */
  async call(command: string, message?: ViciInputSection, options: CallOptions = {}): Promise<ViciMessage> {
    const r = await this.#commands.run({ command, message: encodeOptional(message), timeoutMs: options.timeoutMs ?? this.timeoutMs });
    return r.response;
  }

  /**
   * A command whose results stream as events (list-sas -> list-sa, initiate ->
   * control-log): registers `event` on the command socket, sends the command,
   * gathers the events until the response, unregisters. Only this call sees them.
   */
  async streamedCall(command: string, event: string, message?: ViciInputSection, options: StreamedCallOptions = {}): Promise<StreamedResult> {
    const r: CommandResult = await this.#commands.run({
      command,
      message: encodeOptional(message),
      stream: event,
      timeoutMs: options.timeoutMs ?? this.timeoutMs,
      ...(options.onEvent ? { onEvent: options.onEvent } : {}),
      ...(options.collect !== undefined ? { collect: options.collect } : {}),
    });
    return { events: r.events, response: r.response };
  }

  /**
   * streamedCall as an async iterator: yields each event as it arrives and
   * returns the response. Breaking out early does not stop charon; the rest of
   * the stream is read and dropped so the socket stays in step.
   */
  async *stream(command: string, event: string, message?: ViciInputSection, options: CallOptions = {}): AsyncGenerator<ViciMessage, ViciMessage, undefined> {
    const queue: ViciMessage[] = [];
    let wake: (() => void) | undefined;
    let outcome: { response: ViciMessage } | { error: unknown } | undefined;
    this.streamedCall(command, event, message, {
      ...options,
      collect: false,
      onEvent: (m) => {
        queue.push(m);
        wake?.();
      },
    }).then(
      (r) => {
        outcome = { response: r.response };
        wake?.();
      },
      (error: unknown) => {
        outcome = { error };
        wake?.();
      },
    );
    for (;;) {
      const next = queue.shift();
      if (next) {
        yield next;
        continue;
      }
      if (outcome) {
        if ('error' in outcome) throw outcome.error;
        return outcome.response;
      }
      await new Promise<void>((r) => (wake = r));
      wake = undefined;
    }
  }

  /**
   * Registers events on the event socket (once each, however often asked).
   * They stay registered across reconnects. Unknown names reject with
   * ViciUnknownEventError (after the known ones are registered) unless
   * ignoreUnknown is set.
   */
  async subscribe(names: string | readonly string[], options: SubscribeOptions = {}): Promise<SubscribeResult> {
    const list = typeof names === 'string' ? [names] : names;
    const r = await this.#events.subscribe(list, options.timeoutMs ?? this.timeoutMs);
    if (r.unknown.length && !options.ignoreUnknown) throw new ViciUnknownEventError(r.unknown);
    return r;
  }

  async unsubscribe(names: string | readonly string[], options: CallOptions = {}): Promise<void> {
    const list = typeof names === 'string' ? [names] : names;
    await this.#events.unsubscribe(list, options.timeoutMs ?? this.timeoutMs);
  }

  /** Closes both sockets. Pending calls reject with ViciClosedError; no event is emitted. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#commands.close();
    this.#events.close();
  }

  #emitEvent(name: string, message: ViciMessage): void {
    this.emit('event', { name, message, receivedAt: Date.now() });
  }

  #emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

function encodeOptional(message: ViciInputSection | undefined): Buffer {
  return message === undefined ? Buffer.alloc(0) : encodeMessage(message);
}
