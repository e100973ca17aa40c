// Where charon's VICI socket lives. The compiled-in default is
// unix://${piddir}/charon.vici with piddir /var/run; some distributions and
// container images use /run/strongswan/charon.vici instead.
import { existsSync } from 'node:fs';

export const DEFAULT_SOCKET_PATHS: readonly string[] = ['/var/run/charon.vici', '/run/strongswan/charon.vici'];

/**
 * Accepts a plain path or a strongswan.conf style URI (`unix:///path`), so a
 * value copied from `charon.plugins.vici.socket` works as is.
 */
export function normalizeSocketPath(spec: string): string {
  if (spec.startsWith('unix://')) return spec.slice('unix://'.length);
  if (/^[a-z]+:\/\//.test(spec)) throw new Error(`unsupported VICI socket URI ${spec}: only unix:// sockets are supported`);
  return spec;
}

/** The first candidate that exists, else the first candidate (errors then name it). */
export function discoverSocketPath(candidates: readonly string[] = DEFAULT_SOCKET_PATHS): string {
  for (const c of candidates) if (existsSync(c)) return c;
  const first = candidates[0];
  if (first === undefined) throw new Error('no VICI socket path candidates given');
  return first;
}
