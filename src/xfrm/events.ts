// Kernel XFRM notifications as typed events (pure: decoded message -> event).
// Used by XfrmMonitor, and by XfrmClient.deleteState for the DELSA that
// carries an SA's final state.
import { aeFromWire, type XfrmAe } from './ae.js';
import { XFRM_POLICY_TYPE, XFRM_PROTO, type PolicyType, type XfrmProtoName } from './constants.js';
import type { AnyDecodedXfrm, DecodedXfrm } from './messages.js';
import { familyName, selectorFromWire, type AddressFamily, type XfrmSelector } from './model.js';
import { policyFromWire, type XfrmPolicy, type XfrmPolicyId } from './policy.js';
import type { XfrmStateId } from './state-requests.js';
import { stateFromWire, type XfrmState } from './state.js';

/** ACQUIRE: the kernel needs an SA for this flow (policy matched, no state). */
export interface XfrmAcquire {
  daddr: string;
  saddr: string;
  spi: number;
  proto: XfrmProtoName | number;
  selector: XfrmSelector;
  policy: XfrmPolicy;
  aalgos: number;
  ealgos: number;
  calgos: number;
  /** put into usersa_info.seq of the SA that answers it */
  seq: number;
}

/** MAPPING: a NAT-T peer's address or port changed. */
export interface XfrmMapping {
  daddr: string;
  spi: number;
  proto: XfrmProtoName | number;
  family: AddressFamily | 'unspec' | number;
  reqid: number;
  oldSaddr: string;
  newSaddr: string;
  oldSport: number;
  newSport: number;
}

/** seq/pid of the request that caused the event (0 for kernel-made events). */
export interface EventOrigin {
  seq: number;
  pid: number;
}

export type XfrmEvent = EventOrigin &
  (
    | { kind: 'newsa' | 'updsa'; state: XfrmState }
    /** the SA's final state, from XFRMA_SA and the attributes beside it */
    | { kind: 'delsa'; id: XfrmStateId; state: XfrmState | undefined }
    | { kind: 'flushsa'; proto: XfrmProtoName | number }
    | { kind: 'expire'; state: XfrmState; hard: boolean }
    | { kind: 'newae'; ae: XfrmAe }
    | { kind: 'acquire'; acquire: XfrmAcquire }
    | { kind: 'mapping'; mapping: XfrmMapping }
    | { kind: 'newpolicy' | 'updpolicy'; policy: XfrmPolicy }
    /** the deleted policy in full, from XFRMA_POLICY, when the kernel sent it */
    | { kind: 'delpolicy'; id: XfrmPolicyId; policy: XfrmPolicy | undefined }
    | { kind: 'flushpolicy'; type: PolicyType | number | undefined }
    | { kind: 'polexpire'; policy: XfrmPolicy; hard: boolean }
    /** a message type this codec does not turn into an event */
    | { kind: 'other'; type: number; name: string }
  );

export type XfrmEventKind = XfrmEvent['kind'];

function delsaEvent(d: DecodedXfrm<'DELSA'>): XfrmEvent {
  const fam = familyName(d.header.family);
  const id: XfrmStateId = {
    daddr: d.header.daddr,
    spi: d.header.spi,
    proto: XFRM_PROTO.toName(d.header.proto),
    ...(fam === 'ipv4' || fam === 'ipv6' ? { family: fam } : {}),
  };
  const state = d.attrs.sa ? stateFromWire(d.attrs.sa, d.attrs, d.unknown.map((u) => u.type)) : undefined;
  if (state) {
    id.saddr = state.saddr;
    if (state.mark) id.mark = state.mark;
  }
  return { kind: 'delsa', seq: d.seq, pid: d.pid, id, state };
}

function delpolicyEvent(d: DecodedXfrm<'DELPOLICY'>): XfrmEvent {
  const policy = d.attrs.policy ? policyFromWire(d.attrs.policy, d.attrs, d.unknown.map((u) => u.type)) : undefined;
  const id: XfrmPolicyId = {
    selector: selectorFromWire(d.header.sel),
    dir: policy?.dir ?? d.header.dir,
    ...(d.header.index ? { index: d.header.index } : {}),
    ...(policy?.mark ? { mark: policy.mark } : {}),
    ...(policy?.ifId !== undefined ? { ifId: policy.ifId } : {}),
    ...(policy?.type !== undefined ? { type: policy.type } : {}),
  };
  return { kind: 'delpolicy', seq: d.seq, pid: d.pid, id, policy };
}

/** Turns a decoded notification into an event. */
export function eventFromMessage(d: AnyDecodedXfrm): XfrmEvent {
  const origin = { seq: d.seq, pid: d.pid };
  const unknown = d.unknown.map((u) => u.type);
  switch (d.kind) {
    case 'NEWSA':
      return { ...origin, kind: 'newsa', state: stateFromWire(d.header, d.attrs, unknown) };
    case 'UPDSA':
      return { ...origin, kind: 'updsa', state: stateFromWire(d.header, d.attrs, unknown) };
    case 'DELSA':
      return delsaEvent(d);
    case 'FLUSHSA':
      return { ...origin, kind: 'flushsa', proto: XFRM_PROTO.toName(d.header.proto) };
    case 'EXPIRE':
      return { ...origin, kind: 'expire', state: stateFromWire(d.header.state, d.attrs, unknown), hard: d.header.hard !== 0 };
    case 'NEWAE':
      return { ...origin, kind: 'newae', ae: aeFromWire(d.header, d.attrs) };
    case 'ACQUIRE': {
      const h = d.header;
      const acquire: XfrmAcquire = {
        daddr: h.id.daddr,
        saddr: h.saddr,
        spi: h.id.spi,
        proto: XFRM_PROTO.toName(h.id.proto),
        selector: selectorFromWire(h.sel),
        policy: policyFromWire(h.policy, d.attrs, unknown),
        aalgos: h.aalgos,
        ealgos: h.ealgos,
        calgos: h.calgos,
        seq: h.seq,
      };
      return { ...origin, kind: 'acquire', acquire };
    }
    case 'MAPPING': {
      const h = d.header;
      const mapping: XfrmMapping = {
        daddr: h.id.daddr,
        spi: h.id.spi,
        proto: XFRM_PROTO.toName(h.id.proto),
        family: familyName(h.id.family),
        reqid: h.reqid,
        oldSaddr: h.oldSaddr,
        newSaddr: h.newSaddr,
        oldSport: h.oldSport,
        newSport: h.newSport,
      };
      return { ...origin, kind: 'mapping', mapping };
    }
    case 'NEWPOLICY':
      return { ...origin, kind: 'newpolicy', policy: policyFromWire(d.header, d.attrs, unknown) };
    case 'UPDPOLICY':
      return { ...origin, kind: 'updpolicy', policy: policyFromWire(d.header, d.attrs, unknown) };
    case 'DELPOLICY':
      return delpolicyEvent(d);
    case 'FLUSHPOLICY':
      return { ...origin, kind: 'flushpolicy', type: d.attrs.policyType ? XFRM_POLICY_TYPE.toName(d.attrs.policyType.type) : undefined };
    case 'POLEXPIRE':
      return { ...origin, kind: 'polexpire', policy: policyFromWire(d.header.pol, d.attrs, unknown), hard: d.header.hard !== 0 };
    default:
      return { ...origin, kind: 'other', type: d.type, name: d.name };
  }
}
