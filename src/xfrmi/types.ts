// The planner's inputs and outputs: what charon says (CHILD_SAs with
// if_ids), what the kernel has (links, addresses, routes), and the actions,
// conflicts and rows that close or report the gap. Plain data only.

/** A CHILD_SA as far as xfrm interfaces care. */
export interface XfrmiChild {
  /** CHILD_SA unique id (charon's, restarts with charon) */
  uniqueid: number;
  /** IKE config name */
  conn: string;
  /** CHILD config name */
  child: string;
  /** IKE_SA unique id */
  ikeId: number;
  ifIdIn?: number;
  ifIdOut?: number;
  /** the IKE_SA's local and remote address */
  localAddr: string;
  remoteAddr: string;
  localTs: string[];
  remoteTs: string[];
}

/** A link of the namespace (only what the planner reads). */
export interface ObservedLink {
  index: number;
  name: string;
  kind?: string;
  up: boolean;
  mtu?: number;
  alias?: string;
  /** for kind xfrm */
  xfrm?: { ifId: number; link: number; collectMetadata: boolean };
}

export interface ObservedAddress {
  ifindex: number;
  address: string;
  /** 4 or 6 */
  family: 4 | 6;
}

export interface ObservedRoute {
  family: 4 | 6;
  /** canonical "10.2.0.0/24" */
  dst: string;
  table: number;
  /** RTA_PRIORITY as the kernel reports it (IPv6 routes added without one get 1024) */
  metric: number;
  oif?: number;
  protocol: number;
  prefsrc?: string;
  /** unicast, blackhole, ... */
  type: string;
}

export interface Observed {
  links: ObservedLink[];
  addresses: ObservedAddress[];
  /** routes of the tables the config uses */
  routes: ObservedRoute[];
}

/** A CHILD_SA that uses an if_id, as operators name it. */
export interface ChildRef {
  conn: string;
  child: string;
  uniqueid: number;
}

/** Why a route to a remote selector is not installed (by design, not by conflict). */
export type RouteSkip =
  /** the selector holds the IKE peer: routing it through the tunnel would carry IKE and ESP into their own tunnel */
  | 'covers-peer'
  /** an address range that is not one subnet */
  | 'range'
  | 'unparsable';

export type ConflictKind =
  /** an xfrm interface we did not create already has this if_id (the kernel allows one per netns) */
  | 'foreign-ifid'
  /** the name is taken by another interface */
  | 'name-taken'
  /** the template gives a name over 15 characters for this if_id */
  | 'name-too-long'
  /** the configured underlying device does not exist */
  | 'link-missing'
  /** no device in the namespace owns the SA's local address */
  | 'link-unknown'
  /** a route with the same destination, table and metric exists and is not ours */
  | 'route-exists';

export interface Conflict {
  kind: ConflictKind;
  ifId: number;
  /** the interface (or route destination) concerned */
  subject: string;
  /** the foreign interface's ifindex, when there is one */
  ifindex?: number;
  message: string;
}

export interface RouteKey {
  family: 4 | 6;
  dst: string;
  table: number;
  metric: number;
}

export type Action =
  | { type: 'create'; ifId: number; name: string; link?: number; linkName?: string; mtu: number; users: ChildRef[] }
  | { type: 'set-up'; ifId: number; ifindex: number; name: string }
  | { type: 'set-mtu'; ifId: number; ifindex: number; name: string; mtu: number; was?: number }
  | { type: 'delete'; ifId: number; ifindex: number; name: string; idleMs: number }
  | { type: 'route-add'; ifId: number; ifindex: number; dev: string; route: RouteKey; prefsrc?: string; users: ChildRef[] }
  | { type: 'route-replace'; ifId: number; ifindex: number; dev: string; route: RouteKey; prefsrc?: string; was?: string; users: ChildRef[] }
  | { type: 'route-del'; ifId: number; ifindex: number; dev: string; route: RouteKey; reason: 'unused' | 'interface-removed'; idleMs: number };

export type InterfaceState =
  /** ours, up */
  | 'up'
  /** ours, down (being set up) */
  | 'down'
  /** wanted, not there yet */
  | 'pending'
  /** ours, no CHILD_SA uses it: removed when the grace period ends */
  | 'idle'
  /** wanted, but blocked: see conflict */
  | 'conflict';

export type RouteState = 'installed' | 'pending' | 'idle' | 'conflict' | 'skipped';

export interface RouteRow {
  dst: string;
  table: number;
  metric: number;
  prefsrc: string | null;
  state: RouteState;
  /** skip reason or conflict text */
  reason: string | null;
  /** epoch ms when an idle route goes */
  removeAt: number | null;
}

/** One line of `xfrmi list` (stable field names: it is the --json output). */
export interface XfrmiRow {
  ifId: number;
  name: string;
  ifindex: number | null;
  /** underlying device name (IFLA_XFRM_LINK) */
  link: string | null;
  state: InterfaceState;
  owner: 'ipsec-offload' | 'foreign' | null;
  mtu: number | null;
  /** the directions the CHILD_SAs use this if_id for */
  dirs: ('in' | 'out')[];
  conns: ChildRef[];
  routes: RouteRow[];
  conflict: Conflict | null;
  /** epoch ms when an idle interface goes */
  removeAt: number | null;
  /** the last change to this if_id that the kernel refused (retried), e.g. "create: EOPNOTSUPP Unknown device type." */
  error: string | null;
}

export interface PlanInput {
  children: readonly XfrmiChild[];
  /** charon's view is complete (list-sas done, events flowing): only then may anything be removed */
  synced: boolean;
  observed: Observed;
  now: number;
  /** since when each of our interfaces/routes has been unused (from the previous plan) */
  idle: ReadonlyMap<string, number>;
}

export interface XfrmiPlan {
  /** in order: creations, repairs (up, MTU), route replacements and additions, route removals, interface removals */
  actions: Action[];
  rows: XfrmiRow[];
  conflicts: Conflict[];
  /** carry into the next plan */
  idle: Map<string, number>;
  /** epoch ms of the next grace expiry, if any: plan again then */
  wakeAt: number | null;
}
