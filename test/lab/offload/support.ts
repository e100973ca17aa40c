// Shared by the offload lab tests: the shapes the guest scripts leave behind.
import type { SaRow } from '../../../src/daemon/views.js';

export type { SaRow };

export interface Captured {
  rc: number;
  out: string;
}

export interface KeyAudit {
  keys: number;
  files: number;
  leaks: string;
}

/** Daemon log lines (JSON per line) with the given event name. */
export function events(log: string, name: string): Record<string, unknown>[] {
  return log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.event === name);
}
