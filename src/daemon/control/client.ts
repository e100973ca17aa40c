// The CLI side of the control socket.
import { createConnection } from 'node:net';
import { DEFAULT_CONTROL_SOCKET, PROTOCOL_VERSION, type ControlError, type ControlResponse } from './protocol.js';

export class ControlClientError extends Error {
  override readonly name = 'ControlClientError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** Sends one request and returns its result; throws ControlClientError with the daemon's code. */
export async function controlCall(cmd: string, args: unknown = {}, opts: { socket?: string; timeoutMs?: number } = {}): Promise<unknown> {
  const path = opts.socket ?? DEFAULT_CONTROL_SOCKET;
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new ControlClientError('ETIMEDOUT', `the daemon did not answer on ${path} within ${opts.timeoutMs ?? 30_000} ms`));
    }, opts.timeoutMs ?? 30_000);
    s.on('connect', () => s.write(`${JSON.stringify({ v: PROTOCOL_VERSION, id: 1, cmd, args })}\n`));
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(timer);
      s.destroy();
      let r: ControlResponse;
      try {
        r = JSON.parse(buf.slice(0, nl)) as ControlResponse;
      } catch {
        reject(new ControlClientError('EPROTO', `the daemon answered something that is not JSON on ${path}`));
        return;
      }
      if (r.ok) resolve(r.result);
      else if (r.error.code === 'EACCES') reject(new ControlClientError('EACCES', `permission denied on ${path}: ${r.error.message}; run the command with sudo`));
      else reject(new ControlClientError(r.error.code, (r.error as ControlError).message));
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ENOENT' || e.code === 'ECONNREFUSED') {
        reject(new ControlClientError('ENODAEMON', `the ipsec-offload daemon is not running (no control socket at ${path}); start it with: systemctl start ipsec-offload (or: ipsec-offload daemon)`));
      } else if (e.code === 'EACCES') {
        reject(new ControlClientError('EACCES', `permission denied on ${path}: the control socket is for root (or the group set in control.group); run the command with sudo`));
      } else reject(new ControlClientError(e.code ?? 'EIO', `${path}: ${e.message}`));
    });
    s.on('end', () => {
      if (buf.indexOf('\n') < 0) {
        clearTimeout(timer);
        reject(new ControlClientError('EPROTO', `the daemon closed ${path} without answering`));
      }
    });
  });
}
