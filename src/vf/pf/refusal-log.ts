// vf.refused lines, rate-limited per VF (or per unidentified peer): a tenant
// flooding the mailbox with garbage or forged requests must not flood the
// log. The first few in a window are logged; the rest are counted and the
// count rides on the next line that is logged.
import type { EventLogger } from '../../log/logger.js';

const WINDOW_MS = 10_000;
const PER_WINDOW = 5;

interface Bucket {
  start: number;
  logged: number;
  suppressed: number;
}

export class RefusalLog {
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    private readonly log: EventLogger,
    private readonly clock: () => number,
  ) {}

  refuse(vf: string | undefined, peer: string, request: string, reason: string, message: string): void {
    const now = this.clock();
    const key = vf ? `vf:${vf}` : 'unidentified';
    let b = this.#buckets.get(key);
    if (!b || now - b.start >= WINDOW_MS) {
      b = { start: now, logged: 0, suppressed: b?.suppressed ?? 0 };
      this.#buckets.set(key, b);
    }
    if (b.logged >= PER_WINDOW) {
      b.suppressed++;
      return;
    }
    b.logged++;
    const suppressed = b.suppressed;
    b.suppressed = 0;
    this.log.event('vf.refused', { ...(vf ? { vf } : {}), peer, request, reason, message, ...(suppressed ? { suppressed } : {}) }, 'warn');
  }
}
