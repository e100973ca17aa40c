// Reads what the maps (and the ports' XDP hooks) hold: the "current" side of
// reconcile and the source of `steer list`.
import { xdpQuery, type NetnsOption } from './bpf.js';
import type { PortXdp, SteerState } from './desired.js';
import { SteerBpfError } from './errors.js';
import type { SteerMaps } from './object.js';
import {
  decodeEspKey,
  decodeFdbEntry,
  decodePort,
  sumCounters,
  sumPortStats,
  type Counter,
  type EspKey,
  type FdbRecord,
  type PortCounters,
  type PortRecord,
} from './records.js';
import { u32Key } from './layout.js';

const u32 = (n: number): Buffer => u32Key.encode({ value: n });

export function readPorts(maps: Pick<SteerMaps, 'portInfo'>): PortRecord[] {
  const out: PortRecord[] = [];
  for (const k of maps.portInfo.keys()) {
    const v = maps.portInfo.lookup(k);
    if (v) out.push(decodePort(u32Key.decode(k).value, v));
  }
  return out.sort((a, b) => a.ifindex - b.ifindex);
}

export function readDevmap(maps: SteerMaps): number[] {
  return maps.ports.keys().map((k) => u32Key.decode(k).value);
}

export function readFdb(maps: SteerMaps): (FdbRecord & Counter)[] {
  const out: (FdbRecord & Counter)[] = [];
  for (const k of maps.fdb.keys()) {
    const v = maps.fdb.lookup(k);
    if (v) out.push(decodeFdbEntry(k, maps.fdb.split(v)));
  }
  return out.sort((a, b) => a.vlan - b.vlan || a.mac.localeCompare(b.mac));
}

export function readEsp(maps: SteerMaps): (EspKey & Counter)[] {
  const out: (EspKey & Counter)[] = [];
  for (const k of maps.esp.keys()) {
    const v = maps.esp.lookup(k);
    if (v) out.push({ ...decodeEspKey(k), ...sumCounters(maps.esp.split(v)) });
  }
  return out.sort((a, b) => a.vlan - b.vlan || a.daddr.localeCompare(b.daddr) || a.spi - b.spi);
}

export function readPortStats(maps: SteerMaps, slot: number): PortCounters {
  const v = maps.portStats.lookup(u32(slot));
  return v ? sumPortStats(maps.portStats.split(v)) : { rxPackets: 0, rxBytes: 0, txPackets: 0, txBytes: 0, spoofed: 0, tagged: 0 };
}

export function readStat(maps: SteerMaps, index: number): Counter {
  const v = maps.stats.lookup(u32(index));
  return v ? sumCounters(maps.stats.split(v)) : { packets: 0, bytes: 0 };
}

/** Whose XDP program a port device runs; 'none' also when the device is gone. */
export function portXdp(ifindex: number, ourProgramId: number, netns?: NetnsOption): PortXdp {
  try {
    const q = xdpQuery(ifindex, netns);
    if (q.progId === 0) return 'none';
    return q.progId === ourProgramId ? 'ours' : 'foreign';
  } catch (e) {
    if (e instanceof SteerBpfError && (e.code === 'ENODEV' || e.code === 'ENOENT')) return 'none';
    throw e;
  }
}

export function readState(
  maps: SteerMaps,
  uplink: number,
  portRxId: number,
  alsoPorts: readonly number[],
  netns?: NetnsOption,
): SteerState {
  const ports = readPorts(maps);
  const xdp = new Map<number, PortXdp>();
  for (const ifindex of new Set([...ports.map((p) => p.ifindex), ...alsoPorts])) xdp.set(ifindex, portXdp(ifindex, portRxId, netns));
  return {
    uplink,
    ports,
    devmap: readDevmap(maps),
    fdb: readFdb(maps).map(({ packets: _p, bytes: _b, ...f }) => f),
    esp: readEsp(maps).map(({ packets: _p, bytes: _b, ...e }) => e),
    portXdp: xdp,
  };
}
