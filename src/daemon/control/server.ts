// The control socket server: root (or a configured group) only, checked with
// SO_PEERCRED; newline-delimited JSON; malformed, oversized or slow input is
// answered with an error or dropped without affecting the daemon.
import { createServer, type Server, type Socket } from 'node:net';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { PeerCredentials } from '../../native/addon.js';
import { socketPeerCredentials } from '../../native/peer-credentials.js';
import type { EventLogger } from '../../log/logger.js';
import { LineFramer } from './framing.js';
import { ControlCommandError, MAX_REQUEST_BYTES, PROTOCOL_VERSION, type ControlRequest, type ControlResponse } from './protocol.js';
import { socketInUse } from './socket-in-use.js';

export type ControlHandler = (args: unknown, peer: PeerCredentials) => Promise<unknown> | unknown;

export interface ControlServerOptions {
  path: string;
  /** gid allowed besides root */
  gid?: number;
  /** a connection with no request in flight and nothing sent for this long is closed */
  idleMs?: number;
  /** a request line must be complete this long after its first byte (slow-loris) */
  requestMs?: number;
  maxConnections?: number;
  /** requests queued on one connection before it is cut off */
  maxQueued?: number;
  /** unread response bytes on one connection before it is cut off */
  maxUnreadBytes?: number;
}

export class ControlServer {
  readonly #handlers = new Map<string, ControlHandler>();
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  constructor(
    private readonly o: ControlServerOptions,
    private readonly log: EventLogger,
  ) {
    this.handle('commands', () => ({ protocol: PROTOCOL_VERSION, commands: this.commands }));
  }

  handle(cmd: string, h: ControlHandler): void {
    this.#handlers.set(cmd, h);
  }

  get commands(): string[] {
    return [...this.#handlers.keys()].sort();
  }

  get path(): string {
    return this.o.path;
  }

  async listen(): Promise<void> {
    const dir = dirname(this.o.path);
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    if (existsSync(this.o.path)) {
      if (await socketInUse(this.o.path)) throw new Error(`control socket ${this.o.path} is in use: is another ipsec-offload daemon running?`);
      rmSync(this.o.path, { force: true });
    }
    const server = createServer({ allowHalfOpen: false }, (s) => this.#accept(s));
    server.maxConnections = this.o.maxConnections ?? 64;
    // The socket is born 0600 (no window with a wider mode), then opened to
    // the group when one is configured.
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(this.o.path, () => resolve());
      });
    } finally {
      process.umask(umask);
    }
    if (this.o.gid !== undefined) {
      chownSync(this.o.path, 0, this.o.gid);
      chownSync(dir, 0, this.o.gid);
      chmodSync(this.o.path, 0o660);
    } else chmodSync(this.o.path, 0o600);
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
    // First: a client that resets the connection must never become an
    // unhandled 'error' (which would end the daemon).
    s.on('error', () => s.destroy());
    let peer: PeerCredentials;
    try {
      peer = socketPeerCredentials(s);
    } catch {
      s.destroy();
      return;
    }
    if (!this.#allowed(peer)) {
      this.log.event('control.rejected', { reason: 'permission', uid: peer.uid }, 'warn');
      s.end(`${JSON.stringify(reply(0, { code: 'EACCES', message: 'the control socket is for root (or the group set in control.group)' }))}\n`);
      setTimeout(() => s.destroy(), 1000).unref();
      return;
    }
    this.#sockets.add(s);
    s.on('close', () => this.#sockets.delete(s));
    let queued = 0;
    let queue = Promise.resolve();
    // Idle: no request for idleMs (bytes that make no request do not count).
    const idle = setTimeout(() => {
      if (queued === 0) s.destroy();
      else idle.refresh();
    }, this.o.idleMs ?? 10_000);
    let cutOff = false;
    const cut = (reason: string, error?: { code: string; message: string }): void => {
      if (cutOff) return;
      cutOff = true;
      s.removeAllListeners('data');
      this.log.event('control.rejected', { reason, uid: peer.uid }, 'warn');
      if (error && !s.destroyed) s.end(`${JSON.stringify(reply(0, error))}\n`);
      else s.destroy();
      // end() flushes the error; a peer that never reads is destroyed anyway.
      setTimeout(() => s.destroy(), 1000).unref();
    };
    const framer = new LineFramer(MAX_REQUEST_BYTES);
    let partialTimer: NodeJS.Timeout | undefined;
    s.on('close', () => {
      clearTimeout(partialTimer);
      clearTimeout(idle);
    });
    s.on('data', (chunk: Buffer) => {
      const r = framer.push(chunk);
      if (r.overflow) {
        cut('oversized request', { code: 'E2BIG', message: `request longer than ${MAX_REQUEST_BYTES} bytes` });
        return;
      }
      // Slow-loris: an unfinished line must be finished within requestMs.
      if (framer.pending === 0) {
        clearTimeout(partialTimer);
        partialTimer = undefined;
      } else if (!partialTimer) {
        partialTimer = setTimeout(() => cut('request timeout', { code: 'ETIMEDOUT', message: `request not completed within ${this.o.requestMs ?? 5000} ms` }), this.o.requestMs ?? 5000);
      }
      for (const line of r.lines) {
        if (line.trim() === '') continue;
        if (queued >= (this.o.maxQueued ?? 32)) {
          cut('too many requests', { code: 'EBUSY', message: `more than ${this.o.maxQueued ?? 32} requests queued on one connection` });
          return;
        }
        queued++;
        idle.refresh();
        // One request at a time per connection, answered in order.
        queue = queue.then(async () => {
          try {
            await this.#serve(s, line, peer);
          } finally {
            queued--;
            idle.refresh();
          }
          if (s.writableLength > (this.o.maxUnreadBytes ?? 8 << 20)) cut('not reading');
        }).catch(() => void s.destroy());
      }
    });
  }

  async #serve(s: Socket, line: string, peer: PeerCredentials): Promise<void> {
    if (s.destroyed) return;
    let req: ControlRequest;
    try {
      const parsed: unknown = JSON.parse(line);
      if (!isRequest(parsed)) throw new Error('not a request object {"v":1,"id":N,"cmd":"...","args":{...}}');
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
      write(s, reply(req.id, { code: 'ENOSYS', message: `unknown command ${JSON.stringify(req.cmd)} (the "commands" command lists them)` }));
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
