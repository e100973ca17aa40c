// Who a connection is: decided from what the PF reads about the peer (unix:
// its network namespace and uid; TLS: its verified certificate), never from
// anything it sends. Table-driven.
import { describe, expect, it } from 'vitest';
import { identify, type IdentityRule, type PeerFacts } from '../../../src/vf/pf/identity.js';

const NS_A = { dev: 4, ino: 4026532001 };
const NS_B = { dev: 4, ino: 4026532002 };
const FP_A = 'A'.repeat(64);
const FP_B = 'B'.repeat(64);

const rules: IdentityRule[] = [
  { vf: 't0', unix: { netns: NS_A } },
  { vf: 't1', unix: { netns: NS_B, uid: 1000 } },
  { vf: 't2', tls: { fingerprint: FP_A } },
  { vf: 't3', tls: { cn: 'tenant3' } },
  { vf: 't4', tls: { fingerprint: FP_B, cn: 'tenant4' } },
  // configured, but its namespace does not exist now: nobody is t5
  { vf: 't5', unix: { netns: undefined } },
];

const unix = (netns: typeof NS_A | undefined, uid = 0): PeerFacts => ({ transport: 'unix', pid: 42, uid, gid: 0, netns });
const tls = (fingerprint: string, cn?: string, authorized = true, authError?: string): PeerFacts => ({ transport: 'tls', fingerprint, cn, authorized, ...(authError ? { authError } : {}), address: '192.0.2.1:40000' });

const rows: [string, PeerFacts, string | RegExp][] = [
  ['unix peer in netns A', unix(NS_A), 't0'],
  ['unix peer in netns A, any uid', unix(NS_A, 1234), 't0'],
  ['unix peer in netns B with the configured uid', unix(NS_B, 1000), 't1'],
  ['unix peer in netns B with another uid', unix(NS_B, 0), /no configured VF/],
  ['unix peer in an unknown netns', unix({ dev: 4, ino: 1 }), /no configured VF/],
  ['unix peer whose netns could not be read', unix(undefined), /could not be read/],
  ['certificate pinned by fingerprint', tls(FP_A, 'whatever'), 't2'],
  ['certificate by CN', tls('C'.repeat(64), 'tenant3'), 't3'],
  ['fingerprint and CN both required: both right', tls(FP_B, 'tenant4'), 't4'],
  ['fingerprint and CN both required: CN wrong', tls(FP_B, 'tenant9'), /no configured VF/],
  ['a certificate not signed by the CA', tls(FP_A, undefined, false), /not signed/],
  [
    'a certificate from another CA, pinned fingerprint and all: refused with OpenSSL\'s reason',
    tls(FP_A, 'tenant3', false, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE'),
    /^client certificate not signed by pf\.tls\.ca \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/,
  ],
  ['no client certificate at all', tls('', undefined, false), /^no client certificate$/],
  ['a TLS peer never matches a unix rule and the reverse', tls('D'.repeat(64), 'nobody'), /no configured VF/],
];

describe('identify', () => {
  it.each(rows)('%s', (_name, peer, want) => {
    const r = identify(peer, rules);
    if (typeof want === 'string') expect(r).toEqual({ ok: true, vf: want });
    else {
      expect(r.ok).toBe(false);
      expect(r.ok ? '' : r.reason).toMatch(want);
    }
  });

  it('a peer two rules match is refused (never the first of them)', () => {
    const r = identify(unix(NS_A), [...rules, { vf: 'dup', unix: { netns: NS_A } }]);
    expect(r).toEqual({ ok: false, reason: 'matches more than one VF (t0, dup): refused' });
  });
});
