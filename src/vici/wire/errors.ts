// Typed errors of the wire layer. None of them carries a value's bytes: values
// can be secrets (load-shared `data`), so messages name keys and offsets only.

/** Bytes from the peer that break the VICI framing, packet or message rules. */
export class ViciProtocolError extends Error {
  override readonly name = 'ViciProtocolError';
  constructor(
    /** what was being decoded: "segment", "packet", "message" */
    readonly what: string,
    reason: string,
    /** byte offset within the thing being decoded, when known */
    readonly offset?: number,
  ) {
    super(`invalid VICI ${what}${offset !== undefined ? ` at offset ${offset}` : ''}: ${reason}`);
  }
}

/** Something we were asked to send does not fit the wire format. */
export class ViciEncodeError extends Error {
  override readonly name = 'ViciEncodeError';
  constructor(
    /** where in the input: a packet name or a key path such as "lab.children.c1" */
    readonly path: string,
    reason: string,
  ) {
    super(`cannot encode VICI ${path || 'message'}: ${reason}`);
  }
}

/** A message field is missing or does not have the form the reader asked for. */
export class ViciFieldError extends Error {
  override readonly name = 'ViciFieldError';
  constructor(
    /** key path, e.g. "lab.child-sas.c1-1.spi-in" */
    readonly path: string,
    /** what was expected: "a value", "a section", "a decimal integer", ... */
    readonly expected: string,
    reason: string,
  ) {
    super(`VICI field ${path}: expected ${expected}, ${reason}`);
  }
}
