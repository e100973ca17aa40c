// Adapter: a decoded XFRM state -> the little the offload model keeps about it.
import { saKey, type SaId } from './types.js';
import type { KernelSaInfo } from './model.js';
import { XFRM_MODE, XFRM_PROTO } from '../xfrm/constants.js';
import type { XfrmState } from '../xfrm/state.js';

export function saIdOf(s: Pick<XfrmState, 'daddr' | 'spi' | 'proto' | 'family' | 'mark' | 'ifId'>): SaId {
  return {
    daddr: s.daddr,
    spi: s.spi,
    proto: XFRM_PROTO.toNumber(s.proto),
    family: s.family === 'ipv6' ? 10 : 2,
    ...(s.mark && (s.mark.value || s.mark.mask) ? { mark: { ...s.mark } } : {}),
    ...(s.ifId ? { ifId: s.ifId } : {}),
  };
}

export function keyOfState(s: Pick<XfrmState, 'daddr' | 'spi' | 'proto' | 'family' | 'mark' | 'ifId'>): string {
  return saKey(saIdOf(s));
}

/**
 * A larval state: what the kernel creates on ACQUIRE when an outbound packet
 * finds a policy but no SA. It has no algorithms (no keys). charon's policy
 * templates carry the SA's SPI, so while an outbound SA is missing (a swap
 * gap, a device loss) its larval stand-in has the very same (daddr, SPI):
 * GETSA finds it and NEWSA collides with it (EEXIST). It is not the SA.
 */
export function isLarval(s: XfrmState): boolean {
  return !s.aead && !s.auth && !s.crypt && !s.comp;
}

export function kernelSaInfo(s: XfrmState): KernelSaInfo {
  const esn = s.flags.includes('esn');
  return {
    id: saIdOf(s),
    saddr: s.saddr,
    reqid: s.reqid,
    shape: {
      esn,
      encap: s.encap !== undefined,
      ...(s.aead ? { aead: { name: s.aead.name, icvBits: s.aead.icvBits, keyBits: s.aead.keyBits ?? s.aead.key.length * 8 } } : {}),
      tfcpad: (s.tfcpad ?? 0) > 0,
      mode: typeof s.mode === 'number' ? (XFRM_MODE.names[s.mode] ?? String(s.mode)) : s.mode,
    },
    ...(s.offload ? { offloadIfindex: s.offload.ifindex } : {}),
    bytes: s.current?.bytes ?? 0n,
    packets: s.current?.packets ?? 0n,
    ...(s.esn
      ? { seq: { oseq: s.esn.oseq, oseqHi: s.esn.oseqHi, seq: s.esn.seq, seqHi: s.esn.seqHi } }
      : s.replay
        ? { seq: { oseq: s.replay.oseq, oseqHi: 0, seq: s.replay.seq, seqHi: 0 } }
        : {}),
  };
}
