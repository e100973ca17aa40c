// Generic netlink: families (ethtool, devlink ...) get their message type id
// at run time. CTRL_CMD_GETFAMILY to the controller (GENL_ID_CTRL) resolves a
// family name to its id, version and multicast groups. Messages carry a
// 4-byte genlmsghdr {u8 cmd; u8 version; u16 reserved} before the attributes.
import { NetlinkDecodeError, NetlinkError } from './errors.js';
import {
  NLA_HDRLEN,
  align4,
  attr,
  attrTable,
  string,
  u16,
  u32,
  type AttrCodec,
  type AttrInput,
  type AttrTable,
  type AttrTableSpec,
  type DecodedAttrs,
} from './codec/attributes.js';
import { struct, u8 } from './codec/struct.js';
import { NLMSG_HDRLEN, type NetlinkMessage, type OutgoingMessage } from './message.js';
import type { MessageDescriber, NetlinkRequester } from './requester.js';

export const GENL_ID_CTRL = 16;
export const GENL_HDRLEN = 4;
export const CTRL_CMD_NEWFAMILY = 1;
export const CTRL_CMD_GETFAMILY = 3;

export const genlmsghdr = struct('genlmsghdr', GENL_HDRLEN, {
  cmd: [0, u8],
  version: [1, u8],
});

/**
 * NLA_NESTED_ARRAY: a nest of nests whose attribute type is only their
 * position (1, 2, 3 ...), each decoded with `table`.
 */
export function nestedArray<S extends AttrTableSpec>(table: AttrTable<S>): AttrCodec<DecodedAttrs<S>[], readonly AttrInput<S>[]> {
  return {
    decode: (p, ctx) => {
      const out: DecodedAttrs<S>[] = [];
      for (let off = 0; off + NLA_HDRLEN <= p.length; ) {
        const len = p.readUInt16LE(off);
        if (len < NLA_HDRLEN || off + len > p.length) {
          throw new NetlinkDecodeError(`${table.name}[]`, off, `length ${len} overruns the ${p.length - off} bytes left`);
        }
        out.push(table.decode(p, ctx, off + NLA_HDRLEN, off + len));
        off += align4(len);
      }
      return out;
    },
    encode: (items, ctx) =>
      Buffer.concat(
        items.map((item, i) => {
          const body = table.encode(item, ctx);
          const hdr = Buffer.alloc(NLA_HDRLEN);
          hdr.writeUInt16LE(NLA_HDRLEN + body.length, 0);
          hdr.writeUInt16LE(i + 1, 2);
          return Buffer.concat([hdr, body, Buffer.alloc(align4(body.length) - body.length)]);
        }),
      ),
  };
}

const ctrlOpTable = attrTable('CTRL_ATTR_OP', 'CTRL_ATTR_OP_', {
  id: attr(1, u32),
  flags: attr(2, u32),
});

const ctrlMcastGroupTable = attrTable('CTRL_ATTR_MCAST_GRP', 'CTRL_ATTR_MCAST_GRP_', {
  name: attr(1, string),
  id: attr(2, u32),
});

/** The controller's attribute space (include/uapi/linux/genetlink.h). */
export const ctrlTable = attrTable('CTRL_ATTR', 'CTRL_ATTR_', {
  familyId: attr(1, u16),
  familyName: attr(2, string),
  version: attr(3, u32),
  hdrsize: attr(4, u32),
  maxattr: attr(5, u32),
  ops: attr(6, nestedArray(ctrlOpTable)),
  mcastGroups: attr(7, nestedArray(ctrlMcastGroupTable)),
});

export interface GenlFamily {
  name: string;
  /** the nlmsg_type of this family's messages */
  id: number;
  version: number;
  hdrsize: number;
  maxattr: number;
  /** command id -> GENL_* flags (admin perm, do, dump ...) */
  ops: Map<number, number>;
  /** multicast group name -> group id to join */
  mcastGroups: Map<string, number>;
}

/** The family does not exist in this kernel (module not loaded, feature off). */
export class GenlFamilyNotFoundError extends Error {
  override readonly name = 'GenlFamilyNotFoundError';
  constructor(
    readonly family: string,
    override readonly cause: NetlinkError,
  ) {
    super(`generic netlink family ${JSON.stringify(family)} is not available: ${cause.message}`);
  }
}

/** One generic netlink request: genlmsghdr + encoded attributes. */
export function genlMessage(familyId: number, cmd: number, version: number, attrs: Buffer, flags = 0): OutgoingMessage {
  return { type: familyId, flags, payload: [genlmsghdr.encode({ cmd, version }), attrs] };
}

/** Splits a generic netlink message into its header and attribute bytes. */
export function genlPayload(m: Pick<NetlinkMessage, 'payload'>): { cmd: number; version: number; attrs: Buffer } {
  if (m.payload.length < GENL_HDRLEN) throw new NetlinkDecodeError('genlmsghdr', 0, `needs ${GENL_HDRLEN} bytes, got ${m.payload.length}`);
  const h = genlmsghdr.decode(m.payload);
  return { cmd: h.cmd, version: h.version, attrs: m.payload.subarray(GENL_HDRLEN) };
}

/** `CTRL_CMD_GETFAMILY name` as ethtool 6.1 sends it (version 1). */
export function getFamilyRequest(name: string): OutgoingMessage {
  return genlMessage(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, ctrlTable.encode({ familyName: name }));
}

/** Decodes the controller's CTRL_CMD_NEWFAMILY answer. */
export function decodeFamily(m: Pick<NetlinkMessage, 'payload'>): GenlFamily {
  const { attrs } = genlPayload(m);
  const { values: v } = ctrlTable.decode(attrs);
  if (v.familyId === undefined || v.familyName === undefined) {
    throw new NetlinkDecodeError('CTRL_CMD_NEWFAMILY', GENL_HDRLEN, 'no CTRL_ATTR_FAMILY_ID or CTRL_ATTR_FAMILY_NAME');
  }
  const ops = new Map<number, number>();
  for (const op of v.ops ?? []) if (op.values.id !== undefined) ops.set(op.values.id, op.values.flags ?? 0);
  const mcastGroups = new Map<string, number>();
  for (const g of v.mcastGroups ?? []) if (g.values.name !== undefined && g.values.id !== undefined) mcastGroups.set(g.values.name, g.values.id);
  return {
    name: v.familyName,
    id: v.familyId,
    version: v.version ?? 0,
    hdrsize: v.hdrsize ?? 0,
    maxattr: v.maxattr ?? 0,
    ops,
    mcastGroups,
  };
}

export const ctrlDescriber: MessageDescriber = {
  name: (type) => (type === GENL_ID_CTRL ? 'CTRL_CMD_GETFAMILY' : `genl family ${type}`),
  attributeAt: (request, offset) => ctrlTable.attributeAt(request, offset, NLMSG_HDRLEN + GENL_HDRLEN),
  attributeName: (type) => ctrlTable.nameOf(type),
};

/** Resolves a family name on `nl` (a NETLINK_GENERIC requester). */
export async function resolveFamily(nl: NetlinkRequester, name: string, opts: { timeoutMs?: number } = {}): Promise<GenlFamily> {
  let replies: NetlinkMessage[];
  try {
    replies = await nl.request(getFamilyRequest(name), { describe: ctrlDescriber, ...opts });
  } catch (e) {
    if (e instanceof NetlinkError && e.errno === 2 /* ENOENT */) throw new GenlFamilyNotFoundError(name, e);
    throw e;
  }
  const reply = replies.find((r) => r.type === GENL_ID_CTRL);
  if (!reply) throw new NetlinkDecodeError('CTRL_CMD_GETFAMILY answer', 0, 'no CTRL_CMD_NEWFAMILY message');
  return decodeFamily(reply);
}
