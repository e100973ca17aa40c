// The TypeScript mirror of bpf/steer.h: every map's key and value as a
// struct table, the map set, flags, origins and verdict counters.
// test/unit/steer/layout.test.ts compiles steer.h with gcc and checks every
// size, offset and constant here against it.
import { address16, be32, mac, struct, u16, u32, u64, u8 } from '../netlink/codec/struct.js';

export const STEER_FDB_MAX = 4096;
export const STEER_PORT_MAX = 256;
export const STEER_ESP_MAX = 4096;
export const STEER_STAT_SLOTS = 32;

export const STEER_FDB_F_STRIP = 0x01;

export const STEER_ORIGIN_CONFIG = 1;
export const STEER_ORIGIN_VF = 2;
export const STEER_ORIGIN_MANUAL = 3;

export type SteerOrigin = 'config' | 'vf' | 'manual';
export const ORIGIN_CODES: Record<SteerOrigin, number> = {
  config: STEER_ORIGIN_CONFIG,
  vf: STEER_ORIGIN_VF,
  manual: STEER_ORIGIN_MANUAL,
};

/** Verdict counters, in enum steer_stat order (index = counter slot). */
export const STEER_STATS = [
  'redirect',
  'passNotEth',
  'passVlan',
  'passFdbMiss',
  'passEthertype',
  'passMalformed',
  'passFragment',
  'passEspLocal',
  'passPortMiss',
  'passAdjust',
  'portRedirect',
  'portPassUnknown',
  'portPassMcast',
  'portPassMalformed',
  'portPassUplink',
  'egressTx',
  'egressSpoof',
  'egressTagged',
  'egressUnknown',
  'egressMalformed',
  'egressAdjust',
] as const;
export type SteerStatName = (typeof STEER_STATS)[number];

export const fdbKey = struct('steer_fdb_key', 8, {
  mac: [0, mac],
  vlan: [6, u16],
});

export const fdbValue = struct('steer_fdb_val', 24, {
  ifindex: [0, u32],
  slot: [4, u16],
  flags: [6, u8],
  origin: [7, u8],
  packets: [8, u64],
  bytes: [16, u64],
});

export const portValue = struct('steer_port', 16, {
  mac: [0, mac],
  vlan: [6, u16],
  uplink: [8, u32],
  slot: [12, u32],
});

export const espKey = struct(
  'steer_esp_key',
  24,
  {
    vlan: [0, u16],
    family: [2, u8],
    pad: [3, u8],
    spi: [4, be32],
    daddr: [8, address16],
  },
  { family: 'family' },
);

export const counterValue = struct('steer_counter', 16, {
  packets: [0, u64],
  bytes: [8, u64],
});

export const portStatsValue = struct('steer_port_stats', 48, {
  rxPackets: [0, u64],
  rxBytes: [8, u64],
  txPackets: [16, u64],
  txBytes: [24, u64],
  spoofed: [32, u64],
  tagged: [40, u64],
});

/** <linux/bpf.h> struct bpf_devmap_val: prog fd on write, prog id on read (0 = none). */
export const devmapValue = struct('bpf_devmap_val', 8, {
  ifindex: [0, u32],
  bpfProg: [4, u32],
});

/** __u32 keys (ifindex, array index). */
export const u32Key = struct('u32', 4, { value: [0, u32] });

// enum bpf_map_type values from <linux/bpf.h>
export const BPF_MAP_TYPE_HASH = 1;
export const BPF_MAP_TYPE_PERCPU_HASH = 5;
export const BPF_MAP_TYPE_PERCPU_ARRAY = 6;
export const BPF_MAP_TYPE_DEVMAP_HASH = 25;

export interface SteerMapSpec {
  /** the map's name in steer.bpf.c, which is also its pin name */
  name: string;
  type: number;
  keySize: number;
  /** per element, before per-CPU replication */
  valueSize: number;
  maxEntries: number;
  perCpu: boolean;
}

const spec = (name: string, type: number, key: { size: number }, value: { size: number }, maxEntries: number): SteerMapSpec => ({
  name,
  type,
  keySize: key.size,
  valueSize: value.size,
  maxEntries,
  perCpu: type === BPF_MAP_TYPE_PERCPU_HASH || type === BPF_MAP_TYPE_PERCPU_ARRAY,
});

/** Every map of steer.o: what the loader expects to find (or pin). */
export const STEER_MAPS = {
  fdb: spec('steer_fdb', BPF_MAP_TYPE_PERCPU_HASH, fdbKey, fdbValue, STEER_FDB_MAX),
  ports: spec('steer_ports', BPF_MAP_TYPE_DEVMAP_HASH, u32Key, devmapValue, STEER_PORT_MAX),
  portInfo: spec('steer_port_info', BPF_MAP_TYPE_HASH, u32Key, portValue, STEER_PORT_MAX),
  esp: spec('steer_esp', BPF_MAP_TYPE_PERCPU_HASH, espKey, counterValue, STEER_ESP_MAX),
  stats: spec('steer_stats', BPF_MAP_TYPE_PERCPU_ARRAY, u32Key, counterValue, STEER_STAT_SLOTS),
  portStats: spec('steer_port_stat', BPF_MAP_TYPE_PERCPU_ARRAY, u32Key, portStatsValue, STEER_PORT_MAX),
} as const satisfies Record<string, SteerMapSpec>;
export type SteerMapName = keyof typeof STEER_MAPS;

/** The programs of steer.o. */
export const STEER_PROGRAMS = {
  ingress: 'steer_ingress',
  portRx: 'steer_port_rx',
  egress: 'steer_egress',
} as const;
export type SteerProgramName = keyof typeof STEER_PROGRAMS;

/** Per-CPU map values: one value per possible CPU, each padded to 8 bytes. */
export function perCpuStride(size: number): number {
  return (size + 7) & ~7;
}
