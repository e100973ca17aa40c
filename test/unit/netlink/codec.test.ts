import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { inspect } from 'node:util';
import { attr, attrTable, encodeRaw, nested, repeated, string, u32, u8, binary, flag, structAttr } from '../../../src/netlink/codec/attributes.js';
import { address16, be32, cstring, i32, mac, struct, u16, u64, u8 as fu8, bytes } from '../../../src/netlink/codec/struct.js';
import { SecretBytes } from '../../../src/netlink/codec/secret.js';
import { AF_INET, AF_INET6 } from '../../../src/netlink/codec/address.js';
import { NetlinkDecodeError, NetlinkEncodeError } from '../../../src/netlink/errors.js';
import { splitMessages } from '../../../src/netlink/message.js';
import { datagrams, loadCapture } from './fixtures.js';

// A slice of the IFLA space, enough to read the captured dump. (The full
// rtnetlink tables live in src/link; this exercises the generic machinery.)
const ifinfomsg = struct('ifinfomsg', 16, { family: [0, fu8], type: [2, u16], index: [4, i32], flags: [8, u32f()], change: [12, u32f()] });
function u32f() {
  return { size: 4, read: (b: Buffer, o: number) => b.readUInt32LE(o), write: (b: Buffer, o: number, v: number) => void b.writeUInt32LE(v, o) };
}
const linkinfo = attrTable('linkinfo', 'IFLA_INFO_', { kind: attr(1, string) });
const ifla = attrTable('ifla', 'IFLA_', {
  ifname: attr(3, string),
  mtu: attr(4, u32),
  operstate: attr(16, u8),
  linkinfo: attr(18, nested(linkinfo)),
});

describe('generic attribute codec on a real RTM_GETLINK dump', () => {
  const links = splitMessages(datagrams(loadCapture('dump-links'), 'recv').at(-2) as Buffer).map((m) => {
    const hdr = ifinfomsg.decode(m.payload);
    return { hdr, ...ifla.decode(m.payload, undefined, 16) };
  });

  it('decodes names, MTUs and nested link kinds', () => {
    expect(links.map((l) => l.values.ifname)).toEqual(['lo', 'dB', 'dA']);
    expect(links[0]?.values.mtu).toBe(65536);
    expect(links[1]?.values.linkinfo?.values.kind).toBe('veth');
    expect(links[0]?.hdr.index).toBe(1);
  });

  it('keeps every attribute it does not know, with its type', () => {
    const lo = links[0]!;
    expect(lo.unknown.length).toBeGreaterThan(10);
    expect(lo.unknown.map((u) => u.type)).toContain(13); // IFLA_QDISC
  });

  it('round-trips what it knows', () => {
    const dA = links[2]!;
    const again = ifla.decode(ifla.encode(dA.values));
    expect(again.values).toEqual(dA.values);
    // ... and with encodeRaw, what it does not know too: byte for byte.
    const msg = splitMessages(datagrams(loadCapture('dump-links'), 'recv').at(-2) as Buffer)[2]!;
    const rebuilt = Buffer.concat([ifla.encode(dA.values), encodeRaw(dA.unknown)]);
    expect(ifla.decode(rebuilt).unknown).toEqual(dA.unknown);
    expect(rebuilt.length).toBe(msg.payload.length - 16);
  });

  it('names an attribute by its offset (for extended-ack errors)', () => {
    const buf = Buffer.concat([Buffer.alloc(16), ifla.encode({ ifname: 'x0', mtu: 1500 })]);
    expect(ifla.attributeAt(buf, 16, 16)).toBe('IFLA_IFNAME');
    expect(ifla.attributeAt(buf, 24, 16)).toBe('IFLA_MTU');
    expect(ifla.nameOf(18)).toBe('IFLA_LINKINFO');
    expect(ifla.nameOf(999)).toBe('IFLA_999');
  });
});

describe('struct codec', () => {
  const s = struct(
    'demo',
    48,
    { a: [0, address16], spi: [16, be32], fam: [20, u16], n: [24, u64], name: [32, cstring(8)], hw: [40, mac] },
    { family: 'fam' },
  );

  it('round-trips with the family taken from its own field', () => {
    const v4 = { a: '10.0.0.1', spi: 0xc1a2b3c4, fam: AF_INET, n: 2n ** 64n - 1n, name: 'gcm', hw: '02:00:00:aa:bb:cc' };
    const b = s.encode(v4);
    expect(b.readUInt32BE(16)).toBe(0xc1a2b3c4);
    expect(s.decode(b)).toEqual(v4);
    const v6 = { ...v4, a: 'fd00::1', fam: AF_INET6 };
    expect(s.decode(s.encode(v6))).toEqual(v6);
  });

  it('refuses values that do not fit, naming the field', () => {
    expect(() => s.encode({ spi: 2 ** 32 })).toThrow(NetlinkEncodeError);
    expect(() => s.encode({ spi: 2 ** 32 })).toThrow(/demo\.spi/);
    expect(() => s.encode({ name: 'eightchr' })).toThrow(/at most 7/);
    expect(() => s.encode({ fam: AF_INET, a: 'fd00::1' })).toThrow(/family/);
    expect(() => s.encode({ hw: 'zz:00:00:00:00:00' })).toThrow(/MAC/);
  });

  it('refuses a struct declared larger than its size', () => {
    expect(() => struct('bad', 4, { x: [2, u64] })).toThrow(/overruns/);
  });

  it('decoding short input is a NetlinkDecodeError', () => {
    expect(() => s.decode(Buffer.alloc(10))).toThrow(NetlinkDecodeError);
  });
});

describe('attribute tables', () => {
  const inner = attrTable('inner', 'IN_', { v: attr(1, u32) });
  const t = attrTable('demo', 'DEMO_', {
    name: attr(1, string),
    on: attr(2, flag),
    blob: attr(3, binary),
    items: repeated(4, nested(inner)),
    id: attr(5, structAttr(struct('id', 8, { x: [0, bytes(4)], y: [4, be32] }))),
  });

  it('encodes in declaration order and decodes repeated attributes into arrays', () => {
    const b = t.encode({ items: [{ v: 1 }, { v: 2 }], name: 'a', on: true });
    expect(b.readUInt16LE(2)).toBe(1); // name first
    const d = t.decode(b);
    expect(d.values.on).toBe(true);
    expect(d.values.items?.map((i) => i.values.v)).toEqual([1, 2]);
  });

  it('a truncated attribute is a NetlinkDecodeError naming it', () => {
    const b = t.encode({ name: 'abcdef' });
    expect(() => t.decode(b.subarray(0, 6))).toThrow(NetlinkDecodeError);
    const bad = Buffer.from(b);
    bad.writeUInt16LE(200, 0);
    expect(() => t.decode(bad)).toThrow(/DEMO_NAME/);
  });

  it('a struct attribute shorter than its struct is a NetlinkDecodeError', () => {
    const b = Buffer.from([8, 0, 5, 0, 1, 2, 3, 4]);
    expect(() => t.decode(b)).toThrow(/struct id/);
  });

  it('never throws anything but NetlinkDecodeError on random input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        try {
          t.decode(Buffer.from(bytes));
          ifla.decode(Buffer.from(bytes));
        } catch (e) {
          if (!(e instanceof NetlinkDecodeError)) throw e;
        }
      }),
      { numRuns: 5000 },
    );
  });
});

describe('SecretBytes', () => {
  const hex = '0102030405060708090a0b0c0d0e0f1011121314';
  const key = new SecretBytes(Buffer.from(hex, 'hex'));

  it('never renders its bytes', () => {
    const rendered = [String(key), JSON.stringify({ key }), inspect({ key }), `${key}`, inspect(key, { showHidden: true, depth: 9 })];
    for (const r of rendered) expect(r).not.toContain('0102');
    expect(JSON.stringify({ key })).toBe('{"key":"[redacted]"}');
  });

  it('wipes the bytes it owns and refuses use afterwards', () => {
    const own = Buffer.from(hex, 'hex');
    const k = new SecretBytes(own);
    expect(k.equals(SecretBytes.copyOf(Buffer.from(hex, 'hex')))).toBe(true);
    k.wipe();
    expect(own.every((b) => b === 0)).toBe(true);
    expect(() => k.reveal()).toThrow(/wiped/);
  });
});
