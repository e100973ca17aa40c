// Traffic selectors as charon prints them in VICI (`10.2.0.0/24`,
// `10.2.0.0/24[tcp/80]`, `fd00::/64`, a range `10.2.0.1..10.2.0.9`, or
// `dynamic` resolved to a host) turned into route destinations.
import ipaddr from 'ipaddr.js';

export interface Prefix {
  family: 4 | 6;
  /** network address, canonical text */
  network: string;
  length: number;
  /** "10.2.0.0/24", canonical */
  cidr: string;
}

export type SelectorParse = { ok: true; prefix: Prefix } | { ok: false; reason: 'range' | 'unparsable' };

/** The subnet of a selector; the protocol/port part (`[tcp/80]`) does not matter to a route. */
export function selectorPrefix(ts: string): SelectorParse {
  const text = ts.replace(/\[.*\]$/, '').trim();
  if (text.includes('..')) return { ok: false, reason: 'range' };
  const [addr = '', len] = text.split('/');
  if (!ipaddr.isValid(addr)) return { ok: false, reason: 'unparsable' };
  const ip = ipaddr.parse(addr);
  const family = ip.kind() === 'ipv4' ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  const length = len === undefined ? max : /^\d+$/.test(len) ? Number(len) : NaN;
  if (!Number.isInteger(length) || length < 0 || length > max) return { ok: false, reason: 'unparsable' };
  const network = networkOf(ip, length);
  return { ok: true, prefix: { family, network, length, cidr: `${network}/${length}` } };
}

function networkOf(ip: ipaddr.IPv4 | ipaddr.IPv6, length: number): string {
  const bytes = ip.toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, length - i * 8));
    bytes[i] = (bytes[i] ?? 0) & ((0xff << (8 - keep)) & 0xff);
  }
  return ipaddr.fromByteArray(bytes).toString();
}

/** Whether `address` lies in `p`. */
export function prefixContains(p: Prefix, address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  const ip = ipaddr.parse(address);
  if ((ip.kind() === 'ipv4' ? 4 : 6) !== p.family) return false;
  return networkOf(ip, p.length) === p.network;
}

/** Canonical text of an address (for comparisons with what the kernel reports). */
export function canonicalAddress(address: string): string {
  return ipaddr.isValid(address) ? ipaddr.parse(address).toString() : address;
}
