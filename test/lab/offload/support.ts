// Shared by the offload lab tests: the shapes the guest scripts leave behind.
import type { SaRow } from '../../../src/daemon/views.js';

export type { SaRow };
export type { Captured } from '../harness/scenario.js';
export type { KeyAudit } from '../harness/key-audit.js';

/** Daemon log lines (JSON per line) with the given event name. */
export function events(log: string, name: string): Record<string, unknown>[] {
  return log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.event === name);
}
