// Traffic selectors as charon prints them in VICI (traffic_selector.c's
// printf hook) back to what they are: "10.1.0.0/24", "10.1.0.5/32[tcp/80]",
// "fd00::/64[udp/1024-2047]", "10.1.0.0/24[tcp/http]" (charon names ports and
// protocols it finds in /etc/services and /etc/protocols), "[ipv6-icmp]".
// Address ranges that are not one subnet ("a..b") cannot be a kernel
// selector. Pure, given the two name tables.
import ipaddr from 'ipaddr.js';
import type { TrafficSelector } from '../protocol/attributes.js';

export interface NameTables {
  /** protocol name -> number (/etc/protocols) */
  protocols: ReadonlyMap<string, number>;
  /** "name/proto" -> port (/etc/services) */
  services: ReadonlyMap<string, number>;
}

export type TsParse = { ok: true; ts: TrafficSelector } | { ok: false; reason: string };

/** The common names (the tenant's /etc files add the rest). */
export const BUILTIN_PROTOCOLS: ReadonlyMap<string, number> = new Map([
  ['icmp', 1],
  ['tcp', 6],
  ['udp', 17],
  ['gre', 47],
  ['esp', 50],
  ['ah', 51],
  ['ipv6-icmp', 58],
  ['sctp', 132],
]);

export function parseTs(text: string, names: NameTables = { protocols: BUILTIN_PROTOCOLS, services: new Map() }): TsParse {
  const m = /^([^[\]]+)(?:\[([^\]]*)\])?$/.exec(text.trim());
  if (!m) return { ok: false, reason: `${JSON.stringify(text)} is not a traffic selector` };
  const net = m[1] as string;
  if (net.includes('..')) return { ok: false, reason: `${text}: an address range is not a subnet` };
  const [addr = '', len] = net.split('/');
  if (!ipaddr.isValid(addr)) return { ok: false, reason: `${text}: ${JSON.stringify(addr)} is not an address` };
  const ip = ipaddr.parse(addr);
  const v4 = ip.kind() === 'ipv4';
  const max = v4 ? 32 : 128;
  const prefixlen = len === undefined ? max : /^\d+$/.test(len) ? Number(len) : NaN;
  if (!Number.isInteger(prefixlen) || prefixlen > max) return { ok: false, reason: `${text}: bad prefix length` };
  let proto = 0;
  let fromPort = 0;
  let toPort = 0xffff;
  if (m[2] !== undefined) {
    const [p = '', port] = m[2].split('/');
    const pn = /^\d+$/.test(p) ? Number(p) : names.protocols.get(p) ?? BUILTIN_PROTOCOLS.get(p);
    if (pn === undefined || pn > 255) return { ok: false, reason: `${text}: unknown protocol ${JSON.stringify(p)}` };
    proto = pn;
    if (port !== undefined && port !== '') {
      const r = /^(\d+)-(\d+)$/.exec(port);
      if (r) {
        fromPort = Number(r[1]);
        toPort = Number(r[2]);
      } else if (/^\d+$/.test(port)) fromPort = toPort = Number(port);
      else {
        const named = names.services.get(`${port}/${p}`);
        if (named === undefined) return { ok: false, reason: `${text}: unknown service ${JSON.stringify(port)}` };
        fromPort = toPort = named;
      }
      if (fromPort > toPort || toPort > 0xffff) return { ok: false, reason: `${text}: bad port range` };
    }
  }
  return { ok: true, ts: { family: v4 ? 2 : 10, proto, prefixlen, fromPort, toPort, address: ip.toString() } };
}

/** /etc/protocols and /etc/services as name tables (missing files: empty). */
export function parseNameFiles(protocols: string, services: string): NameTables {
  const protos = new Map<string, number>();
  for (const line of protocols.split('\n')) {
    const f = line.replace(/#.*/, '').trim().split(/\s+/);
    if (f.length >= 2 && /^\d+$/.test(f[1] as string)) for (const n of [f[0], ...f.slice(2)]) if (n) protos.set(n, Number(f[1]));
  }
  const servs = new Map<string, number>();
  for (const line of services.split('\n')) {
    const f = line.replace(/#.*/, '').trim().split(/\s+/);
    const pp = /^(\d+)\/(\w+)$/.exec(f[1] ?? '');
    if (!pp) continue;
    for (const n of [f[0], ...f.slice(2)]) if (n) servs.set(`${n}/${pp[2]}`, Number(pp[1]));
  }
  return { protocols: protos, services: servs };
}
