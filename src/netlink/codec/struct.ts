// Fixed-layout C structs as tables: each field is [offset, type]. One reader
// and one writer walk the table; no struct gets a hand-written parser.
//
// Offsets and sizes are the x86_64/arm64 (LP64) ones — the addon refuses to
// build for anything else — and are checked against the C compiler's
// offsetof()/sizeof() in test/unit/netlink/struct-layout.test.ts.
import { NetlinkDecodeError, NetlinkEncodeError } from '../errors.js';
import { AF_INET, AF_INET6, addressToBytes, bytesToAddress } from './address.js';

/** Decoding context: the address family that applies to address fields. */
export interface CodecContext {
  family: number;
}

/** A field type: reads and writes one value of `size` bytes at an offset. */
export interface FieldType<T, I = T> {
  readonly size: number;
  read(buf: Buffer, off: number, ctx: CodecContext): T;
  write(buf: Buffer, off: number, value: I, ctx: CodecContext): void;
}

const int = <T extends number | bigint>(
  size: number,
  read: (b: Buffer, o: number) => T,
  write: (b: Buffer, v: T, o: number) => void,
  min: T,
  max: T,
  label: string,
): FieldType<T> => ({
  size,
  read: (b, o) => read(b, o),
  write: (b, o, v) => {
    if (typeof v !== typeof min || v < min || v > max) {
      throw new NetlinkEncodeError(label, `${String(v)} is outside ${String(min)}..${String(max)}`);
    }
    write(b, v, o);
  },
});

export const u8 = int(1, (b, o) => b.readUInt8(o), (b, v, o) => b.writeUInt8(v, o), 0, 0xff, 'u8');
export const u16 = int(2, (b, o) => b.readUInt16LE(o), (b, v, o) => b.writeUInt16LE(v, o), 0, 0xffff, 'u16');
export const u32 = int(4, (b, o) => b.readUInt32LE(o), (b, v, o) => b.writeUInt32LE(v, o), 0, 0xffffffff, 'u32');
export const i32 = int(4, (b, o) => b.readInt32LE(o), (b, v, o) => b.writeInt32LE(v, o), -0x80000000, 0x7fffffff, 'i32');
export const u64 = int(8, (b, o) => b.readBigUInt64LE(o), (b, v, o) => b.writeBigUInt64LE(v, o), 0n, 0xffffffffffffffffn, 'u64');
/** Network byte order (SPIs, ports). */
export const be16 = int(2, (b, o) => b.readUInt16BE(o), (b, v, o) => b.writeUInt16BE(v, o), 0, 0xffff, 'be16');
export const be32 = int(4, (b, o) => b.readUInt32BE(o), (b, v, o) => b.writeUInt32BE(v, o), 0, 0xffffffff, 'be32');

/** Raw bytes of a fixed length. */
export function bytes(size: number): FieldType<Buffer, Uint8Array> {
  return {
    size,
    read: (b, o) => Buffer.from(b.subarray(o, o + size)),
    write: (b, o, v) => {
      if (v.length > size) throw new NetlinkEncodeError(`bytes[${size}]`, `${v.length} bytes do not fit`);
      b.set(v, o);
    },
  };
}

/** A NUL-padded char array (e.g. alg_name[64]); must leave room for the NUL. */
export function cstring(size: number): FieldType<string> {
  return {
    size,
    read: (b, o) => {
      const end = b.indexOf(0, o);
      return b.toString('latin1', o, end < 0 || end > o + size ? o + size : end);
    },
    write: (b, o, v) => {
      const n = Buffer.byteLength(v, 'latin1');
      if (n >= size) throw new NetlinkEncodeError(`char[${size}]`, `"${v}" is ${n} bytes, at most ${size - 1} fit`);
      b.write(v, o, 'latin1');
    },
  };
}

/** xfrm_address_t: 16 bytes, IPv4 in the first 4. Text form uses the context's family. */
export const address16: FieldType<string> = {
  size: 16,
  read: (b, o, ctx) => bytesToAddress(b.subarray(o, o + 16), ctx.family),
  write: (b, o, v, ctx) => {
    if (v === '') return;
    const raw = addressToBytes(v);
    const fam = raw.length === 4 ? AF_INET : AF_INET6;
    if (ctx.family !== 0 && ctx.family !== fam) {
      throw new NetlinkEncodeError('address', `${v} is not of address family ${ctx.family}`);
    }
    b.set(raw, o);
  },
};

/** MAC address, 6 bytes, as "aa:bb:cc:dd:ee:ff". */
export const mac: FieldType<string> = {
  size: 6,
  read: (b, o) => formatMac(b.subarray(o, o + 6)),
  write: (b, o, v) => b.set(parseMac(v), o),
};

export function formatMac(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');
}

export function parseMac(text: string): Buffer {
  const parts = text.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{1,2}$/.test(p))) {
    throw new NetlinkEncodeError('MAC address', `${JSON.stringify(text)} is not six hex octets`);
  }
  return Buffer.from(parts.map((p) => parseInt(p, 16)));
}

type FieldTable = Record<string, readonly [offset: number, type: FieldType<unknown, never>]>;

export type StructValue<F extends FieldTable> = { [K in keyof F]: F[K][1] extends FieldType<infer T, never> ? T : never };
export type StructInput<F extends FieldTable> = {
  [K in keyof F]?: F[K][1] extends FieldType<unknown, infer I> ? I : never;
};

export interface StructType<F extends FieldTable> extends FieldType<StructValue<F>, StructInput<F>> {
  readonly name: string;
  readonly fields: F;
  /** Decode a whole struct from the start of `buf` (which may be longer). */
  decode(buf: Buffer, ctx?: CodecContext, offset?: number): StructValue<F>;
  /** Encode into a new zero-filled buffer of `size` bytes; missing fields stay zero. */
  encode(value: StructInput<F>, ctx?: CodecContext): Buffer;
}

export interface StructOptions<F> {
  /** The field whose value is the address family of this struct's addresses. */
  family?: keyof F & string;
}

/**
 * Declares a struct. `fields` maps names to [offset, type]; `size` is sizeof()
 * including tail padding.
 */
export function struct<const F extends FieldTable>(name: string, size: number, fields: F, options: StructOptions<F> = {}): StructType<F> {
  const entries = Object.entries(fields);
  for (const [key, [off, type]] of entries) {
    if (off + type.size > size) throw new Error(`struct ${name}: field ${key} overruns ${size} bytes`);
  }
  const familyKey = options.family;
  const familyField = familyKey ? fields[familyKey] : undefined;

  const ownContext = (b: Buffer, o: number, ctx: CodecContext): CodecContext => {
    if (!familyField) return ctx;
    const fam = familyField[1].read(b, o + familyField[0], ctx) as number;
    return fam ? { family: fam } : ctx;
  };

  const read = (b: Buffer, o: number, ctx: CodecContext): StructValue<F> => {
    if (o + size > b.length) throw new NetlinkDecodeError(`struct ${name}`, o, `needs ${size} bytes, ${b.length - o} left`);
    const inner = ownContext(b, o, ctx);
    const out: Record<string, unknown> = {};
    for (const [key, [off, type]] of entries) out[key] = type.read(b, o + off, inner);
    return out as StructValue<F>;
  };

  const write = (b: Buffer, o: number, value: StructInput<F>, ctx: CodecContext): void => {
    const v = value as Record<string, unknown>;
    let inner = ctx;
    if (familyKey && typeof v[familyKey] === 'number' && v[familyKey] !== 0) inner = { family: v[familyKey] };
    for (const [key, [off, type]] of entries) {
      const fv = v[key];
      if (fv === undefined) continue;
      try {
        (type as FieldType<unknown, unknown>).write(b, o + off, fv, inner);
      } catch (e) {
        if (e instanceof NetlinkEncodeError) throw new NetlinkEncodeError(`${name}.${key}`, e.message);
        throw e;
      }
    }
  };

  return {
    name,
    size,
    fields,
    read,
    write,
    decode: (buf, ctx = { family: 0 }, offset = 0) => read(buf, offset, ctx),
    encode: (value, ctx = { family: 0 }) => {
      const buf = Buffer.alloc(size);
      write(buf, 0, value, ctx);
      return buf;
    },
  };
}
