// The agent's epoch: changes exactly when the tenant's SAs stop meaning what
// they meant, i.e. when the tenant kernel rebooted (boot id) or its charon
// restarted (charon's start time, from VICI stats; CHILD_SA unique ids start
// over then). A restart of the agent alone keeps it, so the PF keeps the SAs.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

export function epochOf(bootId: string, charonSince: string): bigint {
  const h = createHash('sha256').update(`${bootId.trim()}\n${charonSince.trim()}`).digest();
  return h.readBigUInt64BE(0);
}

export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}
