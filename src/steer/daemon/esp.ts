// ESP exceptions from the daemon's SA model: every inbound ESP SA the kernel
// holds is terminated on this host, so its frames must reach the kernel even
// when their destination MAC + VLAN are steered to a port. An exception is
// keyed by the VLAN the SA's traffic carries on the uplink, which this file
// derives from the device that traffic arrives through (the route back to the
// SA's peer): the uplink itself or a bridge/bond/macvlan above it = untagged
// (0), an 802.1Q device on the uplink (or on its master) = that VLAN. SAs whose
// traffic does not cross the uplink get no exception there. Pure.
import type { Link } from '../../link/link-view.js';
import type { OffloadState, SaRecord } from '../../offload/types.js';
import type { SteerEspSpec } from '../desired.js';

const IPPROTO_ESP = 50;
const ETH_P_8021Q = 0x8100;
/** Upper devices whose frames arrive on their lower device untagged. */
const SAME_WIRE = new Set(['macvlan', 'macvtap', 'ipvlan', 'ipvtap']);

/** An inbound SA terminated here: what its exception needs. */
export interface InboundSa {
  /** the model's key of the SA (daddr, SPI, proto, mark, if_id) */
  key: string;
  /** local address (the SA's destination) */
  daddr: string;
  /** the peer (the SA's source) */
  saddr: string;
  spi: number;
}

/**
 * An inbound ESP SA the kernel holds as far as the model knows; one in the
 * middle of a promote/demote (busy) counts as held, so a swap never drops its
 * exception. SAs deleted on purpose do not.
 */
function held(sa: SaRecord): boolean {
  return sa.dir === 'in' && sa.id.proto === IPPROTO_ESP && !sa.deleted && (sa.present || sa.busy);
}

/** The inbound ESP SAs the kernel holds. */
export function inboundSas(state: Pick<OffloadState, 'sas'>): InboundSa[] {
  const out: InboundSa[] = [];
  for (const sa of state.sas.values()) if (held(sa)) out.push({ key: sa.key, daddr: sa.id.daddr, saddr: sa.saddr, spi: sa.id.spi });
  return out;
}

/**
 * The same SAs as the model's keys (strings the model already holds: nothing
 * is allocated per SA): equal sets = the exceptions cannot have changed.
 */
export function inboundKeys(state: Pick<OffloadState, 'sas'>): Set<string> {
  const out = new Set<string>();
  for (const sa of state.sas.values()) if (held(sa)) out.add(sa.key);
  return out;
}

/** Set equality without sorting (the SA poll runs this every half second). */
export function sameKeys(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const k of a) if (!b.has(k)) return false;
  return true;
}

/**
 * The VLAN a frame arriving through device `ifindex` carries on `uplink`, or
 * undefined when such frames do not cross the uplink (or carry an S-tag,
 * which steering never redirects).
 */
export function vlanOnUplink(ifindex: number, uplink: Link, links: ReadonlyMap<number, Link>): number | undefined {
  if (ifindex === uplink.index) return 0;
  // The uplink enslaved to a bridge or bond: the master's own frames are untagged on it.
  if (uplink.master !== undefined && ifindex === uplink.master) return 0;
  const dev = links.get(ifindex);
  if (!dev) return undefined;
  // A lower device in another netns is a different ifindex space.
  const lower = dev.linkNetnsId === undefined ? dev.parent : undefined;
  if (dev.kind === 'vlan' && dev.vlan && lower !== undefined) {
    if (dev.vlan.protocol !== ETH_P_8021Q) return undefined;
    if (lower === uplink.index || (uplink.master !== undefined && lower === uplink.master)) return dev.vlan.id;
    return undefined;
  }
  if (dev.kind !== undefined && SAME_WIRE.has(dev.kind) && lower === uplink.index) return 0;
  return undefined;
}

/**
 * One exception per inbound SA whose traffic crosses the uplink.
 * `arrival(sa)` is the ifindex the SA's traffic comes in through (undefined:
 * unknown, no exception).
 */
export function espExceptions(
  sas: readonly InboundSa[],
  arrival: (sa: InboundSa) => number | undefined,
  uplink: Link,
  links: ReadonlyMap<number, Link>,
): SteerEspSpec[] {
  const seen = new Set<string>();
  const out: SteerEspSpec[] = [];
  for (const sa of sas) {
    const dev = arrival(sa);
    if (dev === undefined) continue;
    const vlan = vlanOnUplink(dev, uplink, links);
    if (vlan === undefined) continue;
    const key = `${vlan}/${sa.daddr}/${sa.spi}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ vlan, daddr: sa.daddr, spi: sa.spi });
  }
  return out.sort((a, b) => (a.vlan ?? 0) - (b.vlan ?? 0) || a.daddr.localeCompare(b.daddr) || a.spi - b.spi);
}
