// Inputs for the VF tests: SAs from the iproute2 captures of the XFRM tests
// (real NEWSA payloads, test keys), and small CHILD_SA builders.
import { decodeXfrm } from '../../../src/xfrm/messages.js';
import { stateFromWire, makeState, type XfrmState } from '../../../src/xfrm/state.js';
import { SecretBytes } from '../../../src/netlink/codec/secret.js';
import type { ChildSpec } from '../../../src/vf/protocol/codec.js';
import type { TrafficSelector } from '../../../src/vf/protocol/attributes.js';
import { loadCapture, sentMessage } from '../xfrm/fixtures.js';

/** The NEWSA payload iproute2 6.1 sent for a capture (see the capture's `captured`). */
export function capturedNewsaPayload(name: string): Buffer {
  return Buffer.from(sentMessage(loadCapture(name)).payload);
}

export function capturedState(name: string): XfrmState {
  const d = decodeXfrm('NEWSA', sentMessage(loadCapture(name)));
  return stateFromWire(d.header, d.attrs, d.unknown.map((u) => u.type));
}

/** Test key material (never a real key). */
export const KEY_HEX = '3132333435363738393031323334353664636261';

export function gcmSa(o: { saddr: string; daddr: string; spi: number; reqid?: number; esn?: boolean; key?: string }): XfrmState {
  return makeState({
    saddr: o.saddr,
    daddr: o.daddr,
    spi: o.spi,
    proto: 'esp',
    mode: 'tunnel',
    reqid: o.reqid ?? 1,
    aead: { name: 'rfc4106(gcm(aes))', key: SecretBytes.copyOf(Buffer.from(o.key ?? KEY_HEX, 'hex')), icvBits: 128 },
    ...(o.esn
      ? { flags: ['esn' as const], esn: { oseq: 0, seq: 0, oseqHi: 0, seqHi: 0, replayWindow: 128, bmpLen: 4, bitmap: [0, 0, 0, 0] } }
      : { replayWindow: 32, replay: { oseq: 0, seq: 0, bitmap: 0 } }),
  });
}

export function ts(cidr: string, o: { proto?: number; from?: number; to?: number } = {}): TrafficSelector {
  const [address = '', len] = cidr.split('/');
  const v6 = address.includes(':');
  return { family: v6 ? 10 : 2, proto: o.proto ?? 0, prefixlen: Number(len ?? (v6 ? 128 : 32)), fromPort: o.from ?? 0, toPort: o.to ?? 65535, address };
}

export interface ChildOpts {
  uniqueid?: number;
  local?: string;
  remote?: string;
  spiIn?: number;
  spiOut?: number;
  localTs?: TrafficSelector[];
  remoteTs?: TrafficSelector[];
  mode?: number;
  reqid?: number;
  esn?: boolean;
}

/** A tunnel-mode CHILD_SA of a tenant at `local` with a peer at `remote`. */
export function child(o: ChildOpts = {}): ChildSpec {
  const local = o.local ?? '192.168.10.2';
  const remote = o.remote ?? '192.168.20.2';
  const reqid = o.reqid ?? 1;
  return {
    uniqueid: o.uniqueid ?? 1,
    name: 'net',
    ike: 'tenant',
    reqid,
    mode: o.mode ?? 1,
    saIn: gcmSa({ saddr: remote, daddr: local, spi: o.spiIn ?? 0xc0000001, reqid, ...(o.esn ? { esn: true } : {}) }),
    saOut: gcmSa({ saddr: local, daddr: remote, spi: o.spiOut ?? 0xc1000001, reqid, ...(o.esn ? { esn: true } : {}) }),
    localTs: o.localTs ?? [ts('10.10.0.0/24')],
    remoteTs: o.remoteTs ?? [ts('10.20.0.0/24')],
  };
}
