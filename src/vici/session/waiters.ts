// Promises parked until a channel reaches a state (connected, registered),
// each with its own deadline.

interface Waiter<T> {
  resolve(value: T): void;
  reject(error: Error): void;
  timer?: NodeJS.Timeout;
}

export class Waiters<T> {
  #set = new Set<Waiter<T>>();

  get size(): number {
    return this.#set.size;
  }

  /** A promise settled by resolveAll/rejectAll, or rejected with onTimeout() after timeoutMs. */
  add(timeoutMs: number, onTimeout: () => Error): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const w: Waiter<T> = { resolve, reject };
      if (Number.isFinite(timeoutMs)) {
        w.timer = setTimeout(() => {
          this.#set.delete(w);
          reject(onTimeout());
        }, timeoutMs);
      }
      this.#set.add(w);
    });
  }

  resolveAll(value: T): void {
    const all = [...this.#set];
    this.#set.clear();
    for (const w of all) {
      clearTimeout(w.timer);
      w.resolve(value);
    }
  }

  rejectAll(error: Error): void {
    const all = [...this.#set];
    this.#set.clear();
    for (const w of all) {
      clearTimeout(w.timer);
      w.reject(error);
    }
  }
}
