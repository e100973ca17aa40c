// Config file -> the planner's and the executor's options.
import type { Config } from './config-schema.js';
import type { PlannerConfig } from '../offload/policy.js';
import type { ExecutorOptions } from '../offload/executor.js';

export function plannerConfig(c: Config): PlannerConfig {
  return {
    rules: c.offload.rules.map((r) => ({ match: r.match, offload: r.offload, ...(r.device ? { device: r.device } : {}) })),
    defaultOffload: c.offload.default,
    devices: new Map(Object.entries(c.offload.devices)),
    backoffMs: c.offload.backoff,
    seqRekeyAt: c.offload.seq_rekey_at,
    rekeyRetryMs: c.offload.rekey_retry,
    missingGraceMs: c.offload.missing_grace,
    zombieGraceMs: c.offload.zombie_grace,
  };
}

export function executorOptions(c: Config): ExecutorOptions {
  return {
    // Whatever the old copy sent after we last saw its counter is below this:
    // AEVENTs report at least every replay_threshold packets.
    seqMargin: Math.max(4 * c.offload.replay_threshold, 1 << 16),
    replayThreshold: c.offload.replay_threshold,
  };
}
