// What operators see: rows built from the keyless model and the last plan.
// These go over the control socket and into `--json`: stable field names.
import type { Plan } from '../offload/planner.js';
import { connMatcher, type PlannerConfig } from '../offload/policy.js';
import type { OffloadState, Reason, SaRecord } from '../offload/types.js';
import { spiText } from '../log/events.js';

export type SaStateName = 'offloaded' | 'software' | 'pending' | 'missing';

export interface SaRow {
  conn: string;
  child: string;
  uniqueid: number;
  reqid: number;
  dir: 'in' | 'out';
  spi: string;
  src: string;
  dst: string;
  /** the device it is on (offloaded) or would be on */
  dev: string | null;
  state: SaStateName;
  reason: Reason;
  esn: boolean;
  encap: boolean;
  aead: string | null;
  bytes: string;
  packets: string;
  /** smoothed bytes per second */
  rate: number;
  ageSeconds: number;
  pin: 'offload' | 'software' | null;
  failure: { dev: string; reason: Reason; errno: number | null; kernel: string | null; secondsAgo: number } | null;
  /** the kernel copy was installed by ipsec-offload (after a swap or a reinstall) */
  reinstalled: boolean;
}

export interface DeviceRow {
  ifindex: number;
  name: string;
  up: boolean;
  espOffload: boolean;
  esn: 'unknown' | 'supported' | 'unsupported';
  capacity: number | null;
  capacitySource: 'config' | 'learned' | null;
  offloaded: number;
  silentFallback: boolean;
  addresses: string[];
}

export interface SaFilter {
  /** glob on conn, conn/child, or child */
  conn?: string;
  state?: SaStateName;
}

function stateOf(sa: SaRecord): SaStateName {
  if (sa.busy) return 'pending';
  if (!sa.present) return 'missing';
  return sa.offloadIfindex !== undefined ? 'offloaded' : 'software';
}

export function saRow(state: OffloadState, plan: Plan, sa: SaRecord): SaRow {
  const c = state.children.get(sa.child);
  const d = plan.decisions.get(sa.key);
  const reason: Reason = d?.reason ?? (sa.offloadIfindex !== undefined ? 'offloaded' : 'pending');
  const devIndex = sa.offloadIfindex ?? (d?.target.kind === 'offload' ? d.target.ifindex : undefined);
  const devName = (i: number): string => state.devices.get(i)?.name ?? `if${i}`;
  return {
    conn: c?.ike.name ?? '?',
    child: c?.name ?? '?',
    uniqueid: c?.uniqueid ?? 0,
    reqid: c?.reqid ?? 0,
    dir: sa.dir,
    spi: spiText(sa.id.spi),
    src: sa.saddr,
    dst: sa.id.daddr,
    dev: devIndex !== undefined ? devName(devIndex) : null,
    state: stateOf(sa),
    reason,
    esn: sa.shape.esn,
    encap: sa.shape.encap,
    aead: sa.shape.aead?.name ?? null,
    bytes: sa.bytes.toString(),
    packets: sa.packets.toString(),
    rate: Math.round(sa.rate),
    ageSeconds: Math.max(0, Math.round((state.now - sa.firstSeen) / 1000)),
    pin: state.pins.sa.get(sa.key) ?? null,
    failure: sa.failure
      ? {
          dev: devName(sa.failure.ifindex),
          reason: sa.failure.reason,
          errno: sa.failure.errno ?? null,
          kernel: sa.failure.message ?? null,
          secondsAgo: Math.round((state.now - sa.failure.at) / 1000),
        }
      : null,
    reinstalled: sa.reinstalledByUs,
  };
}

export function saRows(state: OffloadState, plan: Plan, f: SaFilter = {}, only?: ReadonlySet<string>): SaRow[] {
  const match = f.conn ? connMatcher(f.conn) : undefined;
  return [...state.sas.values()]
    .filter((sa) => !state.children.get(sa.child)?.gone && (!only || only.has(sa.key)))
    .map((sa) => saRow(state, plan, sa))
    .filter((r) => (!match || match(r.conn, r.child)) && (!f.state || r.state === f.state))
    .sort((a, b) => a.conn.localeCompare(b.conn) || a.uniqueid - b.uniqueid || a.dir.localeCompare(b.dir));
}

export function deviceRows(state: OffloadState, cfg: PlannerConfig): DeviceRow[] {
  return [...state.devices.values()]
    .sort((a, b) => a.ifindex - b.ifindex)
    .map((d) => {
      const o = cfg.devices.get(d.name);
      const capacity = o?.capacity ?? d.capacity ?? null;
      return {
        ifindex: d.ifindex,
        name: d.name,
        up: d.up,
        espOffload: d.espOffload,
        esn: o?.esn !== undefined ? (o.esn ? 'supported' : 'unsupported') : d.esn,
        capacity,
        capacitySource: o?.capacity !== undefined ? 'config' : (d.capacitySource ?? null),
        offloaded: [...state.sas.values()].filter((s) => s.present && s.offloadIfindex === d.ifindex).length,
        silentFallback: d.silentFallback,
        addresses: d.addresses,
      };
    });
}

/** SAs an operator names: an SPI (0x... or hex), a CHILD_SA uniqueid, or a conn/child pattern. */
export function resolveSaRef(state: OffloadState, ref: string): SaRecord[] {
  const live = [...state.sas.values()].filter((sa) => !state.children.get(sa.child)?.gone);
  // 0x-prefixed, or 8 hex digits as charon prints them (with a letter: all-digit refs are uniqueids).
  if (/^0x[0-9a-f]{1,8}$/i.test(ref) || (/^[0-9a-f]{8}$/i.test(ref) && /[a-f]/i.test(ref))) {
    const spi = parseInt(ref.replace(/^0x/i, ''), 16);
    return live.filter((sa) => sa.id.spi === spi);
  }
  if (/^\d+$/.test(ref)) return live.filter((sa) => state.children.get(sa.child)?.uniqueid === Number(ref));
  const m = connMatcher(ref);
  return live.filter((sa) => {
    const c = state.children.get(sa.child);
    return c ? m(c.ike.name, c.name) : false;
  });
}
