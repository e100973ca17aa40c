// Typed errors of the steering module. BPF errors keep the kernel's errno and
// what libbpf printed (verifier log, the kernel's extack message).

/** A libbpf/bpf() call failed. */
export class SteerBpfError extends Error {
  override readonly name = 'SteerBpfError';
  /** positive errno (0 when the failure did not come from the kernel) */
  readonly errno: number;
  readonly code: string;
  /** the call that failed, e.g. "xdp attach (native)" */
  readonly op: string;
  /** libbpf's messages during the call (verifier log, "Kernel error message: ...") */
  readonly log: string | undefined;

  constructor(what: string, d: { errno?: number; code?: string; op?: string; log?: string; message?: string }) {
    const detail = d.message ?? `${d.op ?? 'bpf'} failed`;
    const extack = d.log ? kernelMessage(d.log) : undefined;
    super(`${what}: ${detail}${extack ? ` (kernel: ${extack})` : ''}`);
    this.errno = d.errno ?? 0;
    this.code = d.code ?? 'EUNKNOWN';
    this.op = d.op ?? what;
    this.log = d.log;
  }
}

/** libbpf prints the kernel's extack as "Kernel error message: <text>". */
function kernelMessage(log: string): string | undefined {
  const m = /Kernel error message: (.*)/.exec(log);
  return m?.[1]?.trim();
}

/** Wraps whatever the addon threw into a SteerBpfError. */
export function bpfError(what: string, e: unknown): SteerBpfError {
  if (e instanceof SteerBpfError) return e;
  const x = (typeof e === 'object' && e !== null ? e : {}) as { errno?: unknown; code?: unknown; op?: unknown; log?: unknown; message?: unknown };
  return new SteerBpfError(what, {
    ...(typeof x.errno === 'number' ? { errno: x.errno } : {}),
    ...(typeof x.code === 'string' ? { code: x.code } : {}),
    ...(typeof x.op === 'string' ? { op: x.op } : {}),
    ...(typeof x.log === 'string' ? { log: x.log } : {}),
    message: typeof x.message === 'string' ? x.message : String(e),
  });
}

/** A device named in the desired state or a command does not exist. */
export class SteerDeviceError extends Error {
  override readonly name = 'SteerDeviceError';
  constructor(
    readonly device: string,
    readonly netns: string,
  ) {
    super(`no device ${device} in ${netns}`);
  }
}

/** Another XDP program (not ours) runs on a device we were asked to use. */
export class SteerConflictError extends Error {
  override readonly name = 'SteerConflictError';
  constructor(
    readonly device: string,
    readonly programId: number,
  ) {
    super(`${device} already runs XDP program id ${programId}, which is not ours; detach it first (we never replace a foreign program)`);
  }
}

/** The pin directory is unusable: not on bpffs, or pinned maps of another layout. */
export class SteerPinError extends Error {
  override readonly name = 'SteerPinError';
  constructor(
    readonly path: string,
    reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

/** No steering state pinned for this uplink. */
export class SteerNotFoundError extends Error {
  override readonly name = 'SteerNotFoundError';
  constructor(
    readonly uplink: string,
    readonly pinDir: string,
  ) {
    super(`no steering for ${uplink}: nothing pinned at ${pinDir}`);
  }
}

/** One problem with a desired entry (reconcile input or `steer add`). */
export interface SteerIssue {
  /** where: "fdb[3]", "ports[0]", "esp[2]", "add" */
  at: string;
  message: string;
}

/** The desired state (or a command) asks for something the datapath cannot do. */
export class SteerInvalidError extends Error {
  override readonly name = 'SteerInvalidError';
  constructor(readonly issues: readonly SteerIssue[]) {
    super(`invalid steering request: ${issues.map((i) => `${i.at}: ${i.message}`).join('; ')}`);
  }
}
