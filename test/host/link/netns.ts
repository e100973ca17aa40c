// Throwaway network namespaces for host tests, and iproute2/ethtool as the
// independent witness of what our client did in them.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';

/** Creates /run/netns/<prefix>-<random>; the caller deletes it in afterAll. */
export function addNetns(prefix: string): string {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  return name;
}

export function delNetns(name: string): void {
  try {
    execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

/** `ip -n NS -j ARGS...` parsed. */
export function ipJson<T = Record<string, unknown>[]>(ns: string, ...args: string[]): T {
  return JSON.parse(execFileSync('ip', ['-n', ns, '-j', ...args], { encoding: 'utf8' }) || '[]') as T;
}

export function ip(ns: string, ...args: string[]): void {
  execFileSync('ip', ['-n', ns, ...args]);
}

/** Runs a command inside the netns (`ip netns exec`) and returns stdout. */
export function inNetns(ns: string, cmd: string, ...args: string[]): string {
  return execFileSync('ip', ['netns', 'exec', ns, cmd, ...args], { encoding: 'utf8' });
}

/** Resolves with the first `event` whose argument passes `test`. */
export function next<T>(em: EventEmitter, event: string, test: (v: T) => boolean, timeoutMs = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      em.off(event, on);
      reject(new Error(`no matching ${event} event within ${timeoutMs} ms`));
    }, timeoutMs);
    const on = (v: T): void => {
      if (!test(v)) return;
      clearTimeout(timer);
      em.off(event, on);
      resolve(v);
    };
    em.on(event, on);
  });
}
