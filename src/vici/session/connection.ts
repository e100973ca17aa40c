// One stream connection to charon's VICI socket: framing in, packets out, and
// exactly one close report whatever ends it (charon exits, a protocol error,
// our own reset). Channels above decide what packets mean.
import { createConnection, type Socket } from 'node:net';
import { SegmentReader } from '../wire/framing.js';
import { decodePacket, encodePacket, type Packet } from '../wire/packet.js';
import type { ViciProtocolError } from '../wire/errors.js';
import { ViciSocketError, type ViciSocketOperation } from './errors.js';

export type CloseReason = ViciSocketError | ViciProtocolError | Error;

export interface ConnectionHandlers {
  onPacket(packet: Packet): void;
  /** Called once, after the socket is gone. */
  onClose(reason: CloseReason): void;
}

export class ViciConnection {
  readonly path: string;
  readonly #socket: Socket;
  readonly #reader = new SegmentReader();
  #handlers: ConnectionHandlers | undefined;
  #closeReason: CloseReason | undefined;
  #closed = false;

  private constructor(path: string, socket: Socket) {
    this.path = path;
    this.#socket = socket;
  }

  /** Opens the socket; rejects with ViciSocketError naming the path. */
  static connect(path: string, timeoutMs: number): Promise<ViciConnection> {
    return new Promise((resolve, reject) => {
      const socket = createConnection({ path });
      const conn = new ViciConnection(path, socket);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ViciSocketError(path, 'connect', 'ETIMEDOUT', `connect did not complete within ${timeoutMs} ms`));
      }, timeoutMs);
      const onError = (e: NodeJS.ErrnoException): void => {
        clearTimeout(timer);
        socket.destroy();
        reject(socketError(path, 'connect', e));
      };
      socket.once('error', onError);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        conn.#wire();
        resolve(conn);
      });
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Starts delivering packets. Packets that arrive before this are buffered by the socket. */
  attach(handlers: ConnectionHandlers): void {
    this.#handlers = handlers;
    if (this.#closed) handlers.onClose(this.#finalReason());
    else this.#socket.resume();
  }

  /** Encodes and writes a packet; encode errors throw before anything is written. */
  send(packet: Packet): void {
    if (this.#closed) throw new ViciSocketError(this.path, 'write', undefined, 'connection is closed');
    this.#socket.write(encodePacket(packet));
  }

  /** Writes an already framed segment (see encodePacket). */
  sendSegment(segment: Buffer): void {
    if (this.#closed) throw new ViciSocketError(this.path, 'write', undefined, 'connection is closed');
    this.#socket.write(segment);
  }

  /** Closes the connection; onClose gets `reason`. */
  destroy(reason: CloseReason): void {
    this.#closeReason ??= reason;
    this.#socket.destroy();
  }

  #wire(): void {
    const s = this.#socket;
    s.pause(); // until attach(): no packet may be dropped for want of a handler
    s.on('data', (chunk: Buffer) => {
      if (this.#closeReason) return;
      let segments: Buffer[];
      try {
        segments = this.#reader.push(chunk);
      } catch (e) {
        this.destroy(e as Error);
        return;
      }
      for (const seg of segments) {
        if (this.#closeReason) return;
        let packet: Packet;
        try {
          packet = decodePacket(seg);
        } catch (e) {
          this.destroy(e as Error);
          return;
        }
        this.#handlers?.onPacket(packet);
      }
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      this.#closeReason ??= socketError(this.path, 'read', e);
    });
    s.on('close', () => {
      this.#closed = true;
      this.#handlers?.onClose(this.#finalReason());
    });
  }

  #finalReason(): CloseReason {
    const pending = this.#reader.pendingBytes;
    this.#closeReason ??= new ViciSocketError(
      this.path,
      'closed',
      undefined,
      `connection closed by charon${pending ? ` with ${pending} bytes of an unfinished segment` : ''}`,
    );
    return this.#closeReason;
  }
}

function socketError(path: string, op: ViciSocketOperation, e: NodeJS.ErrnoException): ViciSocketError {
  const detail = op === 'connect' ? `cannot connect: ${e.code ?? e.message}` : `${op} failed: ${e.code ?? e.message}`;
  return new ViciSocketError(path, op, e.code, detail);
}
