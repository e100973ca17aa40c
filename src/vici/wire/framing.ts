// Transport segments: a u32 big-endian length, then that many bytes. The
// reader reassembles segments from stream chunks of any size; a segment that
// lies inside one chunk is returned as a view of it (no copy), bytes that span
// chunks are copied once.
import { ViciEncodeError, ViciProtocolError } from './errors.js';
import { MAX_SEGMENT_BYTES, SEGMENT_HEADER_BYTES } from './limits.js';

/** Prefixes `payload` with its length. Refuses what charon would refuse. */
export function frameSegment(payload: Uint8Array): Buffer {
  if (payload.length > MAX_SEGMENT_BYTES) {
    throw new ViciEncodeError('segment', `${payload.length} bytes exceed the ${MAX_SEGMENT_BYTES}-byte segment limit`);
  }
  const out = Buffer.allocUnsafe(SEGMENT_HEADER_BYTES + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.set(payload, SEGMENT_HEADER_BYTES);
  return out;
}

export class SegmentReader {
  #parts: Buffer[] = [];
  #pending = 0;
  #failed = false;

  /** Bytes received that do not yet form a whole segment. */
  get pendingBytes(): number {
    return this.#pending;
  }

  /**
   * Feeds one chunk; returns every segment it completes, in order. Throws
   * ViciProtocolError for a length above the limit; the reader then refuses
   * further input (the stream can no longer be trusted to be in sync).
   */
  push(chunk: Buffer): Buffer[] {
    if (this.#failed) throw new ViciProtocolError('segment', 'the stream already failed; the connection must be reset');
    if (chunk.length === 0) return [];
    if (this.#pending === 0) return this.#split(chunk);

    this.#parts.push(chunk);
    this.#pending += chunk.length;
    if (this.#pending < SEGMENT_HEADER_BYTES) return [];
    const length = this.#peekLength();
    if (this.#pending < SEGMENT_HEADER_BYTES + length) return [];
    const joined = Buffer.concat(this.#parts, this.#pending);
    this.#parts = [];
    this.#pending = 0;
    return this.#split(joined);
  }

  /** Cuts whole segments out of `buf`, keeps the tail for later. */
  #split(buf: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let off = 0;
    while (buf.length - off >= SEGMENT_HEADER_BYTES) {
      const length = this.#checkLength(buf.readUInt32BE(off), off);
      const end = off + SEGMENT_HEADER_BYTES + length;
      if (end > buf.length) break;
      out.push(buf.subarray(off + SEGMENT_HEADER_BYTES, end));
      off = end;
    }
    if (off < buf.length) {
      this.#parts = [buf.subarray(off)];
      this.#pending = buf.length - off;
    }
    return out;
  }

  #peekLength(): number {
    const first = this.#parts[0];
    const head =
      first !== undefined && first.length >= SEGMENT_HEADER_BYTES
        ? first
        : Buffer.concat(this.#parts, this.#pending).subarray(0, SEGMENT_HEADER_BYTES);
    return this.#checkLength(head.readUInt32BE(0), 0);
  }

  #checkLength(length: number, offset: number): number {
    if (length > MAX_SEGMENT_BYTES) {
      this.#failed = true;
      throw new ViciProtocolError('segment', `length ${length} exceeds the ${MAX_SEGMENT_BYTES}-byte limit`, offset);
    }
    return length;
  }
}
