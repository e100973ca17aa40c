// What `steer status` and `steer list` show: plain objects (numbers, strings,
// null), ready for JSON.stringify and for a table printer. Counters are sums
// over CPUs, exact up to 2^53.
import { spiText } from '../log/events.js';
import { call, xdpQuery, type NetnsOption } from './bpf.js';
import type { PortXdp } from './desired.js';
import type { SteerMaps, SteerPrograms } from './object.js';
import { STEER_ESP_MAX, STEER_FDB_MAX, STEER_STATS, devmapValue, u32Key, type SteerOrigin, type SteerStatName } from './layout.js';
import { MAX_PORTS } from './plan.js';
import type { Counter, PortCounters } from './records.js';
import { portXdp, readEsp, readFdb, readPorts, readPortStats, readStat } from './state.js';

export interface SteerProgramView {
  name: string;
  id: number;
  tag: string;
}

export interface SteerStatusView {
  uplink: string;
  /** 0 when the device is gone */
  ifindex: number;
  netns: string;
  pinDir: string;
  /** the uplink's XDP hook */
  xdp: {
    /** XDP program id on the uplink, null when none */
    programId: number | null;
    /** it is our steer_ingress */
    ours: boolean;
    mode: 'native' | 'generic' | null;
  };
  /** the uplink's steer_ports entry and the egress program it carries */
  egress: { installed: boolean; programId: number | null };
  programs: { ingress: SteerProgramView | null; portRx: SteerProgramView | null; egress: SteerProgramView | null };
  entries: { fdb: { count: number; max: number }; ports: { count: number; max: number }; esp: { count: number; max: number } };
  verdicts: Record<SteerStatName, Counter>;
}

export interface SteerFdbView {
  mac: string;
  vlan: number;
  /** port device name (null: no device has that ifindex any more) */
  port: string | null;
  ifindex: number;
  /** the tag is popped on the way to the port */
  strip: boolean;
  origin: SteerOrigin | 'unknown';
  packets: number;
  bytes: number;
}

export interface SteerPortView {
  device: string | null;
  ifindex: number;
  /** the MAC the port must send from; null = unchecked */
  mac: string | null;
  /** access VLAN; 0 = trunk */
  vlan: number;
  slot: number;
  /** whose XDP program runs on the port (ours = frames it sends go to the uplink) */
  xdp: PortXdp;
  counters: PortCounters;
}

export interface SteerEspView {
  vlan: number;
  daddr: string;
  spi: number;
  /** "0x0000abcd" */
  spiHex: string;
  packets: number;
  bytes: number;
}

export interface SteerListView {
  uplink: string;
  ifindex: number;
  fdb: SteerFdbView[];
  ports: SteerPortView[];
  esp: SteerEspView[];
}

export interface ViewContext {
  uplink: string;
  ifindex: number;
  netns?: NetnsOption;
  netnsLabel: string;
  pinDir: string;
  maps: SteerMaps;
  programs: Partial<SteerPrograms>;
}

const progView = (p: { name: string; id: number; tag: string } | undefined): SteerProgramView | null =>
  p ? { name: p.name, id: p.id, tag: p.tag } : null;

export function statusView(c: ViewContext): SteerStatusView {
  let xdp: SteerStatusView['xdp'] = { programId: null, ours: false, mode: null };
  if (c.ifindex > 0) {
    const q = xdpQuery(c.ifindex, c.netns);
    if (q.progId !== 0) {
      xdp = {
        programId: q.progId,
        ours: q.progId === c.programs.ingress?.id,
        mode: q.attachMode === 'native' || q.attachMode === 'generic' ? q.attachMode : null,
      };
    }
  }
  const entry = c.ifindex > 0 ? c.maps.ports.lookup(u32Key.encode({ value: c.ifindex })) : null;
  const egressId = entry ? devmapValue.decode(entry).bpfProg : 0;
  const verdicts = {} as Record<SteerStatName, Counter>;
  STEER_STATS.forEach((name, i) => (verdicts[name] = readStat(c.maps, i)));
  return {
    uplink: c.uplink,
    ifindex: c.ifindex,
    netns: c.netnsLabel,
    pinDir: c.pinDir,
    xdp,
    egress: { installed: egressId !== 0 && egressId === c.programs.egress?.id, programId: egressId || null },
    programs: { ingress: progView(c.programs.ingress), portRx: progView(c.programs.portRx), egress: progView(c.programs.egress) },
    entries: {
      fdb: { count: c.maps.fdb.keys().length, max: STEER_FDB_MAX },
      ports: { count: c.maps.portInfo.keys().length, max: MAX_PORTS },
      esp: { count: c.maps.esp.keys().length, max: STEER_ESP_MAX },
    },
    verdicts,
  };
}

export function listView(c: ViewContext): SteerListView {
  const names = new Map<number, string | null>();
  const nameOf = (ifindex: number): string | null => {
    if (!names.has(ifindex)) names.set(ifindex, call(`name of ifindex ${ifindex}`, (b) => b.ifIndexToName(ifindex, c.netns)));
    return names.get(ifindex) ?? null;
  };
  return {
    uplink: c.uplink,
    ifindex: c.ifindex,
    fdb: readFdb(c.maps).map((f) => ({
      mac: f.mac,
      vlan: f.vlan,
      port: nameOf(f.ifindex),
      ifindex: f.ifindex,
      strip: f.strip,
      origin: f.origin,
      packets: f.packets,
      bytes: f.bytes,
    })),
    ports: readPorts(c.maps).map((p) => ({
      device: nameOf(p.ifindex),
      ifindex: p.ifindex,
      mac: p.mac ?? null,
      vlan: p.vlan,
      slot: p.slot,
      xdp: portXdp(p.ifindex, c.programs.portRx?.id ?? -1, c.netns),
      counters: readPortStats(c.maps, p.slot),
    })),
    esp: readEsp(c.maps).map((e) => ({ ...e, spiHex: spiText(e.spi) })),
  };
}
