// The mailbox's attribute spaces, as tables over the project's generic
// netlink attribute machinery (nlattr TLVs: u16 length, u16 type, payload
// padded to 4; little-endian). One space for every message's attributes, one
// for a CHILD_SA. An SA travels as the payload of an XFRM_MSG_NEWSA
// (xfrm_usersa_info + XFRMA_* attributes), the encoding the project's XFRM
// codec already reads and writes against the kernel, keys included.
import { attr, attrTable, flag, nested, repeated, string, structAttr, u16, u32, u64, u8, type AttrCodec, type AttrValues, type DecodedAttrs } from '../../netlink/codec/attributes.js';
import { address16, struct, u16 as u16f, u8 as u8f } from '../../netlink/codec/struct.js';
import { NetlinkDecodeError } from '../../netlink/errors.js';
import { decodeXfrm, encodeXfrm } from '../../xfrm/messages.js';
import { stateFromWire, stateToWire, type XfrmState } from '../../xfrm/state.js';
import { MailboxEncodeError } from './errors.js';

/**
 * A traffic selector as charon negotiated it: one subnet, an IP protocol
 * (0 = any) and a port range (0..65535 = any).
 */
export const trafficSelector = struct(
  'vf_ts',
  24,
  {
    family: [0, u16f],
    proto: [2, u8f],
    prefixlen: [3, u8f],
    fromPort: [4, u16f],
    toPort: [6, u16f],
    address: [8, address16],
  },
  { family: 'family' },
);

export interface TrafficSelector {
  /** AF_INET (2) or AF_INET6 (10) */
  family: number;
  proto: number;
  prefixlen: number;
  fromPort: number;
  toPort: number;
  address: string;
}

const XFRM_MSG_NEWSA = 16;

/** The NEWSA payload (usersa_info + attributes) <-> XfrmState. Decoding copies keys into SecretBytes. */
export const xfrmSa: AttrCodec<XfrmState> = {
  decode: (payload) => {
    const d = decodeXfrm('NEWSA', { type: XFRM_MSG_NEWSA, flags: 0, seq: 0, pid: 0, payload });
    try {
      return stateFromWire(d.header, d.attrs, d.unknown.map((u) => u.type));
    } catch (e) {
      // The XFRM view refuses what no kernel sends; from a tenant it is just malformed.
      throw new NetlinkDecodeError('XFRM state', 0, e instanceof Error ? e.message : String(e));
    }
  },
  encode: (state) => {
    let m;
    try {
      m = encodeXfrm('NEWSA', stateToWire(state));
    } catch (e) {
      throw new MailboxEncodeError('SA', e instanceof Error ? e.message : String(e));
    }
    return Buffer.concat(m.payload);
  },
};

/** A CHILD_SA (sa.add). */
export const childAttrs = attrTable('mailbox child', 'VFMB_CHILD_', {
  /** the tenant charon's CHILD_SA unique id: the VF's handle for it */
  uniqueid: attr(1, u32),
  /** CHILD_SA config name (for logs and `vf list`) */
  name: attr(2, string),
  reqid: attr(3, u32),
  /** XFRM mode number (tunnel = 1) */
  mode: attr(4, u8),
  saIn: attr(5, xfrmSa),
  saOut: attr(6, xfrmSa),
  localTs: repeated(7, structAttr(trafficSelector)),
  remoteTs: repeated(8, structAttr(trafficSelector)),
  /** IKE config name (for logs) */
  ike: attr(9, string),
});

/** Every message's attributes (which ones a message needs: MESSAGES[kind].required). */
export const mailboxAttrs = attrTable('mailbox', 'VFMB_A_', {
  /** hello: 64-bit epoch of the agent (tenant boot + charon start) */
  epoch: attr(1, u64),
  /** hello: agent name and version (informational) */
  agent: attr(2, string),
  /** hello answer: the PF's name for this VF */
  vfName: attr(3, string),
  /** hello answer: send a request at least this often */
  heartbeatMs: attr(4, u32),
  /** hello answer: silent longer than this and the VF's SAs are removed */
  staleMs: attr(5, u32),
  /** hello answer: hardware slots the VF may use */
  hwSlots: attr(6, u32),
  /** hello answer: SAs the VF may have installed */
  maxSas: attr(7, u32),
  child: attr(8, nested(childAttrs)),
  /** sa.del, rekey: a CHILD_SA unique id */
  uniqueid: attr(9, u32),
  /** sync: every CHILD_SA the agent has */
  uniqueids: repeated(10, u32),
  /** sync answer: the CHILD_SAs the PF lacks (send them with sa.add) */
  missing: repeated(11, u32),
  /** error: REASONS */
  reason: attr(12, u16),
  /** error: what exactly (never key material) */
  message: attr(13, string),
  /** bye: keep the SAs (the agent restarts); they go only if it does not come back within the stale timeout */
  keep: attr(14, flag),
  /** ok to sa.add/sa.del/sync/hello: SAs removed as a consequence */
  removed: attr(15, u32),
  /** rekey: REKEY_REASONS */
  rekeyReason: attr(16, u8),
  /** ok to sa.add: the CHILD_SA was installed already, nothing changed */
  present: attr(17, flag),
});

export type MailboxAttrSpec = (typeof mailboxAttrs)['spec'];
export type MailboxAttrs = AttrValues<MailboxAttrSpec>;
export type ChildAttrs = DecodedAttrs<(typeof childAttrs)['spec']>;
