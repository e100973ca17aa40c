// Address prefixes as the PF checks a VF's allowance: "10.10.0.0/24" or a
// bare address, containment of an address and of a traffic selector. Pure.
import ipaddr from 'ipaddr.js';

export interface Prefix {
  family: 4 | 6;
  /** network bytes (masked) */
  bytes: number[];
  length: number;
  /** canonical "10.10.0.0/24" */
  text: string;
}

function masked(bytes: number[], length: number): number[] {
  return bytes.map((b, i) => b & ((0xff << (8 - Math.max(0, Math.min(8, length - i * 8)))) & 0xff));
}

/** undefined: not an address or prefix. */
export function parsePrefix(text: string): Prefix | undefined {
  try {
    const [addr, len] = text.includes('/') ? ipaddr.parseCIDR(text) : [ipaddr.parse(text), undefined];
    const family = addr.kind() === 'ipv4' ? 4 : 6;
    const max = family === 4 ? 32 : 128;
    const length = len ?? max;
    if (length < 0 || length > max) return undefined;
    const bytes = masked(addr.toByteArray(), length);
    return { family, bytes, length, text: `${ipaddr.fromByteArray(bytes).toString()}/${length}` };
  } catch {
    return undefined;
  }
}

/** Whether `address` lies in `p`. */
export function containsAddress(p: Prefix, address: string): boolean {
  const q = parsePrefix(address);
  return q !== undefined && q.family === p.family && equalBytes(masked(q.bytes, p.length), p.bytes);
}

/** Whether all of `inner` lies in `outer`. */
export function coversPrefix(outer: Prefix, inner: Prefix): boolean {
  return inner.family === outer.family && inner.length >= outer.length && equalBytes(masked(inner.bytes, outer.length), outer.bytes);
}

function equalBytes(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Canonical text of an address (undefined if it is not one). */
export function canonical(address: string): string | undefined {
  return ipaddr.isValid(address) ? ipaddr.parse(address).toString() : undefined;
}
