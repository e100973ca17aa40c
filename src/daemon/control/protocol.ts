// The control socket protocol: newline-delimited JSON over a unix socket.
//   request:  {"v":1,"id":7,"cmd":"sa.list","args":{...}}
//   response: {"v":1,"id":7,"ok":true,"result":...}
//             {"v":1,"id":7,"ok":false,"error":{"code":"ENOENT","message":"..."}}
// Responses never carry key material: they are built from the keyless model.

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

export interface ControlError {
  /** machine-readable: EACCES, EPROTO, ENOENT, EINVAL, EBUSY, EINTERNAL ... */
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
