// Who is on the other end of a mailbox connection, decided by the PF alone:
// a unix-socket peer by its network namespace (and uid), read from the
// kernel (SO_PEERCRED, /proc/PID/ns/net); a TLS peer by its verified client
// certificate. Nothing the VF sends is ever part of it. Pure: the edge
// (peer.ts) gathers the facts, this decides.

/** A network namespace file's identity (stat st_dev, st_ino), as /proc/PID/ns/net and /run/netns/NAME show it. */
export interface NsId {
  dev: number;
  ino: number;
}

export type PeerFacts =
  | {
      transport: 'unix';
      pid: number;
      uid: number;
      gid: number;
      /** undefined: the peer's namespace could not be read (it exited) */
      netns: NsId | undefined;
    }
  | {
      transport: 'tls';
      /** SHA-256 of the DER certificate, 64 uppercase hex digits */
      fingerprint: string;
      cn: string | undefined;
      /** TLS verified the chain to pf.tls.ca */
      authorized: boolean;
      /** why it did not (OpenSSL's verify error), when it did not */
      authError?: string;
      /** the client's address:port, for the log */
      address: string;
    };

export interface IdentityRule {
  vf: string;
  /** netns undefined: the configured namespace does not exist now, so nobody matches */
  unix?: { netns: NsId | undefined; uid?: number };
  tls?: { fingerprint?: string; cn?: string };
}

export type Identified = { ok: true; vf: string } | { ok: false; reason: string };

/** The one VF this peer is, or why it is none. */
export function identify(peer: PeerFacts, rules: readonly IdentityRule[]): Identified {
  if (peer.transport === 'unix' && peer.netns === undefined) return { ok: false, reason: `peer pid ${peer.pid}: its network namespace could not be read` };
  if (peer.transport === 'tls' && !peer.authorized) {
    if (peer.fingerprint === '') return { ok: false, reason: 'no client certificate' };
    return { ok: false, reason: `client certificate not signed by pf.tls.ca${peer.authError ? ` (${peer.authError})` : ''}` };
  }
  const matches = rules.filter((r) => matches1(peer, r)).map((r) => r.vf);
  if (matches.length === 1) return { ok: true, vf: matches[0] as string };
  if (matches.length > 1) return { ok: false, reason: `matches more than one VF (${matches.join(', ')}): refused` };
  return { ok: false, reason: `${describePeer(peer)} is no configured VF` };
}

function matches1(peer: PeerFacts, r: IdentityRule): boolean {
  if (peer.transport === 'unix') {
    const u = r.unix;
    if (!u || !u.netns || !peer.netns) return false;
    if (u.netns.dev !== peer.netns.dev || u.netns.ino !== peer.netns.ino) return false;
    return u.uid === undefined || u.uid === peer.uid;
  }
  const t = r.tls;
  if (!t) return false;
  if (t.fingerprint !== undefined && t.fingerprint !== peer.fingerprint) return false;
  if (t.cn !== undefined && t.cn !== peer.cn) return false;
  return t.fingerprint !== undefined || t.cn !== undefined;
}

/** For logs and `vf list`: what the PF saw, never anything the peer said. */
export function describePeer(peer: PeerFacts): string {
  return peer.transport === 'unix'
    ? `unix pid ${peer.pid} uid ${peer.uid} netns ${peer.netns ? `${peer.netns.dev}:${peer.netns.ino}` : '?'}`
    : `tls cn ${peer.cn ?? '-'} sha256 ${peer.fingerprint.slice(0, 16)}…`;
}
