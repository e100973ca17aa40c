// Async events (GETAE/NEWAE): an SA's replay and lifetime counters, read and
// written without touching the rest of the SA.
import type { StructInput, StructValue } from '../netlink/codec/struct.js';
import { AE_FLAGS, XFRM_PROTO, flagsToNames, namesToFlags, type AeFlag, type XfrmProtoName } from './constants.js';
import { XfrmModelError } from './errors.js';
import { addressFamily, familyName, familyNumber, lifetimeCurrentFromWire, markFromWire, markToWire, type AddressFamily, type XfrmLifetimeCurrent, type XfrmMark } from './model.js';
import type { XfrmAttrInput, XfrmAttrValues } from './attributes.js';
import type { XfrmEsn, XfrmReplay } from './state.js';
import type { xfrmAeventId } from './structs.js';

/** Lookup key of GETAE/NEWAE (struct xfrm_aevent_id + XFRMA_MARK). */
export interface XfrmAeId {
  daddr: string;
  spi: number;
  proto: XfrmProtoName | number;
  family?: AddressFamily;
  saddr?: string;
  reqid?: number;
  mark?: XfrmMark;
}

/** A NEWAE (reply to GETAE, or an AEVENTS notification). */
export interface XfrmAe {
  daddr: string;
  saddr: string;
  spi: number;
  proto: XfrmProtoName | number;
  family: AddressFamily | 'unspec' | number;
  reqid: number;
  /** for notifications the cause: cr (replay update), ce (timer), cu (NEWAE by a user) */
  flags: (AeFlag | number)[];
  replay?: XfrmReplay;
  esn?: XfrmEsn;
  current?: XfrmLifetimeCurrent;
  replayThresh?: number;
  etimerThresh?: number;
  mark?: XfrmMark;
  ifId?: number;
}

/** What NEWAE (set) may change. ESN must be the full form with the SA's bmpLen. */
export interface XfrmAeUpdate {
  id: XfrmAeId;
  replay?: XfrmReplay;
  esn?: XfrmEsn;
  current?: XfrmLifetimeCurrent;
  replayThresh?: number;
  etimerThresh?: number;
}

type AeIdInput = StructInput<(typeof xfrmAeventId)['fields']>;
type AeIdValue = StructValue<(typeof xfrmAeventId)['fields']>;

export function aeIdToWire(id: XfrmAeId, flags: readonly (AeFlag | number)[] = []): { header: AeIdInput; attrs: XfrmAttrInput } {
  const family = id.family ?? addressFamily(id.daddr, 'ae id.daddr');
  if (!family) throw new XfrmModelError('ae id', 'no address family: give daddr or family');
  const attrs: XfrmAttrInput = {};
  if (id.mark) attrs.mark = markToWire(id.mark);
  return {
    header: {
      saId: { family: familyNumber(family), daddr: id.daddr, spi: id.spi >>> 0, proto: XFRM_PROTO.toNumber(id.proto) },
      saddr: id.saddr ?? '',
      flags: namesToFlags(AE_FLAGS, flags, 'aevent'),
      reqid: id.reqid ?? 0,
    },
    attrs,
  };
}

export function aeUpdateToWire(u: XfrmAeUpdate): { header: AeIdInput; attrs: XfrmAttrInput } {
  if (!u.replay && !u.esn && !u.current && u.replayThresh === undefined && u.etimerThresh === undefined) {
    throw new XfrmModelError('ae update', 'nothing to set (the kernel needs one of replay, esn, current, replayThresh, etimerThresh)');
  }
  if (u.replay && u.esn) throw new XfrmModelError('ae update', 'give either replay or esn');
  const { header, attrs } = aeIdToWire(u.id);
  if (u.esn) {
    // NEWAE rejects the 24-byte short form NEWSA accepts: always send bmpLen words.
    const bitmap = u.esn.bitmap.length ? u.esn.bitmap : new Array<number>(u.esn.bmpLen).fill(0);
    if (bitmap.length !== u.esn.bmpLen) throw new XfrmModelError('ae update.esn', `bitmap has ${bitmap.length} words, bmpLen is ${u.esn.bmpLen}`);
    attrs.replayEsnVal = { ...u.esn, bmp: bitmap };
  }
  if (u.replay) attrs.replayVal = u.replay;
  if (u.current) attrs.ltimeVal = u.current;
  if (u.replayThresh !== undefined) attrs.replayThresh = u.replayThresh;
  if (u.etimerThresh !== undefined) attrs.etimerThresh = u.etimerThresh;
  return { header, attrs };
}

export function aeFromWire(h: AeIdValue, attrs: XfrmAttrValues): XfrmAe {
  const ae: XfrmAe = {
    daddr: h.saId.daddr,
    saddr: h.saddr,
    spi: h.saId.spi,
    proto: XFRM_PROTO.toName(h.saId.proto),
    family: familyName(h.saId.family),
    reqid: h.reqid,
    flags: flagsToNames(AE_FLAGS, h.flags),
  };
  if (attrs.replayEsnVal) {
    const e = attrs.replayEsnVal;
    ae.esn = { oseq: e.oseq, seq: e.seq, oseqHi: e.oseqHi, seqHi: e.seqHi, replayWindow: e.replayWindow, bmpLen: e.bmpLen, bitmap: e.bmp };
  } else if (attrs.replayVal) {
    ae.replay = { ...attrs.replayVal };
  }
  if (attrs.ltimeVal) ae.current = lifetimeCurrentFromWire(attrs.ltimeVal);
  if (attrs.replayThresh !== undefined) ae.replayThresh = attrs.replayThresh;
  if (attrs.etimerThresh !== undefined) ae.etimerThresh = attrs.etimerThresh;
  if (attrs.mark) ae.mark = markFromWire(attrs.mark);
  if (attrs.ifId !== undefined) ae.ifId = attrs.ifId;
  return ae;
}
