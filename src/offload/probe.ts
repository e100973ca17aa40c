// A throwaway SA that asks a device what it can offload. It uses TEST-NET-1
// addresses and an SPI from the top of the space, has no policy (no traffic
// can ever use it) and lives only for the probe.
import { randomBytes, randomInt } from 'node:crypto';
import { SecretBytes } from '../netlink/codec/secret.js';
import { makeState, type XfrmState } from '../xfrm/state.js';

export const PROBE_SRC = '192.0.2.1';
export const PROBE_DST = '192.0.2.2';

/** An ESN AES-GCM outbound SA with crypto offload to `ifindex`. */
export function probeState(ifindex: number): XfrmState {
  return makeState({
    family: 'ipv4',
    saddr: PROBE_SRC,
    daddr: PROBE_DST,
    spi: 0xfffff000 + randomInt(0x1000),
    proto: 'esp',
    mode: 'transport',
    reqid: 0,
    flags: ['esn'],
    esn: { oseq: 0, seq: 0, oseqHi: 0, seqHi: 0, replayWindow: 32, bmpLen: 1, bitmap: [0] },
    aead: { name: 'rfc4106(gcm(aes))', key: new SecretBytes(randomBytes(20)), keyBits: 160, icvBits: 128 },
    offload: { ifindex, dir: 'out', packet: false },
  });
}
