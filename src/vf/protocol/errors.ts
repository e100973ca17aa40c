// Typed errors of the mailbox codec. A decoder fed anything (garbage from a
// tenant, a truncated stream) throws MailboxDecodeError and nothing else; its
// message names what was wrong and where, never any byte of the frame (frames
// carry keys).

/** What the peer is told: `version` when only the version is wrong, `malformed` otherwise. */
export type DecodeProblem = 'malformed' | 'version';

export class MailboxDecodeError extends Error {
  override readonly name = 'MailboxDecodeError';
  constructor(
    /** what was being decoded ("frame header", "VFMB_A_CHILD", ...) */
    readonly what: string,
    /** byte offset within the frame */
    readonly offset: number,
    readonly reason: string,
    readonly problem: DecodeProblem = 'malformed',
  ) {
    super(`mailbox: cannot decode ${what} at offset ${offset}: ${reason}`);
  }
}

/** A value we were asked to send does not fit the wire format (a bug on our side, never the peer's). */
export class MailboxEncodeError extends Error {
  override readonly name = 'MailboxEncodeError';
  constructor(
    readonly what: string,
    readonly reason: string,
  ) {
    super(`mailbox: cannot encode ${what}: ${reason}`);
  }
}
