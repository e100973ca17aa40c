// What `steer status` and `steer list` answer, for the daemon (its own
// handles plus what it knows about each configured uplink) and for the CLI
// without a daemon (read from the pins alone). Plain JSON.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { NetnsSpec } from '../../netlink/netns.js';
import type { SteerIssue } from '../errors.js';
import { SteerNotFoundError } from '../errors.js';
import { pinDirFor } from '../object.js';
import { inspectSteering, type SteerAttachReport, type SteerReader } from '../steering.js';
import type { VfSkip } from '../vf.js';
import type { VlanOffloadReport } from '../vlan-offload.js';
import type { SteerListView, SteerStatusView } from '../views.js';

/** What the daemon does with an uplink. */
export interface SteerDaemonView {
  /** listed in steer.uplinks of the config in force */
  configured: boolean;
  /**
   * attached: steered and kept in step; error: not steered now (see error,
   * retried); detached: `steer detach` removed it (until a restart or a reload
   * that changes its config); unmanaged: pinned, but not in the config
   */
  state: 'attached' | 'error' | 'detached' | 'unmanaged';
  /** configured XDP mode and rx_vlan_offload policy (null: not configured) */
  mode: 'auto' | 'native' | 'generic' | null;
  rxVlanOffload: 'warn' | 'disable' | null;
  /** the last attach */
  attach: SteerAttachReport | null;
  /** what was found (and done) about VLAN RX offload at the last attach */
  vlanOffload: VlanOffloadReport | null;
  /** the last failure, while not attached or since the last successful reconcile */
  error: { op: string; message: string; code: string; secondsAgo: number } | null;
  lastReconcile: {
    secondsAgo: number;
    reason: string;
    /** map operations it applied */
    applied: number;
    /** desired entries left out, and why */
    issues: SteerIssue[];
    /** VFs in vf_ports that give no entry, and why */
    skippedVfs: VfSkip[];
    /** ESP exceptions desired (inbound SAs whose traffic crosses the uplink) */
    esp: number;
  } | null;
}

/** One uplink in `steer status`: the pinned state's view, or just what the daemon knows when nothing is pinned. */
export type SteerUplinkStatus =
  | (SteerStatusView & { pinned: true; daemon: SteerDaemonView | null })
  | { uplink: string; pinned: false; daemon: SteerDaemonView | null };

/** Where an uplink's pins are. */
export interface PinBase {
  pinRoot: string;
  netns?: NetnsSpec;
}

/** Uplink names that have a pin directory under pinRoot (bpffs names: "%2e" is a dot). */
export function pinnedUplinks(pinRoot: string): string[] {
  if (!existsSync(pinRoot)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(pinRoot)) {
    try {
      if (!statSync(join(pinRoot, entry)).isDirectory()) continue;
    } catch {
      continue;
    }
    const name = entry.replace(/%2e/g, '.').replace(/%25/g, '%');
    // Only names pinDirFor gives back unchanged are ours.
    try {
      if (pinDirFor(pinRoot, name) === join(pinRoot, entry)) out.push(name);
    } catch {
      // not a device name
    }
  }
  return out.sort();
}

/** Uplinks to show: those asked for, else the configured ones and the pinned ones. */
export function uplinkNames(configured: readonly string[], base: PinBase, only: string | undefined): string[] {
  if (only !== undefined) return [only];
  return [...new Set([...configured, ...pinnedUplinks(base.pinRoot)])].sort();
}

/**
 * `read` on the daemon's own handle for the uplink (from `own`), else on its
 * pins opened for the call; undefined when nothing is pinned.
 */
function readUplink<T>(uplink: string, base: PinBase, own: (uplink: string) => SteerReader | undefined, read: (r: SteerReader) => T): T | undefined {
  const mine = own(uplink);
  if (mine) return read(mine);
  let r: SteerReader;
  try {
    r = inspectSteering({ uplink, pinRoot: base.pinRoot, ...(base.netns ? { netns: base.netns } : {}) });
  } catch (e) {
    if (e instanceof SteerNotFoundError) return undefined;
    throw e;
  }
  try {
    return read(r);
  } finally {
    r.close();
  }
}

/**
 * `steer status`: each uplink's pinned state (read through `own` when the
 * daemon holds a handle for it), with what the daemon knows. An uplink asked
 * for by name that is neither pinned nor known: SteerNotFoundError.
 */
export function uplinkStatuses(
  names: readonly string[],
  base: PinBase,
  daemonOf: (uplink: string) => SteerDaemonView | null,
  own: (uplink: string) => SteerReader | undefined = () => undefined,
  strict = false,
): SteerUplinkStatus[] {
  const out: SteerUplinkStatus[] = [];
  for (const uplink of names) {
    const daemon = daemonOf(uplink);
    const status = readUplink(uplink, base, own, (r) => r.status());
    if (status) out.push({ ...status, pinned: true, daemon });
    else if (daemon) out.push({ uplink, pinned: false, daemon });
    else if (strict) throw new SteerNotFoundError(uplink, pinDirFor(base.pinRoot, uplink));
  }
  return out;
}

/** `steer list`: the entries (with counters) of every pinned uplink among `names`. */
export function uplinkListings(
  names: readonly string[],
  base: PinBase,
  own: (uplink: string) => SteerReader | undefined = () => undefined,
  strict = false,
): SteerListView[] {
  const out: SteerListView[] = [];
  for (const uplink of names) {
    const list = readUplink(uplink, base, own, (r) => r.list());
    if (list) out.push(list);
    else if (strict) throw new SteerNotFoundError(uplink, pinDirFor(base.pinRoot, uplink));
  }
  return out;
}
