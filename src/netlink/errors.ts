// Typed errors of the netlink layer. None of them ever carries payload bytes:
// a failed NEWSA must not leak its key into a log line or a stack trace.
import { constants } from 'node:os';

const errnoNames = new Map<number, string>();
// Where Linux has two names for one number, the kernel's own: EOPNOTSUPP is
// what netlink code returns (ENOTSUP is its userspace alias), EAGAIN and
// EDEADLK are the primary spellings.
const PREFERRED = ['EOPNOTSUPP', 'EAGAIN', 'EDEADLK'];
for (const name of PREFERRED) {
  const v = (constants.errno as Record<string, number | undefined>)[name];
  if (v !== undefined) errnoNames.set(v, name);
}
for (const [name, value] of Object.entries(constants.errno)) {
  if (!errnoNames.has(value)) errnoNames.set(value, name);
}

/** errno number -> symbolic name ("EINVAL"); unknown numbers become "E<n>". */
export function errnoName(errno: number): string {
  return errnoNames.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

export interface NetlinkErrorDetails {
  /** positive errno */
  errno: number;
  /** the kernel's extended-ack message, when it sent one */
  extack?: string;
  /** byte offset of the offending attribute in our request (NLMSGERR_ATTR_OFFS) */
  offset?: number;
  /** the offending attribute, named from our codec tables when known */
  attribute?: string;
  /** what we asked: message type name and sequence number */
  request: string;
  seq?: number;
}

/** The kernel refused a request: errno, its name and the kernel's own words. */
export class NetlinkError extends Error {
  override readonly name = 'NetlinkError';
  readonly errno: number;
  readonly code: string;
  readonly extack: string | undefined;
  readonly offset: number | undefined;
  readonly attribute: string | undefined;
  readonly request: string;
  readonly seq: number | undefined;

  constructor(d: NetlinkErrorDetails) {
    const code = errnoName(d.errno);
    const what = d.extack ? `: ${d.extack}` : '';
    const where = d.attribute ? ` (attribute ${d.attribute})` : d.offset !== undefined ? ` (at offset ${d.offset})` : '';
    super(`${d.request} failed with ${code} (errno ${d.errno})${what}${where}`);
    this.errno = d.errno;
    this.code = code;
    this.extack = d.extack;
    this.offset = d.offset;
    this.attribute = d.attribute;
    this.request = d.request;
    this.seq = d.seq;
  }
}

/** No reply within the deadline; the request's sequence number is retired. */
export class NetlinkTimeoutError extends Error {
  override readonly name = 'NetlinkTimeoutError';
  readonly code = 'ETIMEDOUT';
  constructor(
    readonly request: string,
    readonly timeoutMs: number,
  ) {
    super(`${request}: no reply from the kernel within ${timeoutMs} ms`);
  }
}

/** Bytes from the kernel (or a fixture) that do not parse. Names where, never what. */
export class NetlinkDecodeError extends Error {
  override readonly name = 'NetlinkDecodeError';
  constructor(
    readonly what: string,
    readonly offset: number,
    reason: string,
  ) {
    super(`cannot decode ${what} at offset ${offset}: ${reason}`);
  }
}

/** A value we were asked to encode does not fit the wire format. */
export class NetlinkEncodeError extends Error {
  override readonly name = 'NetlinkEncodeError';
  constructor(
    readonly what: string,
    reason: string,
  ) {
    super(`cannot encode ${what}: ${reason}`);
  }
}

/** The socket itself failed (open, setns, send); carries errno when there is one. */
export class NetlinkSocketError extends Error {
  override readonly name = 'NetlinkSocketError';
  readonly errno: number | undefined;
  readonly code: string | undefined;
  constructor(message: string, errno?: number) {
    super(errno !== undefined ? `${message}: ${errnoName(errno)} (errno ${errno})` : message);
    this.errno = errno;
    this.code = errno !== undefined ? errnoName(errno) : undefined;
  }
}
