// Map entries as the control plane reasons about them (records with names
// and addresses), and their encoding to and from the map bytes of layout.ts.
import { NetlinkDecodeError } from '../netlink/errors.js';
import { AF_INET, AF_INET6, familyOf, normalizeAddress } from '../netlink/codec/address.js';
import { parseMac } from '../netlink/codec/struct.js';
import {
  ORIGIN_CODES,
  STEER_FDB_F_STRIP,
  counterValue,
  espKey,
  fdbKey,
  fdbValue,
  portStatsValue,
  portValue,
  type SteerOrigin,
} from './layout.js';

export interface FdbKey {
  /** lower-case "aa:bb:cc:dd:ee:ff" */
  mac: string;
  /** VLAN id, 0 = untagged */
  vlan: number;
}

export interface FdbRecord extends FdbKey {
  /** the port frames are redirected to */
  ifindex: number;
  /** the port's counter slot */
  slot: number;
  /** pop the 802.1Q tag on the way (the port is an access port) */
  strip: boolean;
  origin: SteerOrigin | 'unknown';
}

export interface PortRecord {
  ifindex: number;
  /** the only source MAC the port may send; undefined = unchecked */
  mac: string | undefined;
  /** access VLAN (pushed toward the uplink, popped toward the port); 0 = trunk */
  vlan: number;
  uplink: number;
  slot: number;
}

export interface EspKey {
  vlan: number;
  /** canonical text (IPv4 dotted, IPv6 compressed) */
  daddr: string;
  /** host-order number, 1..0xffffffff */
  spi: number;
}

export interface Counter {
  packets: number;
  bytes: number;
}

export const ZERO_MAC = '00:00:00:00:00:00';

/** Canonical MAC text; throws NetlinkEncodeError on malformed input. */
export function normalizeMac(mac: string): string {
  return Array.from(parseMac(mac), (b) => b.toString(16).padStart(2, '0')).join(':');
}

export const fdbId = (k: FdbKey): string => `${k.mac}/${k.vlan}`;
export const espId = (k: EspKey): string => `${k.vlan}/${k.daddr}/${k.spi}`;

const originOf = (code: number): SteerOrigin | 'unknown' =>
  (Object.entries(ORIGIN_CODES).find(([, v]) => v === code)?.[0] as SteerOrigin | undefined) ?? 'unknown';

export function encodeFdbKey(k: FdbKey): Buffer {
  return fdbKey.encode({ mac: k.mac, vlan: k.vlan });
}

export function decodeFdbKey(b: Buffer): FdbKey {
  const v = fdbKey.decode(b);
  return { mac: v.mac, vlan: v.vlan };
}

/** One CPU's copy of an fdb value; counters start at zero. */
export function encodeFdbValue(r: FdbRecord): Buffer {
  const origin = r.origin === 'unknown' ? 0 : ORIGIN_CODES[r.origin];
  return fdbValue.encode({ ifindex: r.ifindex, slot: r.slot, flags: r.strip ? STEER_FDB_F_STRIP : 0, origin, packets: 0n, bytes: 0n });
}

/** An fdb entry from its key and every CPU's copy of the value (counters summed). */
export function decodeFdbEntry(key: Buffer, perCpu: readonly Buffer[]): FdbRecord & Counter {
  const k = decodeFdbKey(key);
  let packets = 0n;
  let bytes = 0n;
  const first = perCpu[0];
  if (!first) throw new NetlinkDecodeError('steer_fdb_val', 0, 'no per-CPU copy');
  const v = fdbValue.decode(first);
  for (const b of perCpu) {
    const c = fdbValue.decode(b);
    packets += c.packets;
    bytes += c.bytes;
  }
  return {
    ...k,
    ifindex: v.ifindex,
    slot: v.slot,
    strip: (v.flags & STEER_FDB_F_STRIP) !== 0,
    origin: originOf(v.origin),
    packets: Number(packets),
    bytes: Number(bytes),
  };
}

export function encodePort(p: PortRecord): Buffer {
  return portValue.encode({ mac: p.mac ?? ZERO_MAC, vlan: p.vlan, uplink: p.uplink, slot: p.slot });
}

export function decodePort(ifindex: number, b: Buffer): PortRecord {
  const v = portValue.decode(b);
  return { ifindex, mac: v.mac === ZERO_MAC ? undefined : v.mac, vlan: v.vlan, uplink: v.uplink, slot: v.slot };
}

export function encodeEspKey(k: EspKey): Buffer {
  const family = familyOf(k.daddr);
  return espKey.encode({ vlan: k.vlan, family, pad: 0, spi: k.spi, daddr: k.daddr });
}

export function decodeEspKey(b: Buffer): EspKey {
  const v = espKey.decode(b);
  if (v.family !== AF_INET && v.family !== AF_INET6) throw new NetlinkDecodeError('steer_esp_key', 2, `address family ${v.family}`);
  return { vlan: v.vlan, daddr: v.daddr, spi: v.spi };
}

/** Canonical form of an ESP exception (address text normalised). */
export function normalizeEsp(k: EspKey): EspKey {
  return { vlan: k.vlan, daddr: normalizeAddress(k.daddr), spi: k.spi };
}

export function sumCounters(perCpu: readonly Buffer[]): Counter {
  let packets = 0n;
  let bytes = 0n;
  for (const b of perCpu) {
    const c = counterValue.decode(b);
    packets += c.packets;
    bytes += c.bytes;
  }
  return { packets: Number(packets), bytes: Number(bytes) };
}

export interface PortCounters {
  rxPackets: number;
  rxBytes: number;
  txPackets: number;
  txBytes: number;
  spoofed: number;
  tagged: number;
}

export function sumPortStats(perCpu: readonly Buffer[]): PortCounters {
  const t = { rxPackets: 0n, rxBytes: 0n, txPackets: 0n, txBytes: 0n, spoofed: 0n, tagged: 0n };
  for (const b of perCpu) {
    const v = portStatsValue.decode(b);
    for (const k of Object.keys(t) as (keyof typeof t)[]) t[k] += v[k];
  }
  return {
    rxPackets: Number(t.rxPackets),
    rxBytes: Number(t.rxBytes),
    txPackets: Number(t.txPackets),
    txBytes: Number(t.txBytes),
    spoofed: Number(t.spoofed),
    tagged: Number(t.tagged),
  };
}
