// Typed errors of the session layer: what charon answered, and what went wrong
// with the socket. Messages name commands, events and socket paths, never values.
import type { ViciMessage } from '../wire/message.js';

/** charon answered `success = no`; `errmsg` is charon's own text. */
export class ViciCommandError extends Error {
  override readonly name = 'ViciCommandError';
  constructor(
    readonly command: string,
    readonly errmsg: string | undefined,
    /** the whole response (e.g. `matches`, `terminated` for terminate) */
    readonly response: ViciMessage,
    /** what a streamed command delivered before failing (initiate: its control-log lines) */
    readonly events: readonly ViciMessage[] = [],
  ) {
    super(`VICI command ${command} failed: ${errmsg ?? 'charon gave no errmsg'}`);
  }
}

/** charon has no handler for this command (CMD_UNKNOWN): feature detection. */
export class ViciUnknownCommandError extends Error {
  override readonly name = 'ViciUnknownCommandError';
  constructor(readonly command: string) {
    super(`charon does not know the VICI command ${command}`);
  }
}

/** charon refused to (un)register these events (EVENT_UNKNOWN): feature detection. */
export class ViciUnknownEventError extends Error {
  override readonly name = 'ViciUnknownEventError';
  constructor(readonly events: readonly string[]) {
    super(`charon does not know the VICI event${events.length === 1 ? '' : 's'} ${events.join(', ')}`);
  }
}

/**
 * No answer in time. When the request had been sent, its socket was reset so a
 * late reply cannot be taken for the answer to a later request; charon may
 * still carry the command out.
 */
export class ViciTimeoutError extends Error {
  override readonly name = 'ViciTimeoutError';
  constructor(
    /** "command list-sas", "event registration ike-updown", "connect" */
    readonly operation: string,
    readonly timeoutMs: number,
    /** true if the request had reached charon's socket (its socket was then reset) */
    readonly sent: boolean,
  ) {
    super(`VICI ${operation}: no answer within ${timeoutMs} ms${sent ? ' (socket reset)' : ''}`);
  }
}

export type ViciSocketOperation = 'connect' | 'read' | 'write' | 'closed';

/** The socket failed: it names the path and, when the OS gave one, the error code. */
export class ViciSocketError extends Error {
  /** The same failure with more said about it (which command was hit, how long we waited). */
  static extend(e: ViciSocketError, more: string): ViciSocketError {
    return new ViciSocketError(e.path, e.operation, e.code, `${e.detail}${more}`);
  }

  override readonly name = 'ViciSocketError';
  constructor(
    readonly path: string,
    readonly operation: ViciSocketOperation,
    /** ENOENT, ECONNREFUSED, EACCES, ECONNRESET, EPIPE ... */
    readonly code: string | undefined,
    /** what happened, without the path */
    readonly detail: string,
  ) {
    super(`VICI socket ${path}: ${detail}${code && !detail.includes(code) ? ` (${code})` : ''}`);
  }
}

/** The session was closed by its owner; nothing more is sent. */
export class ViciClosedError extends Error {
  override readonly name = 'ViciClosedError';
  constructor(readonly operation: string) {
    super(`VICI session closed: ${operation} was not completed`);
  }
}
