// Which connections may be offloaded, to which device, and the knobs the
// planner needs. Parsed from the config file (src/daemon/config) into this.

export interface OffloadRule {
  /** glob on "<ike-config-name>/<child-name>" ("*" matches any run of characters); first match wins */
  match: string;
  offload: boolean;
  /** device name; default: the device that owns the SA's local address (charon's rule) */
  device?: string;
}

export interface DeviceOverride {
  /** SA table size, if known (netdevsim: 33); otherwise learned from ENOSPC */
  capacity?: number;
  /** whether the device offloads ESN SAs; otherwise probed/learned */
  esn?: boolean;
  /** false: never offload to this device */
  offload?: boolean;
}

export interface PlannerConfig {
  rules: OffloadRule[];
  /** what connections no rule matches get */
  defaultOffload: boolean;
  devices: Map<string, DeviceOverride>;
  /** after a failed offload attempt, wait this long before trying that SA on that device again */
  backoffMs: number;
  /** outbound non-ESN SAs: ask charon to rekey once oseq passes this (of 2^32) */
  seqRekeyAt: number;
  /** do not ask for the same rekey again within this time */
  rekeyRetryMs: number;
  /**
   * An SA charon reports but the kernel lacks is called lost only after the
   * CHILD_SA has been known this long (charon installs SAs before it says so,
   * and our first read of them takes a moment).
   */
  missingGraceMs: number;
  /**
   * A copy we installed that is still there this long after charon took its
   * CHILD_SA down is a zombie (charon's own delete missed it, e.g. during a
   * swap) and is deleted. Longer than charon's delete_rekeyed_delay (5 s).
   */
  zombieGraceMs: number;
}

export const defaultPlannerConfig: PlannerConfig = {
  rules: [],
  defaultOffload: true,
  devices: new Map(),
  backoffMs: 30_000,
  seqRekeyAt: 0xf0000000,
  rekeyRetryMs: 60_000,
  missingGraceMs: 5_000,
  zombieGraceMs: 30_000,
};

/** Glob ("*" only) to an anchored RegExp. */
export function globToRegExp(glob: string): RegExp {
  const escaped = glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'));
  return new RegExp(`^${escaped.join('.*')}$`);
}

/** "lab", "lab/gcm", "*\/gcm" or a glob on either part (`sa list --conn`, `logs --conn`). */
export function connMatcher(pattern: string): (conn: string, child: string) => boolean {
  const re = globToRegExp(pattern);
  if (pattern.includes('/')) return (conn, child) => re.test(`${conn}/${child}`);
  return (conn, child) => re.test(conn) || re.test(child);
}

export function ruleFor(rules: readonly OffloadRule[], ikeName: string, childName: string): OffloadRule | undefined {
  const subject = `${ikeName}/${childName}`;
  return rules.find((r) => globToRegExp(r.match.includes('/') ? r.match : `${r.match}/*`).test(subject));
}
