// Typed errors of the XFRM layer. Like the netlink ones, none carries bytes of
// a message: a state's keys never reach an error message.

/**
 * The running kernel would silently ignore an attribute this message needs
 * (netlink drops attribute types above the kernel's XFRMA_MAX), or rejects a
 * flag value it predates. Raised before anything is sent.
 */
export class XfrmUnsupportedError extends Error {
  override readonly name = 'XfrmUnsupportedError';
  constructor(
    /** e.g. "XFRMA_SA_DIR" or "XFRM_OFFLOAD_PACKET" */
    readonly attribute: string,
    /** os.release() of the running kernel */
    readonly kernel: string,
    /** first kernel version that has it, e.g. "6.10" */
    readonly since: string,
    readonly evidence: 'probe' | 'version',
  ) {
    super(`${attribute} is not supported by kernel ${kernel} (needs ${since}; ${evidence === 'probe' ? 'probed' : 'by version'}); the kernel would ignore it`);
  }
}

/** A model value that cannot become a valid XFRM message (checked before the kernel sees it). */
export class XfrmModelError extends Error {
  override readonly name = 'XfrmModelError';
  constructor(
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

/**
 * DELSA succeeded but its notification (the SA's final state: replay counters
 * that must never be reused) did not arrive — the listener overran or timed
 * out. The SA IS deleted. Never re-add it with a guessed replay state.
 */
export class XfrmFinalStateUnavailableError extends Error {
  override readonly name = 'XfrmFinalStateUnavailableError';
  constructor(
    readonly sa: string,
    readonly reason: 'overrun' | 'timeout' | 'closed',
  ) {
    super(`${sa} was deleted but its final state was not received (${reason}); its replay state is unknown`);
  }
}

/** The kernel answered with something the request does not expect (wrong type or count). */
export class XfrmProtocolError extends Error {
  override readonly name = 'XfrmProtocolError';
  constructor(
    readonly request: string,
    reason: string,
  ) {
    super(`${request}: ${reason}`);
  }
}
