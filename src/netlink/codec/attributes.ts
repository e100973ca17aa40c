// Netlink attributes (struct nlattr: u16 len, u16 type, payload, pad to 4) as
// tables: one table per attribute space maps a name to [type number, codec].
// One encoder and one decoder serve every table; nested spaces are tables too.
import { NetlinkDecodeError, NetlinkEncodeError } from '../errors.js';
import { SecretBytes } from './secret.js';
import type { CodecContext } from './struct.js';
import { AF_INET, AF_INET6, addressToBytes, bytesToAddress } from './address.js';

export const NLA_HDRLEN = 4;
export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

export const align4 = (n: number): number => (n + 3) & ~3;

/** How one attribute's payload is read and written. */
export interface AttrCodec<T, I = T> {
  decode(payload: Buffer, ctx: CodecContext): T;
  encode(value: I, ctx: CodecContext): Buffer;
  /** Set NLA_F_NESTED on the wire (needed where the kernel validates strictly). */
  readonly nestedFlag?: boolean;
}

/** An attribute the table does not know: kept, never dropped. */
export interface RawAttribute {
  type: number;
  payload: Buffer;
}

export interface AttrSpec<T, I> {
  readonly type: number;
  readonly codec: AttrCodec<T, I>;
  /** Collect every occurrence into an array instead of keeping the last. */
  readonly repeated: boolean;
}

// `never` in the input position makes any AttrSpec assignable here.
type AnySpec = AttrSpec<unknown, never>;
export type AttrTableSpec = Record<string, AnySpec>;

type ValueOf<S> = S extends AttrSpec<infer T, never> ? (S['repeated'] extends true ? T[] : T) : never;
type InputOf<S> = S extends AttrSpec<unknown, infer I> ? (S['repeated'] extends true ? readonly I[] : I) : never;

export type AttrValues<S extends AttrTableSpec> = { [K in keyof S]?: ValueOf<S[K]> };
export type AttrInput<S extends AttrTableSpec> = { [K in keyof S]?: InputOf<S[K]> };

export interface AttrTable<S extends AttrTableSpec> {
  readonly name: string;
  readonly spec: S;
  /** type number -> attribute name, for error messages ("XFRMA_OFFLOAD_DEV"). */
  nameOf(type: number): string;
  decode(buf: Buffer, ctx?: CodecContext, start?: number, end?: number): DecodedAttrs<S>;
  encode(values: AttrInput<S>, ctx?: CodecContext): Buffer;
  /** The attribute starting at `offset` within `buf` (attrs region from `start`). */
  attributeAt(buf: Buffer, offset: number, start: number): string | undefined;
}

export interface DecodedAttrs<S extends AttrTableSpec> {
  values: AttrValues<S>;
  unknown: RawAttribute[];
}

export function attr<T, I = T>(type: number, codec: AttrCodec<T, I>): AttrSpec<T, I> & { repeated: false } {
  return { type, codec, repeated: false };
}

export function repeated<T, I = T>(type: number, codec: AttrCodec<T, I>): AttrSpec<T, I> & { repeated: true } {
  return { type, codec, repeated: true };
}

/**
 * Declares an attribute space. Keys are camelCase names; `prefix` + the key in
 * SCREAMING_SNAKE gives the kernel's name. Encoding emits attributes in the
 * order they are declared here.
 */
export function attrTable<const S extends AttrTableSpec>(name: string, prefix: string, spec: S): AttrTable<S> {
  const byType = new Map<number, [string, AnySpec]>();
  for (const [key, s] of Object.entries(spec)) {
    if (byType.has(s.type)) throw new Error(`${name}: type ${s.type} declared twice`);
    byType.set(s.type, [key, s]);
  }
  const kernelName = (key: string): string => prefix + key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
  const nameOf = (type: number): string => {
    const e = byType.get(type);
    return e ? kernelName(e[0]) : `${prefix}${type}`;
  };

  const decode = (buf: Buffer, ctx: CodecContext = { family: 0 }, start = 0, end = buf.length): DecodedAttrs<S> => {
    const values: Record<string, unknown> = {};
    const unknown: RawAttribute[] = [];
    let off = start;
    while (off + NLA_HDRLEN <= end) {
      const len = buf.readUInt16LE(off);
      const type = buf.readUInt16LE(off + 2) & NLA_TYPE_MASK;
      if (len < NLA_HDRLEN || off + len > end) {
        throw new NetlinkDecodeError(`${name} attribute ${nameOf(type)}`, off, `length ${len} overruns the ${end - off} bytes left`);
      }
      const payload = buf.subarray(off + NLA_HDRLEN, off + len);
      const entry = byType.get(type);
      if (entry) {
        const [key, s] = entry;
        let v: unknown;
        try {
          v = s.codec.decode(payload, ctx);
        } catch (e) {
          if (e instanceof NetlinkDecodeError) {
            throw new NetlinkDecodeError(`${name} attribute ${kernelName(key)}`, off + NLA_HDRLEN + e.offset, e.message);
          }
          if (e instanceof RangeError) {
            throw new NetlinkDecodeError(`${name} attribute ${kernelName(key)}`, off + NLA_HDRLEN, `payload of ${payload.length} bytes is too short`);
          }
          throw e;
        }
        if (s.repeated) ((values[key] ??= []) as unknown[]).push(v);
        else values[key] = v;
      } else {
        unknown.push({ type, payload: Buffer.from(payload) });
      }
      off += align4(len);
    }
    if (off < end && end - off >= NLA_HDRLEN) {
      throw new NetlinkDecodeError(`${name} attributes`, off, `${end - off} trailing bytes`);
    }
    return { values: values as AttrValues<S>, unknown };
  };

  const encode = (input: AttrInput<S>, ctx: CodecContext = { family: 0 }): Buffer => {
    const parts: Buffer[] = [];
    const vals = input as Record<string, unknown>;
    for (const [key, s] of Object.entries(spec)) {
      const v = vals[key];
      if (v === undefined) continue;
      const items = s.repeated ? (v as unknown[]) : [v];
      for (const item of items) {
        let payload: Buffer;
        try {
          payload = (s.codec as AttrCodec<unknown, unknown>).encode(item, ctx);
        } catch (e) {
          if (e instanceof NetlinkEncodeError) throw new NetlinkEncodeError(kernelName(key), e.message);
          throw e;
        }
        const len = NLA_HDRLEN + payload.length;
        if (len > 0xffff) throw new NetlinkEncodeError(kernelName(key), `payload of ${payload.length} bytes exceeds the 16-bit nla_len`);
        const hdr = Buffer.alloc(NLA_HDRLEN);
        hdr.writeUInt16LE(len, 0);
        hdr.writeUInt16LE(s.type | (s.codec.nestedFlag ? NLA_F_NESTED : 0), 2);
        parts.push(hdr, payload);
        const pad = align4(len) - len;
        if (pad) parts.push(Buffer.alloc(pad));
      }
    }
    return Buffer.concat(parts);
  };

  const attributeAt = (buf: Buffer, offset: number, start: number): string | undefined => {
    let off = start;
    while (off + NLA_HDRLEN <= buf.length) {
      const len = buf.readUInt16LE(off);
      if (len < NLA_HDRLEN) return undefined;
      if (off === offset) return nameOf(buf.readUInt16LE(off + 2) & NLA_TYPE_MASK);
      if (offset > off && offset < off + len) {
        // Inside a nested attribute: name the outer one, that is what a user can act on.
        return nameOf(buf.readUInt16LE(off + 2) & NLA_TYPE_MASK);
      }
      off += align4(len);
    }
    return undefined;
  };

  return { name, spec, nameOf, decode, encode, attributeAt };
}

// ---- payload codecs -------------------------------------------------------

const fixedInt = (size: number, label: string, read: (b: Buffer) => number, write: (b: Buffer, v: number) => void, max: number): AttrCodec<number> => ({
  decode: (p) => {
    if (p.length < size) throw new NetlinkDecodeError(label, 0, `needs ${size} bytes, got ${p.length}`);
    return read(p);
  },
  encode: (v) => {
    if (!Number.isInteger(v) || v < 0 || v > max) throw new NetlinkEncodeError(label, `${v} is outside 0..${max}`);
    const b = Buffer.alloc(size);
    write(b, v);
    return b;
  },
});

export const u8: AttrCodec<number> = fixedInt(1, 'u8', (b) => b.readUInt8(0), (b, v) => b.writeUInt8(v, 0), 0xff);
export const u16: AttrCodec<number> = fixedInt(2, 'u16', (b) => b.readUInt16LE(0), (b, v) => b.writeUInt16LE(v, 0), 0xffff);
export const u32: AttrCodec<number> = fixedInt(4, 'u32', (b) => b.readUInt32LE(0), (b, v) => b.writeUInt32LE(v, 0), 0xffffffff);
export const be16: AttrCodec<number> = fixedInt(2, 'be16', (b) => b.readUInt16BE(0), (b, v) => b.writeUInt16BE(v, 0), 0xffff);
export const be32: AttrCodec<number> = fixedInt(4, 'be32', (b) => b.readUInt32BE(0), (b, v) => b.writeUInt32BE(v, 0), 0xffffffff);
export const i32: AttrCodec<number> = {
  decode: (p) => {
    if (p.length < 4) throw new NetlinkDecodeError('i32', 0, `needs 4 bytes, got ${p.length}`);
    return p.readInt32LE(0);
  },
  encode: (v) => {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v, 0);
    return b;
  },
};

export const u64: AttrCodec<bigint> = {
  decode: (p) => {
    if (p.length < 8) throw new NetlinkDecodeError('u64', 0, `needs 8 bytes, got ${p.length}`);
    return p.readBigUInt64LE(0);
  },
  encode: (v) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v, 0);
    return b;
  },
};

/** Presence-only attribute (NLA_FLAG). */
export const flag: AttrCodec<true, boolean> = {
  decode: () => true,
  encode: (v) => {
    if (!v) throw new NetlinkEncodeError('flag', 'a flag attribute is either present (true) or left out');
    return Buffer.alloc(0);
  },
};

/** NUL-terminated string (NLA_NUL_STRING / NLA_STRING as iproute2 sends names). */
export const string: AttrCodec<string> = {
  decode: (p) => {
    const nul = p.indexOf(0);
    return p.toString('utf8', 0, nul < 0 ? p.length : nul);
  },
  encode: (v) => Buffer.from(`${v}\0`, 'utf8'),
};

/** String without the NUL (iproute2 sends IFLA_INFO_KIND this way). */
export const stringNoNul: AttrCodec<string> = {
  decode: string.decode,
  encode: (v) => Buffer.from(v, 'utf8'),
};

export const binary: AttrCodec<Buffer, Uint8Array> = {
  decode: (p) => Buffer.from(p),
  encode: (v) => Buffer.from(v),
};

/** Key material: decoded into a wipeable SecretBytes that never renders. */
export const secret: AttrCodec<SecretBytes> = {
  decode: (p) => SecretBytes.copyOf(p),
  encode: (v) => Buffer.from(v.reveal()),
};

/** Address whose length says its family (4 or 16 bytes). */
export const address: AttrCodec<string> = {
  decode: (p) => {
    if (p.length === 4) return bytesToAddress(p, AF_INET);
    if (p.length === 16) return bytesToAddress(p, AF_INET6);
    throw new NetlinkDecodeError('address', 0, `length ${p.length} is neither 4 nor 16`);
  },
  encode: (v) => addressToBytes(v),
};

/** What struct(...) returns, seen from the attribute layer. */
export interface StructLike<V, I> {
  readonly name: string;
  readonly size: number;
  decode(buf: Buffer, ctx?: CodecContext, offset?: number): V;
  encode(value: I, ctx?: CodecContext): Buffer;
}

/** A fixed struct. Longer payloads are accepted (newer kernels append fields). */
export function structAttr<V, I>(t: StructLike<V, I>): AttrCodec<V, I> {
  return {
    decode: (p, ctx) => {
      if (p.length < t.size) throw new NetlinkDecodeError(`struct ${t.name}`, 0, `needs ${t.size} bytes, got ${p.length}`);
      return t.decode(p, ctx);
    },
    encode: (v, ctx) => t.encode(v, ctx),
  };
}

/** Several structs back to back in one attribute (XFRMA_TMPL). */
export function structArray<V, I>(t: StructLike<V, I>): AttrCodec<V[], readonly I[]> {
  return {
    decode: (p, ctx) => {
      if (p.length % t.size !== 0) throw new NetlinkDecodeError(`${t.name}[]`, 0, `${p.length} bytes is not a multiple of ${t.size}`);
      const out: V[] = [];
      for (let o = 0; o < p.length; o += t.size) out.push(t.decode(p, ctx, o));
      return out;
    },
    encode: (v, ctx) => Buffer.concat(v.map((x) => t.encode(x, ctx))),
  };
}

/** Re-emits attributes a table did not know, so decode -> encode loses nothing. */
export function encodeRaw(attrs: readonly RawAttribute[]): Buffer {
  const parts: Buffer[] = [];
  for (const a of attrs) {
    const len = NLA_HDRLEN + a.payload.length;
    const b = Buffer.alloc(align4(len));
    b.writeUInt16LE(len, 0);
    b.writeUInt16LE(a.type, 2);
    a.payload.copy(b, NLA_HDRLEN);
    parts.push(b);
  }
  return Buffer.concat(parts);
}

function isDecoded<S extends AttrTableSpec>(v: AttrInput<S> | DecodedAttrs<S>): v is DecodedAttrs<S> {
  const d = v as Partial<DecodedAttrs<S>>;
  return typeof d.values === 'object' && d.values !== null && Array.isArray(d.unknown);
}

/**
 * A nested attribute space. Decodes to {values, unknown}; encodes either plain
 * values or a decoded result (re-emitting its unknown attributes).
 */
export function nested<S extends AttrTableSpec>(
  table: AttrTable<S>,
  opts: { nestedFlag?: boolean } = {},
): AttrCodec<DecodedAttrs<S>, AttrInput<S> | DecodedAttrs<S>> {
  return {
    decode: (p, ctx) => table.decode(p, ctx),
    // A decoded value is a valid input for every codec here (decode and
    // encode types differ only in accepting wider inputs); TypeScript cannot
    // prove that for a generic table.
    encode: (v, ctx) => (isDecoded(v) ? Buffer.concat([table.encode(v.values as AttrInput<S>, ctx), encodeRaw(v.unknown)]) : table.encode(v, ctx)),
    nestedFlag: opts.nestedFlag ?? false,
  };
}

/** Wraps a codec to give a value a friendlier shape (e.g. flags -> names). */
export function mapped<T, I, U, J>(inner: AttrCodec<T, I>, fromWire: (v: T) => U, toWire: (v: J) => I): AttrCodec<U, J> {
  return {
    decode: (p, ctx) => fromWire(inner.decode(p, ctx)),
    encode: (v, ctx) => inner.encode(toWire(v), ctx),
    ...(inner.nestedFlag !== undefined ? { nestedFlag: inner.nestedFlag } : {}),
  };
}

