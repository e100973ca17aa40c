// A scripted VICI server on a temporary unix socket, for the session
// mechanics charon cannot be made to show on demand (a reply that never
// comes, an event squeezed in before a confirm, a garbage length, a socket
// cut mid-command). What charon really does is proven in test/host/vici.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeMessage } from '../../../src/vici/wire/elements.js';
import { SegmentReader } from '../../../src/vici/wire/framing.js';
import { decodePacket, encodePacket, PacketType, type Packet } from '../../../src/vici/wire/packet.js';
import type { ViciInputSection } from '../../../src/vici/wire/values.js';

export class PeerConnection {
  readonly received: Packet[] = [];
  closed = false;
  constructor(
    readonly id: number,
    readonly socket: Socket,
  ) {}

  send(type: PacketType, name?: string, message?: ViciInputSection): void {
    if (this.closed) return;
    this.socket.write(encodePacket({ type, ...(name !== undefined ? { name } : {}), ...(message !== undefined ? { message: encodeMessage(message) } : {}) }));
  }

  respond(message: ViciInputSection = {}): void {
    this.send(PacketType.CMD_RESPONSE, undefined, message);
  }

  event(name: string, message: ViciInputSection = {}): void {
    this.send(PacketType.EVENT, name, message);
  }

  confirm(): void {
    this.send(PacketType.EVENT_CONFIRM);
  }

  writeRaw(bytes: Buffer): void {
    this.socket.write(bytes);
  }

  close(): void {
    this.socket.destroy();
  }
}

export type Handler = (conn: PeerConnection, packet: Packet) => void;

/** Answers like charon: confirms every registration, replies {} to every command. */
export const charonLike: Handler = (conn, p) => {
  if (p.type === PacketType.EVENT_REGISTER || p.type === PacketType.EVENT_UNREGISTER) conn.confirm();
  else if (p.type === PacketType.CMD_REQUEST) conn.respond({});
};

export class ScriptedPeer {
  readonly dir = mkdtempSync(join(tmpdir(), 'vici-peer-'));
  readonly path = join(this.dir, 'charon.vici');
  readonly connections: PeerConnection[] = [];
  handler: Handler;
  #server: Server | undefined;

  constructor(handler: Handler = charonLike) {
    this.handler = handler;
  }

  async listen(): Promise<void> {
    const server = createServer((socket) => {
      const conn = new PeerConnection(this.connections.length, socket);
      this.connections.push(conn);
      const reader = new SegmentReader();
      socket.on('data', (chunk: Buffer) => {
        for (const seg of reader.push(chunk)) {
          const p = decodePacket(seg);
          conn.received.push(p);
          this.handler(conn, p);
        }
      });
      socket.on('close', () => (conn.closed = true));
      socket.on('error', () => undefined);
    });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(this.path, resolve));
  }

  /** Stops accepting and drops every connection (like charon exiting). */
  async stop(): Promise<void> {
    for (const c of this.connections) c.close();
    const s = this.#server;
    this.#server = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Requests and registrations as [connection, type, name] seen so far. */
  log(): [number, PacketType, string | undefined][] {
    return this.connections.flatMap((c) => c.received.map((p): [number, PacketType, string | undefined] => [c.id, p.type, p.name]));
  }
}

export function waitUntil(what: string, check: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (check()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(tick, 5);
    };
    tick();
  });
}
