// The control socket server: root (or a configured group) only, checked with
// SO_PEERCRED; newline-delimited JSON; malformed, oversized or slow input is
// answered with an error or dropped without affecting the daemon.
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadAddon, type PeerCredentials } from '../../native/addon.js';
import type { EventLogger } from '../../log/logger.js';
import { ControlCommandError, MAX_REQUEST_BYTES, PROTOCOL_VERSION, type ControlRequest, type ControlResponse } from './protocol.js';

export type ControlHandler = (args: unknown, peer: PeerCredentials) => Promise<unknown> | unknown;

export interface ControlServerOptions {
  path: string;
  /** gid allowed besides root */
  gid?: number;
  /** a connection that sends no complete request for this long is closed */
  idleMs?: number;
  maxConnections?: number;
}

export class ControlServer {
  readonly #handlers = new Map<string, ControlHandler>();
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  constructor(
    private readonly o: ControlServerOptions,
    private readonly log: EventLogger,
  ) {}

  handle(cmd: string, h: ControlHandler): void {
    this.#handlers.set(cmd, h);
  }

  get commands(): string[] {
    return [...this.#handlers.keys()].sort();
  }

  async listen(): Promise<void> {
    const dir = dirname(this.o.path);
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    if (existsSync(this.o.path)) {
      if (await inUse(this.o.path)) throw new Error(`control socket ${this.o.path} is in use: is another ipsec-offload daemon running?`);
      rmSync(this.o.path, { force: true });
    }
    const server = createServer({ allowHalfOpen: false }, (s) => this.#accept(s));
    server.maxConnections = this.o.maxConnections ?? 64;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.path, () => resolve());
    });
    // 0600 for root only; 0660 when a group may use it (group set below).
    chmodSync(this.o.path, this.o.gid !== undefined ? 0o660 : 0o600);
    if (this.o.gid !== undefined) {
      chownSync(this.o.path, 0, this.o.gid);
      chownSync(dir, 0, this.o.gid);
    }
    this.#server = server;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((r) => (this.#server ? this.#server.close(() => r()) : r()));
    rmSync(this.o.path, { force: true });
  }

  #allowed(peer: PeerCredentials): boolean {
    if (peer.uid === 0) return true;
    if (this.o.gid === undefined) return false;
    return peer.gid === this.o.gid || supplementaryGroups(peer.pid).includes(this.o.gid);
  }

  #accept(s: Socket): void {
    let peer: PeerCredentials;
    try {
      const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
      if (fd === undefined || fd < 0) throw new Error('no fd');
      peer = loadAddon().peerCredentials(fd);
    } catch {
      s.destroy();
      return;
    }
    if (!this.#allowed(peer)) {
      this.log.event('control.rejected', { reason: 'permission', uid: peer.uid }, 'warn');
      s.end(`${JSON.stringify({ v: PROTOCOL_VERSION, id: 0, ok: false, error: { code: 'EACCES', message: 'the control socket is for root (or the configured group)' } })}\n`);
      return;
    }
    this.#sockets.add(s);
    s.on('close', () => this.#sockets.delete(s));
    s.on('error', () => s.destroy());
    s.setTimeout(this.o.idleMs ?? 10_000, () => s.destroy());
    let buf = '';
    let queue = Promise.resolve();
    s.setEncoding('utf8');
    s.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_REQUEST_BYTES && !buf.slice(0, MAX_REQUEST_BYTES).includes('\n')) {
        this.log.event('control.rejected', { reason: 'oversized request', uid: peer.uid }, 'warn');
        s.end(`${JSON.stringify(reply(0, { code: 'E2BIG', message: `request longer than ${MAX_REQUEST_BYTES} bytes` }))}\n`);
        s.destroy();
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim() === '') continue;
        // One request at a time per connection, answered in order.
        queue = queue.then(() => this.#serve(s, line, peer));
      }
    });
  }

  async #serve(s: Socket, line: string, peer: PeerCredentials): Promise<void> {
    let req: ControlRequest;
    try {
      const parsed: unknown = JSON.parse(line);
      if (!isRequest(parsed)) throw new Error('not a request object {v, id, cmd, args}');
      req = parsed;
    } catch (e) {
      write(s, reply(0, { code: 'EPROTO', message: `malformed request: ${(e as Error).message}` }));
      return;
    }
    if (req.v !== PROTOCOL_VERSION) {
      write(s, reply(req.id, { code: 'EPROTO', message: `protocol version ${req.v} not supported (daemon speaks ${PROTOCOL_VERSION})` }));
      return;
    }
    const h = this.#handlers.get(req.cmd);
    if (!h) {
      write(s, reply(req.id, { code: 'ENOSYS', message: `unknown command ${JSON.stringify(req.cmd)}` }));
      return;
    }
    try {
      const result = await h(req.args ?? {}, peer);
      write(s, { v: PROTOCOL_VERSION, id: req.id, ok: true, result: result ?? null });
      this.log.event('control.request', { cmd: req.cmd, uid: peer.uid, ok: true }, 'debug');
    } catch (e) {
      const err = e instanceof ControlCommandError ? { code: e.code, message: e.message } : { code: 'EINTERNAL', message: (e as Error).message };
      write(s, reply(req.id, err));
      this.log.event('control.request', { cmd: req.cmd, uid: peer.uid, ok: false }, 'debug');
    }
  }
}

function reply(id: number, error: { code: string; message: string }): ControlResponse {
  return { v: PROTOCOL_VERSION, id, ok: false, error };
}

function write(s: Socket, r: ControlResponse): void {
  if (!s.destroyed) s.write(`${JSON.stringify(r, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
}

function isRequest(v: unknown): v is ControlRequest {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.v === 'number' && typeof r.id === 'number' && typeof r.cmd === 'string';
}

function supplementaryGroups(pid: number): number[] {
  try {
    const m = /^Groups:\s*(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] ? m[1].trim().split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

function inUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}
