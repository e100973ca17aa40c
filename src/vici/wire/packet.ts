// Packet layer: the first byte of a segment is the packet type; named types
// follow it with a u8-length ASCII name; types that carry a message take the
// rest of the segment. One table, one encoder, one decoder.
import { ViciEncodeError, ViciProtocolError } from './errors.js';
import { MAX_NAME_BYTES, MAX_SEGMENT_BYTES, SEGMENT_HEADER_BYTES } from './limits.js';

export const PacketType = {
  CMD_REQUEST: 0,
  CMD_RESPONSE: 1,
  CMD_UNKNOWN: 2,
  EVENT_REGISTER: 3,
  EVENT_UNREGISTER: 4,
  EVENT_CONFIRM: 5,
  EVENT_UNKNOWN: 6,
  EVENT: 7,
} as const;
export type PacketType = (typeof PacketType)[keyof typeof PacketType];

interface PacketSpec {
  readonly label: string;
  /** a u8-length name follows the type byte */
  readonly named: boolean;
  /** the rest of the segment is a message (possibly empty) */
  readonly message: boolean;
}

/** Indexed by type number (vici_operation_t in vici_dispatcher.h). */
export const PACKET_SPECS: readonly PacketSpec[] = [
  { label: 'CMD_REQUEST', named: true, message: true },
  { label: 'CMD_RESPONSE', named: false, message: true },
  { label: 'CMD_UNKNOWN', named: false, message: false },
  { label: 'EVENT_REGISTER', named: true, message: false },
  { label: 'EVENT_UNREGISTER', named: true, message: false },
  { label: 'EVENT_CONFIRM', named: false, message: false },
  { label: 'EVENT_UNKNOWN', named: false, message: false },
  { label: 'EVENT', named: true, message: true },
];

export interface Packet {
  type: PacketType;
  /** command or event name, for named types */
  name?: string;
  /** the encoded message, for types that carry one (a view into the segment) */
  message?: Buffer;
}

export function packetLabel(type: number): string {
  return PACKET_SPECS[type]?.label ?? `packet type ${type}`;
}

/**
 * charon checks names with chunk_printable() (isprint: 0x20..0x7e) and silently
 * ignores a request whose name fails: the caller would wait forever. So we
 * refuse such names before sending. Empty names are printable to charon, but a
 * command or event is never called "", so packet names must not be empty.
 */
export function checkName(name: string, path: string, allowEmpty: boolean): void {
  if (name.length > MAX_NAME_BYTES) throw new ViciEncodeError(path, `name of ${name.length} characters exceeds ${MAX_NAME_BYTES} bytes`);
  if (!allowEmpty && name.length === 0) throw new ViciEncodeError(path, 'name is empty');
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) throw new ViciEncodeError(path, `name has a non-printable or non-ASCII character at index ${i} (charon would ignore it)`);
  }
}

/** Encodes a packet as a whole transport segment (length prefix included). */
export function encodePacket(packet: Packet): Buffer {
  const spec = PACKET_SPECS[packet.type];
  if (!spec) throw new ViciEncodeError('packet', `unknown packet type ${String(packet.type)}`);
  const name = packet.name;
  if (spec.named) {
    if (name === undefined) throw new ViciEncodeError(spec.label, 'a name is required');
    checkName(name, `${spec.label} name`, false);
  } else if (name !== undefined) {
    throw new ViciEncodeError(spec.label, 'this packet type has no name');
  }
  const message = packet.message;
  if (message !== undefined && !spec.message) throw new ViciEncodeError(spec.label, 'this packet type carries no message');

  const nameBytes = spec.named ? 1 + (name as string).length : 0;
  const length = 1 + nameBytes + (message?.length ?? 0);
  if (length > MAX_SEGMENT_BYTES) {
    throw new ViciEncodeError(name ?? spec.label, `packet of ${length} bytes exceeds the ${MAX_SEGMENT_BYTES}-byte segment limit`);
  }
  const out = Buffer.allocUnsafe(SEGMENT_HEADER_BYTES + length);
  out.writeUInt32BE(length, 0);
  out[SEGMENT_HEADER_BYTES] = packet.type;
  let off = SEGMENT_HEADER_BYTES + 1;
  if (spec.named) {
    out[off] = (name as string).length;
    out.write(name as string, off + 1, 'latin1');
    off += nameBytes;
  }
  if (message) out.set(message, off);
  return out;
}

/** Decodes one segment (without its length prefix). */
export function decodePacket(segment: Buffer): Packet {
  if (segment.length === 0) throw new ViciProtocolError('packet', 'empty segment (no packet type)', 0);
  const type = segment[0] as number;
  const spec = PACKET_SPECS[type];
  if (!spec) throw new ViciProtocolError('packet', `unknown packet type ${type}`, 0);
  let off = 1;
  const packet: Packet = { type: type as PacketType };
  if (spec.named) {
    if (segment.length < 2) throw new ViciProtocolError('packet', `${spec.label} without a name length`, 1);
    const len = segment[1] as number;
    if (2 + len > segment.length) {
      throw new ViciProtocolError('packet', `${spec.label} name of ${len} bytes overruns the ${segment.length}-byte segment`, 1);
    }
    packet.name = segment.toString('latin1', 2, 2 + len);
    off = 2 + len;
  }
  if (spec.message) {
    packet.message = segment.subarray(off);
  } else if (off < segment.length) {
    throw new ViciProtocolError('packet', `${spec.label} has ${segment.length - off} unexpected trailing bytes`, off);
  }
  return packet;
}
