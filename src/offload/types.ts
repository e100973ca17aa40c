// The offload model: what the daemon knows about CHILD_SAs, their kernel SAs
// and the devices that could carry them. Key material is NOT here: keys live
// only in the executor's key store, so the planner (and anything that prints
// the model) never sees them.

/** Why an SA is where it is (or why it is not where one might expect). */
export type Reason =
  | 'offloaded' // on the device the policy asked for
  | 'config-off' // the connection's policy says software
  | 'pinned-software' // an operator pinned it with `sa demote`
  | 'pinned-offload' // an operator pinned it with `sa promote`
  | 'no-device' // no device owns the SA's local address (and none configured)
  | 'device-down'
  | 'device-no-esp-offload' // ethtool: esp-hw-offload off/absent
  | 'esn-unsupported' // the device cannot offload ESN SAs (learned or configured)
  | 'encap-unsupported' // NAT-T UDP encapsulation cannot be offloaded (kernel < 6.12 / device)
  | 'tfcpad-unsupported' // TFC padding cannot be offloaded
  | 'algorithm-unsupported' // not AES-GCM (rfc4106) with a 128-bit ICV
  | 'capacity' // the device's SA table is full
  | 'backoff' // a recent failure; retried later
  | 'silent-fallback' // the kernel accepted offload but installed in software (device without ops)
  | 'missing' // the kernel lost it (device loss): being reinstalled
  | 'pending' // a swap is in flight
  | 'vf-quota' // pf role: the owning VF uses all the hardware slots it may
  | 'spi-collision'; // pf role: another VF's inbound SA has this SPI in the device's table

export type Placement = { kind: 'software' } | { kind: 'offload'; ifindex: number };

export type SaDir = 'in' | 'out';

/** Kernel identity of an SA: (daddr, spi, proto) + mark + if_id, as XFRM looks it up. */
export interface SaId {
  daddr: string;
  spi: number;
  proto: number;
  family: number;
  mark?: { value: number; mask: number };
  ifId?: number;
}

export function saKey(id: SaId): string {
  const mark = id.mark ? `/m${id.mark.value.toString(16)}:${id.mark.mask.toString(16)}` : '';
  const ifid = id.ifId ? `/if${id.ifId}` : '';
  return `${id.daddr}/${id.spi.toString(16).padStart(8, '0')}/${id.proto}${mark}${ifid}`;
}

/** What the offload decision needs to know about an SA's crypto and shape. */
export interface SaShape {
  esn: boolean;
  /** UDP encapsulation (NAT-T) */
  encap: boolean;
  /** AEAD algorithm name and ICV length in bits, if AEAD */
  aead?: { name: string; icvBits: number; keyBits: number };
  tfcpad: boolean;
  mode: string;
}

export interface SaRecord {
  key: string;
  id: SaId;
  saddr: string;
  dir: SaDir;
  /** the CHILD_SA this SA belongs to (childKey), if charon attributes it */
  child: string;
  shape: SaShape;
  /** the kernel has this SA right now (as far as we know) */
  present: boolean;
  /** the device it is offloaded to (XFRMA_OFFLOAD_DEV), if any */
  offloadIfindex?: number;
  /** the executor holds the complete state, keys included */
  keysHeld: boolean;
  /** a swap, reinstall or key load is in flight */
  busy: boolean;
  /** OffloadState.epoch when busy last changed (see applyKernelSnapshot) */
  touched?: number;
  /** last known outbound sequence number (from AEVENTS or GETSA) and the aevent threshold in force */
  seq?: { oseq: number; oseqHi: number; seq: number; seqHi: number; at: number };
  replayThreshold?: number;
  /** traffic, for "promote in order of traffic" */
  bytes: bigint;
  packets: bigint;
  /** bytes per second, smoothed; and when bytes was last sampled */
  rate: number;
  trafficAt?: number;
  /** last offload failure on a device */
  failure?: { ifindex: number; reason: Reason; errno?: number; message?: string; at: number };
  /** we installed the current kernel copy (after a swap or a reinstall) */
  reinstalledByUs: boolean;
  /** when the model first saw it (ms since the epoch) */
  firstSeen: number;
  /** someone deleted it on purpose (a DELSA we did not send): never reinstall it */
  deleted?: boolean;
}

export interface ChildRecord {
  /** `${uniqueid}` of the CHILD_SA in charon (unique per charon lifetime) */
  key: string;
  uniqueid: number;
  reqid: number;
  name: string;
  ike: { name: string; uniqueid: number };
  state: string;
  mode: string;
  localAddr: string;
  remoteAddr: string;
  spiIn?: number;
  spiOut?: number;
  esn: boolean;
  encap: boolean;
  /** SA keys (saKey) of its inbound and outbound SAs once known */
  saIn?: string;
  saOut?: string;
  /** charon no longer has it */
  gone: boolean;
  /**
   * down: charon said so (child-updown down, child-rekey, ike-updown down):
   * its SAs are meant to be deleted. vanished: it just is not in list-sas any
   * more (charon crashed or restarted): its SAs are left alone.
   */
  goneReason?: 'down' | 'vanished';
  /** when the model first saw it, and when it went */
  since: number;
  goneAt?: number;
  /** when the executor last asked charon to rekey it, and why */
  rekeyRequested?: { at: number; reason: 'keys-lost' | 'seq-exhaustion' };
  /** OffloadState.epoch when a charon event last changed it (see applyChildren) */
  touched?: number;
  /** pf role: a VF agent's CHILD_SA the PF installed (absent: charon's own) */
  owner?: ChildOwner;
}

/**
 * A CHILD_SA a VF agent installed through the PF (src/vf). Its SAs are
 * managed like charon's (promote, demote, reinstall), except: charon knows
 * nothing of it (no rekey is ever asked of charon, list-sas never makes it
 * vanish, charon's sync state does not hold it back), it goes only when the
 * PF says so (and then at once: the PF removes a VF's SAs before the VF gets
 * resources again), its device is the PF's, and a VF uses at most `hwSlots`
 * slots of that device.
 */
export interface ChildOwner {
  /** the VF's name (every child of one VF carries the same owner values) */
  vf: string;
  /** the PF netdev its SAs are offloaded to */
  device: string;
  /** slots of `device` the VF may use; its other SAs stay in software ('vf-quota') */
  hwSlots: number;
  /** kept in software whatever else allows, and why */
  software?: 'spi-collision';
}

export interface DeviceRecord {
  ifindex: number;
  name: string;
  up: boolean;
  /** ethtool esp-hw-offload active */
  espOffload: boolean;
  /** ESN offload: learned from a probe or a failure, or configured */
  esn: 'unknown' | 'supported' | 'unsupported';
  /** SA table size: configured, or learned from ENOSPC */
  capacity?: number;
  capacitySource?: 'config' | 'learned';
  /** a capability probe is in flight or done */
  probed: boolean;
  /** the kernel accepted offload to it but installed in software (no xfrmdev_ops) */
  silentFallback: boolean;
  /** local addresses owned by this device (for charon's device rule) */
  addresses: string[];
}

/** Manual pins from the CLI (`sa promote|demote`), by SA key or by connection. */
export interface Pins {
  sa: Map<string, 'offload' | 'software'>;
}

export interface OffloadState {
  now: number;
  /** charon's view is current (VICI connected and resynced); when false nothing is changed */
  charonSynced: boolean;
  children: Map<string, ChildRecord>;
  sas: Map<string, SaRecord>;
  devices: Map<number, DeviceRecord>;
  pins: Pins;
  /**
   * Counts the executor's busy transitions and the charon events applied to
   * children: a SAD dump or a list-sas requested at epoch E says nothing about
   * an SA or a CHILD_SA touched after E (applyKernelSnapshot, applyChildren).
   */
  epoch: number;
}

export function emptyState(now = 0): OffloadState {
  return { now, charonSynced: true, children: new Map(), sas: new Map(), devices: new Map(), pins: { sa: new Map() }, epoch: 0 };
}
