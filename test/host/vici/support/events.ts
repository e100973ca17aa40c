// Collects a session's events so tests can wait for the one they expect.
import type { ViciEvent, ViciSession } from '../../../../src/vici/index.js';

export class EventLog {
  readonly events: ViciEvent[] = [];
  #waiters: (() => void)[] = [];

  constructor(session: ViciSession) {
    session.on('event', (e) => {
      this.events.push(e);
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  named(name: string): ViciEvent[] {
    return this.events.filter((e) => e.name === name);
  }

  /** Waits for the first event (from index `from`) matching name and predicate. */
  async waitFor(name: string, match: (e: ViciEvent) => boolean = () => true, timeoutMs = 20_000, from = 0): Promise<ViciEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.slice(from).find((e) => e.name === name && match(e));
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${name} event within ${timeoutMs} ms (got: ${this.events.map((e) => e.name).join(', ') || 'none'})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits until `count` events named `name` have arrived. */
  async waitForCount(name: string, count: number, timeoutMs = 30_000): Promise<ViciEvent[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.named(name).length < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.named(name).length} of ${count} ${name} events within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.named(name);
  }
}
