// The only place keys live while an SA is managed: complete kernel states
// (with SecretBytes keys) by SA key, in daemon memory. Never serialized;
// wiped when replaced or dropped (DESIGN §5.5).
import { wipeStateKeys, type XfrmState } from '../xfrm/state.js';


function wipeUnshared(old: XfrmState, keep: XfrmState): void {
  const kept = new Set([keep.aead?.key, keep.auth?.key, keep.crypt?.key]);
  for (const k of [old.aead?.key, old.auth?.key, old.crypt?.key]) if (k && !kept.has(k)) k.wipe();
}

export class KeyStore {
  readonly #states = new Map<string, XfrmState>();

  get(key: string): XfrmState | undefined {
    return this.#states.get(key);
  }

  has(key: string): boolean {
    return this.#states.has(key);
  }

  /**
   * Keeps `state` (its keys included); wipes the keys of the copy it replaces,
   * except those the new state shares (copies made with {...state} share
   * their SecretBytes).
   */
  set(key: string, state: XfrmState): void {
    const old = this.#states.get(key);
    if (old && old !== state) wipeUnshared(old, state);
    this.#states.set(key, state);
  }

  drop(key: string): void {
    const old = this.#states.get(key);
    if (old) wipeStateKeys(old);
    this.#states.delete(key);
  }

  get size(): number {
    return this.#states.size;
  }

  dropAll(): void {
    for (const k of [...this.#states.keys()]) this.drop(k);
  }

  toJSON(): string {
    return `[KeyStore: ${this.#states.size} states, redacted]`;
  }
}
