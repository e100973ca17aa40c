// The agent's epoch: changes exactly when the tenant's SAs stop meaning what
// they meant, i.e. when the tenant kernel rebooted (boot id) or its charon
// restarted (CHILD_SA unique ids start over then). A restart of the agent
// alone keeps it, so the PF keeps the SAs.
//
// charon is identified by its process: the pid the kernel records for the
// VICI socket's listening side (SO_PEERCRED on a connection to it) and that
// process's start time (/proc/PID/stat, clock ticks after boot). Both are
// exact. VICI's own `stats.uptime.since` is not usable alone: charon computes
// it as wall-clock now minus monotonic uptime, both truncated to seconds, so
// two reads a moment apart can differ by a second (seen in the lab: an agent
// reconnecting to the PF presented a new epoch and lost its SAs). It is the
// fallback only where charon's process is not visible (another pid namespace).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { socketPeerCredentials } from '../../native/peer-credentials.js';

export function epochOf(bootId: string, charonIdentity: string): bigint {
  const h = createHash('sha256').update(`${bootId.trim()}\n${charonIdentity.trim()}`).digest();
  return h.readBigUInt64BE(0);
}

export function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
}

/** Field 22 of /proc/PID/stat (starttime); undefined if unreadable. The comm field may hold spaces and parentheses: count from the last ')'. */
export function processStartTime(stat: string): string | undefined {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state), so field 22 is rest[19]
  const v = rest[19];
  return v !== undefined && /^\d+$/.test(v) ? v : undefined;
}

/**
 * "pid P start T" of the process listening on the VICI socket, or undefined
 * when it cannot be known (nobody listening, pid 0: another pid namespace,
 * /proc unreadable). A refused connection is tried again a few times: charon
 * accepts VICI connections from a small backlog, and back-to-back connections
 * (the daemon's own VICI session, this one) were seen to be refused on this
 * host now and then.
 */
export async function charonProcess(socketPath: string, timeoutMs = 5000, tries = 5): Promise<string | undefined> {
  for (let i = 0; i < tries; i++) {
    const r = await once(socketPath, timeoutMs);
    if (r !== 'retry') return r;
    await new Promise((res) => setTimeout(res, 100 * (i + 1)));
  }
  return undefined;
}

function once(socketPath: string, timeoutMs: number): Promise<string | undefined | 'retry'> {
  return new Promise((resolve) => {
    const s = createConnection({ path: socketPath });
    const done = (v: string | undefined | 'retry'): void => {
      clearTimeout(timer);
      s.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code === 'ENOENT' ? undefined : 'retry'));
    s.on('connect', () => {
      try {
        const { pid } = socketPeerCredentials(s);
        if (!pid) return done(undefined);
        const start = processStartTime(readFileSync(`/proc/${pid}/stat`, 'utf8'));
        done(start !== undefined ? `pid ${pid} start ${start}` : undefined);
      } catch {
        done(undefined);
      }
    });
  });
}
