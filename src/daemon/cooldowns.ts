// Hold-offs for a plan/execute loop: an action that failed is not tried
// again until its time has come (the plan keeps asking for it meanwhile).
// Keyed by the caller's action key, so a re-planned action object that means
// the same change finds its hold-off.

export class Cooldowns<A> {
  readonly #until = new Map<string, number>();
  readonly #key: (a: A) => string;

  constructor(key: (a: A) => string) {
    this.#key = key;
  }

  /** The actions not held off at `now`; hold-offs that have run out are forgotten. */
  due(actions: readonly A[], now: number): A[] {
    for (const [k, t] of this.#until) if (t <= now) this.#until.delete(k);
    return actions.filter((a) => !this.#until.has(this.#key(a)));
  }

  /** Holds `a` off until `until`. */
  hold(a: A, until: number): void {
    this.#until.set(this.#key(a), until);
  }

  /** `a` succeeded: no hold-off. */
  clear(a: A): void {
    this.#until.delete(this.#key(a));
  }

  /** The earliest hold-off still running after `now`, if any. */
  nextAfter(now: number): number | undefined {
    let next: number | undefined;
    for (const t of this.#until.values()) if (t > now && (next === undefined || t < next)) next = t;
    return next;
  }
}
