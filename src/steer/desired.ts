// What the daemon asks the datapath to do (config, VF info, SA model), before
// and after device names are resolved to ifindexes, and what the maps hold
// now. Plain data: the planner (plan.ts) turns (current, desired) into ops.
import type { EspKey, FdbRecord, PortRecord } from './records.js';

/** A port: a device frames are steered to and whose frames go out by the uplink. */
export interface SteerPortSpec {
  device: string;
  /** source MAC the port must use toward the uplink (anti-spoof); omitted = unchecked */
  mac?: string;
  /** access VLAN: popped toward the port, pushed toward the uplink. 0/omitted = trunk (tags pass as they are) */
  vlan?: number;
}

/** {destination MAC, VLAN} -> port. */
export interface SteerFdbSpec {
  mac: string;
  /** 0/omitted = untagged on the uplink */
  vlan?: number;
  /** port device name (must be one of the ports) */
  port: string;
  /** who wants it (kept in the entry); default 'config' */
  origin?: 'config' | 'vf';
}

/** ESP for an SA terminated on this host: goes to the kernel, never steered. */
export interface SteerEspSpec {
  /** VLAN the SA's traffic arrives on; 0/omitted = untagged */
  vlan?: number;
  /** the SA's destination address (this host), IPv4 or IPv6 */
  daddr: string;
  /** the SA's SPI (host order) */
  spi: number;
}

/** The complete desired state the daemon owns. Manual entries (`steer add`) are not part of it and are kept. */
export interface SteerDesired {
  ports: readonly SteerPortSpec[];
  fdb: readonly SteerFdbSpec[];
  esp: readonly SteerEspSpec[];
}

export interface ResolvedPort {
  device: string;
  ifindex: number;
  mac?: string;
  vlan: number;
}

export interface ResolvedFdb {
  mac: string;
  vlan: number;
  device: string;
  ifindex: number;
  origin: 'config' | 'vf';
}

/** Desired state with devices resolved to ifindexes in the uplink's netns. */
export interface ResolvedDesired {
  uplink: number;
  ports: readonly ResolvedPort[];
  fdb: readonly ResolvedFdb[];
  esp: readonly EspKey[];
}

/** Whose XDP program runs on a port device. */
export type PortXdp = 'ours' | 'none' | 'foreign';

/** What the maps (and the ports' XDP hooks) hold now. */
export interface SteerState {
  uplink: number;
  ports: readonly PortRecord[];
  /** keys of steer_ports (the uplink's own entry included) */
  devmap: readonly number[];
  fdb: readonly FdbRecord[];
  esp: readonly EspKey[];
  /** per port ifindex; absent = 'none' */
  portXdp: ReadonlyMap<number, PortXdp>;
}
