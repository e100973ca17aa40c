// Capped exponential backoff for reconnect attempts: initial, initial*factor,
// ... up to max, then max until reset() after a successful connection.

export interface BackoffOptions {
  /** first delay in ms (default 100) */
  initialDelayMs?: number;
  /** ceiling in ms (default 5000) */
  maxDelayMs?: number;
  /** growth per attempt (default 2) */
  factor?: number;
}

export class Backoff {
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
  readonly factor: number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialDelayMs = options.initialDelayMs ?? 100;
    this.maxDelayMs = options.maxDelayMs ?? 5000;
    this.factor = options.factor ?? 2;
    if (!(this.initialDelayMs >= 0) || !(this.maxDelayMs >= this.initialDelayMs) || !(this.factor >= 1)) {
      throw new RangeError('backoff needs 0 <= initialDelayMs <= maxDelayMs and factor >= 1');
    }
  }

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt. */
  next(): number {
    const d = Math.min(this.maxDelayMs, this.initialDelayMs * this.factor ** this.#attempt);
    this.#attempt++;
    return d;
  }

  reset(): void {
    this.#attempt = 0;
  }
}
