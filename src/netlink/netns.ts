// Where a socket lives: the daemon's own network namespace, or another one
// named the ways `ip netns` users name them.
import { NetlinkSocketError } from './errors.js';

export type NetnsSpec =
  | { name: string } // /run/netns/<name>, as created by `ip netns add`
  | { path: string } // any nsfs path, e.g. /proc/1234/ns/net
  | { pid: number } // the namespace of a process
  | { fd: number }; // an open namespace fd the caller owns

export function describeNetns(ns: NetnsSpec | undefined): string {
  if (!ns) return 'own netns';
  if ('name' in ns) return `netns ${ns.name}`;
  if ('path' in ns) return `netns ${ns.path}`;
  if ('pid' in ns) return `netns of pid ${ns.pid}`;
  return `netns fd ${ns.fd}`;
}

/** Resolves a spec to what the addon takes: a path to open, or an fd. */
export function netnsTarget(ns: NetnsSpec): { netnsPath: string } | { netnsFd: number } {
  if ('name' in ns) {
    if (!/^[A-Za-z0-9_.-]+$/.test(ns.name) || ns.name === '.' || ns.name === '..') {
      throw new NetlinkSocketError(`invalid netns name ${JSON.stringify(ns.name)}`);
    }
    return { netnsPath: `/run/netns/${ns.name}` };
  }
  if ('path' in ns) return { netnsPath: ns.path };
  if ('pid' in ns) {
    if (!Number.isInteger(ns.pid) || ns.pid <= 0) throw new NetlinkSocketError(`invalid pid ${ns.pid}`);
    return { netnsPath: `/proc/${ns.pid}/ns/net` };
  }
  return { netnsFd: ns.fd };
}
