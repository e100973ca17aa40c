// Where agents connect: a unix socket (containers; identity = the peer's
// network namespace) and TCP with mutual TLS (VMs; identity = the client
// certificate, which must chain to pf.tls.ca, TLS 1.3 only). Each accepted
// connection is handed over with the facts the PF read about its peer; a
// failed handshake never reaches the protocol.
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import type { PeerFacts } from './identity.js';
import { tlsPeerFacts, unixPeerFacts } from './peer.js';
import { socketInUse } from '../../daemon/control/socket-in-use.js';

export interface ListenerOptions {
  unix?: { path: string; mode: number };
  tls?: { listen: string; port: number; cert: string; key: string; ca: string };
}

export interface ListenerEvents {
  connection(socket: Socket, peer: PeerFacts): void;
  /** a connection that never became one (handshake failed, peer unreadable) */
  refused(transport: 'unix' | 'tls', reason: string, remote: string): void;
}

/** A configured listener could not be set up. */
export class MailboxListenError extends Error {
  override readonly name = 'MailboxListenError';
  constructor(
    readonly transport: 'unix' | 'tls',
    readonly where: string,
    reason: string,
  ) {
    super(`mailbox ${transport} listener on ${where}: ${reason}`);
  }
}

export class MailboxListeners {
  #unix: Server | undefined;
  #tls: TlsServer | undefined;
  readonly #sockets = new Set<Socket>();

  constructor(
    private readonly o: ListenerOptions,
    private readonly on: ListenerEvents,
  ) {}

  /** The TCP port bound (0 when there is no TLS listener); the config may say 0 for "any" in tests. */
  get tlsPort(): number {
    const a = this.#tls?.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  async listen(): Promise<void> {
    if (this.o.unix) await this.#listenUnix(this.o.unix);
    if (this.o.tls) await this.#listenTls(this.o.tls);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    const closing = [this.#unix, this.#tls].filter((s): s is Server => s !== undefined).map((s) => new Promise<void>((r) => s.close(() => r())));
    await Promise.all(closing);
    if (this.o.unix && this.#unix) rmSync(this.o.unix.path, { force: true });
    this.#unix = undefined;
    this.#tls = undefined;
  }

  #track(s: Socket): void {
    this.#sockets.add(s);
    s.on('close', () => this.#sockets.delete(s));
    // A peer that resets must never become an unhandled 'error'.
    s.on('error', () => s.destroy());
  }

  async #listenUnix(u: { path: string; mode: number }): Promise<void> {
    mkdirSync(dirname(u.path), { recursive: true, mode: 0o755 });
    if (existsSync(u.path)) {
      if (await socketInUse(u.path)) throw new MailboxListenError('unix', u.path, 'in use: is another ipsec-offload daemon running?');
      rmSync(u.path, { force: true });
    }
    const server = createServer({ allowHalfOpen: false }, (s) => {
      this.#track(s);
      let peer: PeerFacts;
      try {
        peer = unixPeerFacts(s);
      } catch (e) {
        this.on.refused('unix', `peer credentials: ${(e as Error).message}`, u.path);
        s.destroy();
        return;
      }
      this.on.connection(s, peer);
    });
    // Born 0600 (no window with a wider mode), then opened as configured.
    const umask = process.umask(0o177);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', (e) => reject(new MailboxListenError('unix', u.path, e.message)));
        server.listen(u.path, () => resolve());
      });
    } finally {
      process.umask(umask);
    }
    chmodSync(u.path, u.mode);
    this.#unix = server;
  }

  async #listenTls(t: { listen: string; port: number; cert: string; key: string; ca: string }): Promise<void> {
    let material: { cert: Buffer; key: Buffer; ca: Buffer };
    try {
      material = { cert: readFileSync(t.cert), key: readFileSync(t.key), ca: readFileSync(t.ca) };
    } catch (e) {
      throw new MailboxListenError('tls', `${t.listen}:${t.port}`, (e as Error).message);
    }
    // rejectUnauthorized: false, so that a refused certificate is refused by
    // identify() with OpenSSL's reason and the client's address (TLS 1.3 aborts
    // a rejected handshake after the server's side is done, and Node then
    // reports only "socket hang up" with no address). identify() refuses an
    // unverified chain first, before anything the peer sends is read; the peer
    // gets one error frame, as any refused connection does.
    const server = createTlsServer({ ...material, requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3', handshakeTimeout: 10_000 }, (s: TLSSocket) => {
      this.#track(s);
      this.on.connection(s, tlsPeerFacts(s));
    });
    material.key.fill(0);
    server.on('tlsClientError', (e, s) => {
      this.on.refused('tls', `handshake: ${e.message}`, `${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`);
      s.destroy();
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new MailboxListenError('tls', `${t.listen}:${t.port}`, e.message)));
      server.listen(t.port, t.listen, () => resolve());
    });
    this.#tls = server;
  }
}
