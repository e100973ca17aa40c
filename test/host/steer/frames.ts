// Frames for BPF_PROG_TEST_RUN tables and the benchmark: Ethernet, one or two
// tags, IPv4 (options, fragments) / IPv6 (extension headers), ESP, UDP and
// ESP-in-UDP (RFC 3948), ARP. Byte layouts per IEEE 802.3/802.1Q, RFC 791,
// RFC 8200, RFC 768, RFC 4303, RFC 3948, RFC 826; the host-test
// "real traffic" cases cross-check that the kernel accepts what these build.
import { addressToBytes } from '../../../src/netlink/codec/address.js';
import { parseMac } from '../../../src/netlink/codec/struct.js';

export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_8021Q = 0x8100;
export const ETH_P_8021AD = 0x88a8;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ESP = 50;

const be16 = (n: number): Buffer => {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
};
const be32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

function checksum(b: Buffer): number {
  let sum = 0;
  for (let i = 0; i + 1 < b.length; i += 2) sum += b.readUInt16BE(i);
  if (b.length % 2) sum += (b[b.length - 1] ?? 0) << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export interface L2 {
  dst: string;
  src: string;
  /** outer tags, outermost first: [tpid, vid] or a plain VID (802.1Q) */
  tags?: readonly (number | readonly [tpid: number, vid: number])[];
}

export function ethernet(l2: L2, ethertype: number, payload: Buffer): Buffer {
  const parts = [parseMac(l2.dst), parseMac(l2.src)];
  for (const t of l2.tags ?? []) {
    const [tpid, vid] = typeof t === 'number' ? [ETH_P_8021Q, t] : t;
    parts.push(be16(tpid), be16(vid));
  }
  parts.push(be16(ethertype), payload);
  return Buffer.concat(parts);
}

export interface Ipv4 {
  src: string;
  dst: string;
  proto: number;
  /** bytes of IPv4 options (multiple of 4) */
  options?: number;
  /** the flags+fragment-offset field (e.g. 0x2000 = MF, 0x0010 = offset 128) */
  frag?: number;
}

export function ipv4(h: Ipv4, payload: Buffer): Buffer {
  const opts = h.options ?? 0;
  const hdr = Buffer.alloc(20 + opts);
  hdr[0] = 0x40 | ((20 + opts) / 4);
  hdr.writeUInt16BE(hdr.length + payload.length, 2);
  hdr.writeUInt16BE(0x1234, 4);
  hdr.writeUInt16BE(h.frag ?? 0x4000, 6); // DF unless told
  hdr[8] = 64;
  hdr[9] = h.proto;
  addressToBytes(h.src).copy(hdr, 12);
  addressToBytes(h.dst).copy(hdr, 16);
  for (let i = 20; i < hdr.length; i++) hdr[i] = 1; // NOP options
  hdr.writeUInt16BE(checksum(hdr), 10);
  return Buffer.concat([hdr, payload]);
}

export interface Ipv6 {
  src: string;
  dst: string;
  nexthdr: number;
}

export function ipv6(h: Ipv6, payload: Buffer): Buffer {
  const hdr = Buffer.alloc(40);
  hdr.writeUInt32BE(0x60000000, 0);
  hdr.writeUInt16BE(payload.length, 4);
  hdr[6] = h.nexthdr;
  hdr[7] = 64;
  addressToBytes(h.src).copy(hdr, 8);
  addressToBytes(h.dst).copy(hdr, 24);
  return Buffer.concat([hdr, payload]);
}

/** IPv6 fragment header (RFC 8200 §4.5) in front of `payload`. */
export function ipv6Fragment(nexthdr: number, payload: Buffer): Buffer {
  return Buffer.concat([Buffer.from([nexthdr, 0]), be16(0x0001), be32(0xabcd), payload]);
}

export function udp(sport: number, dport: number, payload: Buffer): Buffer {
  // Checksum 0 (none) is valid for UDP over IPv4 and what RFC 3948 allows; XDP never checks it.
  return Buffer.concat([be16(sport), be16(dport), be16(8 + payload.length), be16(0), payload]);
}

/** ESP header + opaque payload (RFC 4303): SPI, sequence number, ciphertext. */
export function esp(spi: number, seq: number, ciphertext = 32): Buffer {
  return Buffer.concat([be32(spi), be32(seq), Buffer.alloc(ciphertext, 0xa5)]);
}

/** IKE on port 4500: the 4-byte non-ESP marker (zero) then the IKE header. */
export function ikeOverNatT(): Buffer {
  return Buffer.concat([be32(0), Buffer.alloc(28, 0x11)]);
}

export const NAT_KEEPALIVE = Buffer.from([0xff]);

export function tcp(sport: number, dport: number): Buffer {
  const b = Buffer.alloc(20);
  b.writeUInt16BE(sport, 0);
  b.writeUInt16BE(dport, 2);
  b[12] = 0x50;
  b[13] = 0x02; // SYN
  return b;
}

export function arpRequest(senderMac: string, senderIp: string, targetIp: string): Buffer {
  return Buffer.concat([
    be16(1),
    be16(ETH_P_IP),
    Buffer.from([6, 4]),
    be16(1),
    parseMac(senderMac),
    addressToBytes(senderIp),
    Buffer.alloc(6),
    addressToBytes(targetIp),
  ]);
}

/** The same frame with its outermost 802.1Q tag removed. */
export function untag(frame: Buffer): Buffer {
  return Buffer.concat([frame.subarray(0, 12), frame.subarray(16)]);
}

/** The same frame with an 802.1Q tag (PCP 0) inserted after the MACs. */
export function tag(frame: Buffer, vid: number): Buffer {
  return Buffer.concat([frame.subarray(0, 12), be16(ETH_P_8021Q), be16(vid), frame.subarray(12)]);
}
