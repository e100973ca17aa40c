// Newline framing for the control socket, in bytes: a line is complete at
// '\n'; a line (or an unfinished tail) longer than the limit is an overflow,
// after which the connection is useless and is closed by the server.

export type FrameResult = { lines: string[]; overflow: false } | { lines: string[]; overflow: true };

export class LineFramer {
  #parts: Buffer[] = [];
  #pending = 0;
  #overflowed = false;

  constructor(readonly maxLineBytes: number) {}

  /** Bytes of an unfinished line held now. */
  get pending(): number {
    return this.#pending;
  }

  push(chunk: Buffer): FrameResult {
    if (this.#overflowed) return { lines: [], overflow: true };
    const lines: string[] = [];
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, start);
      if (nl < 0) break;
      const len = this.#pending + (nl - start);
      if (len > this.maxLineBytes) return this.#overflow(lines);
      const bytes = this.#parts.length ? Buffer.concat([...this.#parts, chunk.subarray(start, nl)]) : chunk.subarray(start, nl);
      this.#parts = [];
      this.#pending = 0;
      lines.push(bytes.toString('utf8').replace(/\r$/, ''));
      start = nl + 1;
    }
    const rest = chunk.length - start;
    if (rest > 0) {
      if (this.#pending + rest > this.maxLineBytes) return this.#overflow(lines);
      this.#parts.push(chunk.subarray(start));
      this.#pending += rest;
    }
    return { lines, overflow: false };
  }

  #overflow(lines: string[]): FrameResult {
    this.#overflowed = true;
    this.#parts = [];
    this.#pending = 0;
    return { lines, overflow: true };
  }
}
