// A byte stream (unix socket, TLS) -> whole frames. Only magic and length are
// needed to frame; everything else is the decoder's job. The reader keeps at
// most one frame's bytes, zeroes every chunk it has copied (frames carry
// keys) and the frames it hands out are the caller's to wipe.
import { HEADER_SIZE, MAX_FRAME } from './constants.js';
import { readHeader } from './codec.js';

export class FrameReader {
  #buf = Buffer.alloc(0);

  /** Bytes held that do not make a whole frame yet. */
  get pending(): number {
    return this.#buf.length;
  }

  /**
   * Adds a chunk (which is zeroed) and returns the frames completed by it.
   * Throws MailboxDecodeError on a bad magic or length: the stream cannot be
   * resynchronised, close it.
   */
  push(chunk: Buffer): Buffer[] {
    const joined = Buffer.alloc(this.#buf.length + chunk.length);
    this.#buf.copy(joined, 0);
    chunk.copy(joined, this.#buf.length);
    chunk.fill(0);
    this.#buf.fill(0);
    this.#buf = joined;
    const frames: Buffer[] = [];
    let off = 0;
    while (this.#buf.length - off >= HEADER_SIZE) {
      const { length } = readHeader(this.#buf, off);
      if (this.#buf.length - off < length) break;
      frames.push(Buffer.from(this.#buf.subarray(off, off + length)));
      this.#buf.fill(0, off, off + length);
      off += length;
    }
    if (off > 0) {
      const rest = Buffer.from(this.#buf.subarray(off));
      this.#buf.fill(0);
      this.#buf = rest;
    }
    if (this.#buf.length > MAX_FRAME) throw new RangeError('unreachable: a frame longer than MAX_FRAME was accepted');
    return frames;
  }

  /** Zeroes whatever is held (connection closed). */
  clear(): void {
    this.#buf.fill(0);
    this.#buf = Buffer.alloc(0);
  }
}
