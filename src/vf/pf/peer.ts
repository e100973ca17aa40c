// The edge of identity: what the kernel says about a connection's peer.
// unix: SO_PEERCRED (pid, uid, gid, recorded by the kernel at connect) and
// the network namespace of that pid (/proc/PID/ns/net); TLS: the client
// certificate node:tls verified against pf.tls.ca.
import { readFileSync, statSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { socketPeerCredentials } from '../../native/peer-credentials.js';
import type { NsId, PeerFacts } from './identity.js';

/** A namespace file's identity; undefined when it does not exist (or is unreadable). */
export function nsIdOf(path: string): NsId | undefined {
  try {
    const st = statSync(path);
    return { dev: st.dev, ino: st.ino };
  } catch {
    return undefined;
  }
}

/** /run/netns/NAME as `ip netns` makes them. */
export const netnsPath = (name: string): string => `/run/netns/${name}`;

function uidOf(pid: number): number | undefined {
  try {
    const m = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The facts of a unix-socket peer. The namespace is read through the pid the
 * kernel recorded at connect time; if that process is gone (or the pid now
 * belongs to a process of another uid) the namespace is unknown and the peer
 * is nobody. A pid reused by a process of the same uid in the window between
 * connect and this read cannot be told apart without SO_PEERPIDFD (Linux
 * 6.5+, not in the addon; see docs/vf.md).
 */
export function unixPeerFacts(socket: Socket): PeerFacts {
  const cred = socketPeerCredentials(socket);
  const before = uidOf(cred.pid);
  const netns = nsIdOf(`/proc/${cred.pid}/ns/net`);
  const after = uidOf(cred.pid);
  const same = before === cred.uid && after === cred.uid;
  return { transport: 'unix', pid: cred.pid, uid: cred.uid, gid: cred.gid, netns: same ? netns : undefined };
}

/** The facts of a TLS peer (after the handshake). */
export function tlsPeerFacts(socket: TLSSocket): PeerFacts {
  const cert = socket.getPeerCertificate();
  const fp = (cert && typeof cert.fingerprint256 === 'string' ? cert.fingerprint256 : '').replace(/:/g, '').toUpperCase();
  const cnRaw: unknown = cert?.subject?.CN;
  const cn = typeof cnRaw === 'string' ? cnRaw : Array.isArray(cnRaw) && typeof cnRaw[0] === 'string' ? cnRaw[0] : undefined;
  // Typed as an Error, but Node sets OpenSSL's verify code as a string (e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE).
  const why: unknown = socket.authorizationError;
  const authError = typeof why === 'string' ? why : why instanceof Error ? why.message : undefined;
  return {
    transport: 'tls',
    fingerprint: fp,
    cn,
    authorized: socket.authorized && fp.length === 64,
    ...(authError ? { authError } : {}),
    address: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
  };
}
