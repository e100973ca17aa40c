// The SAs bench/sa-install.ts installs, defined once for all three methods:
// as XfrmStates (our API), as `ip -batch` lines, and as the spec lines the C
// loop reads. SA i: ESP transport, rfc4106(gcm(aes)) with a 128-bit ICV, its
// own 20-byte key (AES-128 + salt, derived from i: these SAs protect nothing),
// SPI 0x10000 + i, no lifetime limits, software (no offload).
//
// Layouts:
//   peers    — 10.0.0.1 to its own peer in 10.128.0.0/9, reqid i + 1: a
//              gateway with one SA per peer, the shape of a charon SAD. The
//              peer address is a scrambled function of i (a bijection):
//              with peer = base + i and reqid = i + 1 the kernel's bydst hash
//              (family ^ reqid ^ (saddr + daddr)) cancels the two counters out
//              and puts nearly every SA in a handful of chains.
//   one-peer — every SA between 10.0.0.1 and 10.0.0.2 with reqid 1. Each
//              insert then walks all earlier SAs in one state_bydst chain
//              (xfrm_state_add: __find_acq_core and __xfrm_state_bump_genids
//              hash daddr/saddr/reqid), so the kernel's cost grows with n.
import { createHash } from 'node:crypto';
import { SecretBytes } from '../src/netlink/codec/secret.js';
import { makeState, type XfrmState } from '../src/xfrm/state.js';

export type SaLayout = 'peers' | 'one-peer';
export const SA_LAYOUTS: readonly SaLayout[] = ['peers', 'one-peer'];

export const AEAD_NAME = 'rfc4106(gcm(aes))';
export const ICV_BITS = 128;
const SPI_BASE = 0x10000;
const PEER_BASE = (10 << 24) | (128 << 16);
/** Odd multiplier (2^32 / golden ratio): i -> i * M mod 2^23 is a bijection on the /9. */
const PEER_SCRAMBLE = 0x9e3779b1;
const peer = (i: number): number => PEER_BASE + Number((BigInt(i + 1) * BigInt(PEER_SCRAMBLE)) & 0x7fffffn);

export interface SaSpec {
  src: string;
  dst: string;
  spi: number;
  reqid: number;
  key: Buffer;
}

const ipv4 = (n: number): string => [24, 16, 8, 0].map((s) => (n >>> s) & 255).join('.');

export function saSpecs(count: number, layout: SaLayout): SaSpec[] {
  if (!Number.isInteger(count) || count < 1 || count >= 1 << 23) throw new RangeError(`SA count ${count}: 1..${(1 << 23) - 1}`);
  return Array.from({ length: count }, (_, i) => ({
    src: '10.0.0.1',
    dst: layout === 'peers' ? ipv4(peer(i)) : '10.0.0.2',
    spi: SPI_BASE + i,
    reqid: layout === 'peers' ? i + 1 : 1,
    key: createHash('sha256').update(`sa-install bench key ${i}`).digest().subarray(0, 20),
  }));
}

export function toState(s: SaSpec): XfrmState {
  return makeState({
    saddr: s.src,
    daddr: s.dst,
    spi: s.spi,
    proto: 'esp',
    mode: 'transport',
    reqid: s.reqid,
    aead: { name: AEAD_NAME, key: SecretBytes.copyOf(s.key), icvBits: ICV_BITS },
  });
}

/** One `ip -batch` line (iproute2 6.1 syntax). */
export function ipBatchLine(s: SaSpec): string {
  return `xfrm state add src ${s.src} dst ${s.dst} proto esp spi ${s.spi} reqid ${s.reqid} mode transport aead "${AEAD_NAME}" 0x${s.key.toString('hex')} ${ICV_BITS}`;
}

/** One line of the C loop's input (bench/c/sa-install-loop.c). */
export function specLine(s: SaSpec): string {
  return `${s.src} ${s.dst} ${s.spi} ${s.reqid} ${s.key.toString('hex')}`;
}
