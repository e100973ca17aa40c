// The pure half of reconcile: (what the maps hold, what is desired) -> the
// minimal ordered list of map operations, plus the desired entries that were
// refused and why. No I/O, no clock: table-tested in test/unit/steer.
//
// Order follows the project's rule that the software path is the safe one:
// changes that send traffic to the kernel (new ESP exceptions, removed fdb
// entries) come first; changes that take traffic away from it (new fdb
// entries) only after the ports they point at are complete; ESP exceptions
// are removed last.
import { isValid, isMulticast, isZero, validVlan } from './validate.js';
import type { SteerIssue } from './errors.js';
import { STEER_ESP_MAX, STEER_FDB_MAX, STEER_PORT_MAX } from './layout.js';
import { espId, fdbId, normalizeEsp, normalizeMac, type EspKey, type FdbKey, type FdbRecord, type PortRecord } from './records.js';
import type { ResolvedDesired, ResolvedPort, SteerState } from './desired.js';

export type SteerOp =
  | { op: 'esp-add'; esp: EspKey }
  | { op: 'fdb-delete'; key: FdbKey; reason: 'not desired' | 'port removed' | 'port changed' | 'no room' }
  | { op: 'port-stats-reset'; slot: number }
  | { op: 'port-set'; port: PortRecord; device: string }
  | { op: 'devmap-set'; ifindex: number; device: string }
  | { op: 'port-attach'; ifindex: number; device: string }
  | { op: 'fdb-set'; entry: FdbRecord }
  | { op: 'port-detach'; ifindex: number }
  | { op: 'devmap-delete'; ifindex: number }
  | { op: 'port-delete'; ifindex: number }
  | { op: 'esp-delete'; esp: EspKey };

export type SteerOpKind = SteerOp['op'];

/** Execution order of the op kinds (see the file comment). */
export const OP_ORDER: readonly SteerOpKind[] = [
  'esp-add',
  'fdb-delete',
  'port-stats-reset',
  'port-set',
  'devmap-set',
  'port-attach',
  'fdb-set',
  'port-detach',
  'devmap-delete',
  'port-delete',
  'esp-delete',
];

export interface SteerPlan {
  ops: SteerOp[];
  /** desired entries that were left out, and why */
  issues: SteerIssue[];
}

/** The devmap holds every port plus the uplink's own entry. */
export const MAX_PORTS = STEER_PORT_MAX - 1;

interface ValidPort extends ResolvedPort {
  mac: string | undefined;
}

function validPorts(desired: ResolvedDesired, issues: SteerIssue[]): Map<number, ValidPort> {
  const out = new Map<number, ValidPort>();
  desired.ports.forEach((p, i) => {
    const at = `ports[${i}] (${p.device})`;
    const problem = (message: string): void => void issues.push({ at, message });
    if (p.ifindex === desired.uplink) return problem('is the uplink itself');
    if (!validVlan(p.vlan)) return problem(`VLAN ${p.vlan} is outside 0..4094`);
    let mac: string | undefined;
    if (p.mac !== undefined) {
      if (!isValid(p.mac)) return problem(`${JSON.stringify(p.mac)} is not a MAC address`);
      mac = normalizeMac(p.mac);
      if (isMulticast(mac) || isZero(mac)) return problem(`${mac} is not a unicast MAC`);
    }
    if (out.has(p.ifindex)) return problem('listed twice');
    if (out.size >= MAX_PORTS) return problem(`more than ${MAX_PORTS} ports`);
    out.set(p.ifindex, { ...p, mac });
  });
  return out;
}

/** Can an fdb entry for `vlan` point at `port`? (shared with `steer add`) */
export function portAccepts(port: { vlan: number }, vlan: number): string | undefined {
  if (port.vlan !== 0 && vlan !== port.vlan) {
    return `the port is an access port of VLAN ${port.vlan}; entries for it must use VLAN ${port.vlan}`;
  }
  return undefined;
}

/** Lowest free slots for new ports, keeping every existing port's slot. */
function assignSlots(current: ReadonlyMap<number, PortRecord>, ports: Map<number, ValidPort>): Map<number, number> {
  const slots = new Map<number, number>();
  const used = new Set<number>();
  for (const ifindex of ports.keys()) {
    const cur = current.get(ifindex);
    if (cur && !used.has(cur.slot) && cur.slot < STEER_PORT_MAX) {
      slots.set(ifindex, cur.slot);
      used.add(cur.slot);
    }
  }
  let next = 0;
  for (const ifindex of ports.keys()) {
    if (slots.has(ifindex)) continue;
    while (used.has(next)) next++;
    slots.set(ifindex, next);
    used.add(next);
  }
  return slots;
}

const samePort = (a: PortRecord, b: PortRecord): boolean =>
  a.mac === b.mac && a.vlan === b.vlan && a.uplink === b.uplink && a.slot === b.slot;

const sameFdb = (a: FdbRecord, b: FdbRecord): boolean =>
  a.ifindex === b.ifindex && a.slot === b.slot && a.strip === b.strip && a.origin === b.origin;

export function planSteer(current: SteerState, desired: ResolvedDesired): SteerPlan {
  const issues: SteerIssue[] = [];
  const ops: SteerOp[] = [];

  // Ports and their slots.
  const ports = validPorts(desired, issues);
  const curPorts = new Map(current.ports.map((p) => [p.ifindex, p]));
  const slots = assignSlots(curPorts, ports);
  const portRecord = (p: ValidPort): PortRecord => ({
    ifindex: p.ifindex,
    mac: p.mac,
    vlan: p.vlan,
    uplink: desired.uplink,
    slot: slots.get(p.ifindex) ?? 0,
  });
  const devmap = new Set(current.devmap);
  for (const p of ports.values()) {
    const want = portRecord(p);
    const have = curPorts.get(p.ifindex);
    if (!have || have.slot !== want.slot) ops.push({ op: 'port-stats-reset', slot: want.slot });
    if (!have || !samePort(have, want)) ops.push({ op: 'port-set', port: want, device: p.device });
    if (!devmap.has(p.ifindex)) ops.push({ op: 'devmap-set', ifindex: p.ifindex, device: p.device });
    if ((current.portXdp.get(p.ifindex) ?? 'none') === 'none') ops.push({ op: 'port-attach', ifindex: p.ifindex, device: p.device });
    else if (current.portXdp.get(p.ifindex) === 'foreign') {
      issues.push({ at: `port ${p.device}`, message: 'runs another XDP program: frames it sends are not steered to the uplink' });
    }
  }
  for (const p of current.ports) {
    if (ports.has(p.ifindex)) continue;
    if (current.portXdp.get(p.ifindex) === 'ours') ops.push({ op: 'port-detach', ifindex: p.ifindex });
    ops.push({ op: 'port-delete', ifindex: p.ifindex });
  }
  for (const ifindex of current.devmap) {
    if (ifindex !== desired.uplink && !ports.has(ifindex)) ops.push({ op: 'devmap-delete', ifindex });
  }

  // fdb: desired entries, then manual ones that still have their port.
  const want = new Map<string, FdbRecord>();
  desired.fdb.forEach((f, i) => {
    const at = `fdb[${i}] (${f.mac} vlan ${f.vlan} -> ${f.device})`;
    const problem = (message: string): void => void issues.push({ at, message });
    if (!isValid(f.mac)) return problem(`${JSON.stringify(f.mac)} is not a MAC address`);
    const mac = normalizeMac(f.mac);
    if (isMulticast(mac) || isZero(mac)) return problem(`${mac} is not a unicast MAC`);
    if (!validVlan(f.vlan)) return problem(`VLAN ${f.vlan} is outside 0..4094`);
    const port = ports.get(f.ifindex);
    if (!port) return problem(f.ifindex === desired.uplink ? 'points at the uplink itself' : `${f.device} is not a port`);
    const refused = portAccepts(port, f.vlan);
    if (refused) return problem(refused);
    const id = fdbId({ mac, vlan: f.vlan });
    const prev = want.get(id);
    if (prev) return problem(prev.ifindex === f.ifindex ? 'listed twice' : `conflicts with an earlier entry for the same MAC and VLAN`);
    if (want.size >= STEER_FDB_MAX) return problem(`more than ${STEER_FDB_MAX} fdb entries`);
    want.set(id, { mac, vlan: f.vlan, ifindex: f.ifindex, slot: slots.get(f.ifindex) ?? 0, strip: port.vlan !== 0, origin: f.origin });
  });
  const curFdb = new Map(current.fdb.map((f) => [fdbId(f), f]));
  const evicted = new Set<string>();
  for (const f of current.fdb) {
    const id = fdbId(f);
    if (f.origin !== 'manual' || want.has(id)) continue;
    const port = ports.get(f.ifindex);
    if (!port || portAccepts(port, f.vlan)) continue;
    if (want.size >= STEER_FDB_MAX) {
      issues.push({ at: `manual fdb ${f.mac} vlan ${f.vlan}`, message: `no room: more than ${STEER_FDB_MAX} fdb entries` });
      evicted.add(id);
      continue;
    }
    want.set(id, { ...f, slot: slots.get(f.ifindex) ?? 0, strip: port.vlan !== 0 });
  }
  for (const f of current.fdb) {
    const id = fdbId(f);
    if (want.has(id)) continue;
    const reason =
      f.origin !== 'manual' ? 'not desired' : evicted.has(id) ? 'no room' : ports.has(f.ifindex) ? 'port changed' : 'port removed';
    ops.push({ op: 'fdb-delete', key: { mac: f.mac, vlan: f.vlan }, reason });
  }
  for (const [id, f] of want) {
    const have = curFdb.get(id);
    if (!have || !sameFdb(have, f)) ops.push({ op: 'fdb-set', entry: f });
  }

  // ESP exceptions.
  const wantEsp = new Map<string, EspKey>();
  desired.esp.forEach((e, i) => {
    const at = `esp[${i}] (${e.daddr} spi ${e.spi} vlan ${e.vlan})`;
    if (!validVlan(e.vlan)) return void issues.push({ at, message: `VLAN ${e.vlan} is outside 0..4094` });
    if (!Number.isInteger(e.spi) || e.spi < 1 || e.spi > 0xffffffff) return void issues.push({ at, message: 'SPI must be 1..0xffffffff' });
    let k: EspKey;
    try {
      k = normalizeEsp(e);
    } catch {
      return void issues.push({ at, message: `${JSON.stringify(e.daddr)} is not an IP address` });
    }
    if (wantEsp.has(espId(k))) return;
    if (wantEsp.size >= STEER_ESP_MAX) return void issues.push({ at, message: `more than ${STEER_ESP_MAX} ESP exceptions` });
    wantEsp.set(espId(k), k);
  });
  const curEsp = new Set(current.esp.map(espId));
  for (const [id, k] of wantEsp) if (!curEsp.has(id)) ops.push({ op: 'esp-add', esp: k });
  for (const k of current.esp) if (!wantEsp.has(espId(k))) ops.push({ op: 'esp-delete', esp: k });

  const rank = new Map(OP_ORDER.map((k, i) => [k, i]));
  ops.sort((a, b) => (rank.get(a.op) ?? 0) - (rank.get(b.op) ?? 0));
  return { ops, issues };
}
