// Shared by the offload lab tests: the shapes the guest scripts leave behind.
import type { SaRow } from '../../../src/daemon/views.js';

export type { SaRow };
export type { Captured } from '../harness/scenario.js';
export type { KeyAudit } from '../harness/key-audit.js';

/** The JSON lines of a log (one object per line): all, or those of the given event. */
export function events(log: string, name?: string): Record<string, unknown>[] {
  return log
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => name === undefined || e.event === name);
}
