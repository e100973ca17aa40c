// The control socket protocol: newline-delimited JSON over a unix socket.
//   request:  {"v":1,"id":7,"cmd":"sa.list","args":{...}}
//   response: {"v":1,"id":7,"ok":true,"result":...}
//             {"v":1,"id":7,"ok":false,"error":{"code":"ENOENT","message":"..."}}
// One connection may carry any number of requests; they are answered in order.
// Responses never carry key material: they are built from the keyless model.
// The commands, their arguments and results are documented in README.md.

export const PROTOCOL_VERSION = 1;
/** A request line longer than this is refused and the connection closed. */
export const MAX_REQUEST_BYTES = 64 * 1024;
export const DEFAULT_CONTROL_SOCKET = '/run/ipsec-offload/control.sock';

export interface ControlRequest {
  v: number;
  id: number;
  cmd: string;
  args?: unknown;
}

/**
 * Error codes: EACCES (peer not allowed), EPROTO (malformed request or
 * unsupported version), E2BIG (request too long), ETIMEDOUT (request not
 * completed in time), EBUSY (too many queued requests), ENOSYS (unknown
 * command), EINVAL (bad arguments), ENOENT (nothing matches), EINTERNAL.
 */
export interface ControlError {
  code: string;
  message: string;
}

export type ControlResponse = { v: number; id: number; ok: true; result: unknown } | { v: number; id: number; ok: false; error: ControlError };

/** Errors a handler throws on purpose: reported with their code, not as internal errors. */
export class ControlCommandError extends Error {
  override readonly name = 'ControlCommandError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
