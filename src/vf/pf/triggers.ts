// When a VF's SAs become stale, decided from plain inputs (pure): the PF's
// VF settings changed under it (reset, handed to another VM), it went silent,
// or it did not come back after a daemon restart.

/** A VF as the PF configured it: from rtnetlink VF info, or from the config for a domain without a VF index. */
export interface VfSettings {
  /** undefined: the PF has no such VF (now) */
  present: boolean;
  mac: string;
  vlan: number;
  linkState?: 'auto' | 'enable' | 'disable';
}

export type ResetReason = 'vf-removed' | 'vf-mac-changed' | 'vf-vlan-changed' | 'vf-link-disabled';

/**
 * Why a change of a VF's settings makes its SAs stale: the VF was reset or
 * reassigned (its MAC or VLAN changed, it disappeared with the VF count, or
 * its link was disabled). undefined: nothing that matters changed.
 */
export function settingsChange(prev: VfSettings | undefined, next: VfSettings): ResetReason | undefined {
  if (!prev || !prev.present) return undefined;
  if (!next.present) return 'vf-removed';
  if (normalizeMac(prev.mac) !== normalizeMac(next.mac)) return 'vf-mac-changed';
  if (prev.vlan !== next.vlan) return 'vf-vlan-changed';
  if (next.linkState === 'disable' && prev.linkState !== 'disable') return 'vf-link-disabled';
  return undefined;
}

function normalizeMac(m: string): string {
  return m.toLowerCase();
}

export type Phase =
  /** no agent connected and nothing of the VF's on the host */
  | 'idle'
  | 'connected'
  /** the agent went away (or said bye keep): its SAs stay until the stale timeout */
  | 'disconnected'
  /** after a daemon restart: the VF's SAs were found and kept; its agent has restart_grace to come back */
  | 'restoring';

export interface Liveness {
  phase: Phase;
  /** epoch ms of the last request from its agent (or of the restart) */
  lastSeen: number;
  /** restoring: cleaned up after this (epoch ms) */
  graceUntil?: number;
}

export type StaleReason = 'heartbeat-timeout' | 'restart-grace';

/** Whether a VF is stale now. */
export function staleNow(l: Liveness, now: number, staleTimeoutMs: number): StaleReason | undefined {
  if (l.phase === 'restoring') return l.graceUntil !== undefined && now >= l.graceUntil ? 'restart-grace' : undefined;
  if (l.phase === 'connected' || l.phase === 'disconnected') return now - l.lastSeen > staleTimeoutMs ? 'heartbeat-timeout' : undefined;
  return undefined;
}
