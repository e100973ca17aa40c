// One mailbox connection's byte stream as frames, for both ends: frames in
// (framed, decoded, their buffers zeroed), frames out (encoded, written, and
// zeroed once the socket has taken them: they may hold keys). A peer that
// sends what cannot be framed, or does not read what it is sent, is cut off.
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { decodeFrame, encodeFrame, type AnyFrame, type FrameInput } from './codec.js';
import type { MessageKind } from './constants.js';
import { MailboxDecodeError } from './errors.js';
import { FrameReader } from './framer.js';

export interface MailboxStreamEvents {
  frame: [AnyFrame];
  /** a frame that could not be decoded; `id` is its request id when the header was readable */
  bad: [MailboxDecodeError, number | undefined];
  /** the connection is gone (the reason is ours, or the peer's close) */
  close: [string];
}

export interface MailboxStreamOptions {
  /** unread bytes we sent before the peer is cut off (default 1 MiB) */
  maxUnread?: number;
}

export class MailboxStream extends EventEmitter<MailboxStreamEvents> {
  readonly #socket: Duplex;
  readonly #reader = new FrameReader();
  readonly #maxUnread: number;
  #closed = false;
  #reason = 'closed by the peer';

  constructor(socket: Duplex, o: MailboxStreamOptions = {}) {
    super();
    this.#socket = socket;
    this.#maxUnread = o.maxUnread ?? 1 << 20;
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (e: Error) => {
      this.#reason = `socket error: ${e.message}`;
      socket.destroy();
    });
    socket.on('close', () => this.#finish());
    socket.on('end', () => socket.end());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Sends one message; false when the connection is gone (nothing sent). */
  send(kind: MessageKind, id: number, attrs: FrameInput = {}): boolean {
    if (this.#closed) return false;
    const buf = encodeFrame(kind, id, attrs);
    this.#socket.write(buf, () => buf.fill(0));
    if (this.#socket.writableLength > this.#maxUnread) this.close('the peer does not read what it is sent');
    return true;
  }

  /** Ends the connection (after what was sent so far is flushed, briefly). */
  close(reason: string): void {
    if (this.#closed) return;
    this.#reason = reason;
    this.#socket.end();
    setTimeout(() => this.#socket.destroy(), 1000).unref();
    this.#finish();
  }

  #onData(chunk: Buffer): void {
    if (this.#closed) {
      chunk.fill(0);
      return;
    }
    let frames: Buffer[];
    try {
      frames = this.#reader.push(chunk);
    } catch (e) {
      // Cannot be framed (not our protocol, or a length we refuse): no resync.
      this.emit('bad', e instanceof MailboxDecodeError ? e : new MailboxDecodeError('stream', 0, String(e)), undefined);
      this.close(`unframeable input: ${(e as Error).message}`);
      return;
    }
    for (const f of frames) {
      if (this.#closed) {
        f.fill(0);
        continue;
      }
      const id = f.length >= 16 ? f.readUInt32LE(12) : undefined;
      let frame: AnyFrame | undefined;
      try {
        frame = decodeFrame(f);
      } catch (e) {
        this.emit('bad', e instanceof MailboxDecodeError ? e : new MailboxDecodeError('frame', 0, String(e)), id);
      } finally {
        f.fill(0);
      }
      if (frame) this.emit('frame', frame);
    }
  }

  #finish(): void {
    const first = !this.#closed;
    this.#closed = true;
    this.#reader.clear();
    if (first) this.emit('close', this.#reason);
  }
}
