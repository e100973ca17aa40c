// Key material: bytes that can be used, compared and wiped, but never
// rendered. String conversion, JSON and util.inspect all print a marker.
import { inspect } from 'node:util';
import { timingSafeEqual } from 'node:crypto';

export class SecretBytes {
  #bytes: Buffer;
  #wiped = false;

  /** Takes ownership of `bytes` (no copy): wipe() zeroes the caller's buffer too. */
  constructor(bytes: Buffer) {
    this.#bytes = bytes;
  }

  static copyOf(bytes: Uint8Array): SecretBytes {
    return new SecretBytes(Buffer.from(bytes));
  }

  get length(): number {
    return this.#bytes.length;
  }

  get wiped(): boolean {
    return this.#wiped;
  }

  /** The raw bytes, for encoders only. Throws once wiped. */
  reveal(): Buffer {
    if (this.#wiped) throw new Error('secret was wiped');
    return this.#bytes;
  }

  equals(other: SecretBytes): boolean {
    const a = this.reveal();
    const b = other.reveal();
    return a.length === b.length && timingSafeEqual(a, b);
  }

  /** Overwrites the bytes with zeros. Idempotent. */
  wipe(): void {
    this.#bytes.fill(0);
    this.#wiped = true;
  }

  toString(): string {
    return `[secret ${this.#bytes.length} bytes]`;
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return this.toString();
  }
}
