// Message elements and their nesting rules. Byte vectors come from two
// strongSwan sources (commit 3b902ea59b86): the README's "Encoding example"
// (src/libcharon/plugins/vici/README.md) and the python client's
// test_protocol.py class TestMessage; the rest from captured charon traffic.
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../../src/vici/wire/elements.js';
import { ViciEncodeError, ViciProtocolError } from '../../../src/vici/wire/errors.js';
import { MAX_SECTION_DEPTH } from '../../../src/vici/wire/limits.js';
import { ViciMessage } from '../../../src/vici/wire/message.js';
import { SecretBytes } from '../../../src/netlink/codec/secret.js';
import { fixture, packets } from './fixtures.js';

const b = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));

// README.md "Encoding example": the C array, element by element.
const README_EXAMPLE = b(
  [3, 4], 'key1', [0, 6], 'value1',
  [1, 8], 'section1',
  [1, 11], 'sub-section',
  [3, 4], 'key2', [0, 6], 'value2',
  [2],
  [4, 5], 'list1',
  [5, 0, 5], 'item1',
  [5, 0, 5], 'item2',
  [6],
  [2],
);

describe('README encoding example', () => {
  const tree = { key1: 'value1', section1: { 'sub-section': { key2: 'value2' }, list1: ['item1', 'item2'] } };

  it('encodes to the README bytes', () => {
    expect(encodeMessage(tree)).toEqual(README_EXAMPLE);
  });

  it('decodes the README bytes, values as bytes, order kept', () => {
    const m = decodeMessage(README_EXAMPLE);
    expect([...m.keys()]).toEqual(['key1', 'section1']);
    expect(m.value('key1')).toEqual(Buffer.from('value1'));
    expect(m.section('section1')?.section('sub-section')?.string('key2')).toBe('value2');
    expect(m.section('section1')?.strings('list1')).toEqual(['item1', 'item2']);
    expect(m.toJSON()).toEqual(tree);
  });
});

describe('python client vectors (test_protocol.py TestMessage)', () => {
  it('sections, lists and key/values serialize as in the python suite', () => {
    expect(encodeMessage({ section: {} })).toEqual(b([0x01, 0x07], 'section', [0x02]));
    expect(encodeMessage({ outer: { subsection: {} } })).toEqual(b([0x01, 0x05], 'outer', [0x01, 0x0a], 'subsection', [0x02, 0x02]));
    expect(encodeMessage({ empty: [] })).toEqual(b([0x04, 0x05], 'empty', [0x06]));
    expect(encodeMessage({ l: ['e1'] })).toEqual(b([0x04, 0x01], 'l', [0x05, 0x00, 0x02], 'e1', [0x06]));
    expect(encodeMessage({ l: ['e1', 'e2'] })).toEqual(b([0x04, 0x01], 'l', [0x05, 0x00, 0x02], 'e1', [0x05, 0x00, 0x02], 'e2', [0x06]));
    expect(encodeMessage({ key: 'value' })).toEqual(b([0x03, 0x03], 'key', [0x00, 0x05], 'value'));
    expect(encodeMessage({ zerolength: '' })).toEqual(b([0x03, 0x0a], 'zerolength', [0x00, 0x00]));
  });

  it('deserializes them back', () => {
    expect(decodeMessage(b([0x01, 0x05], 'outer', [0x01, 0x0a], 'subsection', [0x02, 0x02])).toJSON()).toEqual({ outer: { subsection: {} } });
    expect(decodeMessage(b([0x04, 0x05], 'empty', [0x06])).toJSON()).toEqual({ empty: [] });
    expect(decodeMessage(b([0x03, 0x0a], 'zerolength', [0x00, 0x00])).value('zerolength')).toEqual(Buffer.alloc(0));
  });

  it('rejects ser_sec_unclosed and ser_list_invalid', () => {
    expect(() => decodeMessage(b([0x01, 0x08], 'unclosed'))).toThrow(ViciProtocolError);
    // a SECTION_END inside a list
    expect(() => decodeMessage(b([0x04, 0x07], 'invalid', [0x05, 0x00, 0x02], 'e1', [0x02, 0x03], 'sec', [0x06]))).toThrow(ViciProtocolError);
  });

  it('roundtrip keeps values as undecoded bytes', () => {
    const m = decodeMessage(encodeMessage({ key1: 'value1', section1: { 'sub-section': { key2: Buffer.from('value2') }, list1: ['item1', 'item2'] } }));
    expect(m.value('key1')).toEqual(Buffer.from('value1'));
    expect(m.section('section1')?.list('list1')).toEqual([Buffer.from('item1'), Buffer.from('item2')]);
  });
});

describe('nesting rules (vici_verify_type)', () => {
  const cases: [string, Buffer][] = [
    ['LIST_ITEM outside a list', b([5, 0, 1], 'x')],
    ['LIST_END outside a list', b([6])],
    ['SECTION_END at the root', b([2])],
    ['KEY_VALUE inside a list', b([4, 1], 'l', [3, 1], 'k', [0, 1], 'v', [6])],
    ['nested list', b([4, 1], 'l', [4, 1], 'm', [6, 6])],
    ['SECTION_START inside a list', b([4, 1], 'l', [1, 1], 's', [2, 6])],
    ['unclosed list', b([4, 1], 'l', [5, 0, 1], 'x')],
    ['unclosed nested section', b([1, 1], 'a', [1, 1], 'b', [2])],
    ['duplicate key', b([3, 1], 'k', [0, 1], 'v', [3, 1], 'k', [0, 1], 'w')],
    ['duplicate section/list name', b([1, 1], 's', [2], [4, 1], 's', [6])],
    ['element type 0 (VICI_START is internal)', b([0])],
    ['element type 7 (VICI_END is internal)', b([7])],
    ['unknown element type', b([9])],
    ['name overruns', b([3, 9], 'k')],
    ['missing name length', b([1])],
    ['value overruns', b([3, 1], 'k', [0, 9], 'v')],
    ['missing value length', b([3, 1], 'k', [0])],
  ];
  for (const [what, bytes] of cases) {
    it(`rejects ${what}`, () => {
      expect(() => decodeMessage(bytes)).toThrow(ViciProtocolError);
    });
  }

  it('allows the same key in different sections, and empty names', () => {
    const m = decodeMessage(b([3, 1], 'k', [0, 1], 'v', [1, 1], 's', [3, 1], 'k', [0, 1], 'w', [2], [3, 0], [0, 0]));
    expect(m.string('k')).toBe('v');
    expect(m.section('s')?.string('k')).toBe('w');
    expect(m.value('')).toEqual(Buffer.alloc(0));
  });

  it(`accepts ${MAX_SECTION_DEPTH} nested sections and refuses one more`, () => {
    const nest = (n: number): Buffer => Buffer.concat([...Array<Buffer>(n).fill(b([1, 1], 's')), Buffer.alloc(n, 2)]);
    expect(() => decodeMessage(nest(MAX_SECTION_DEPTH))).not.toThrow();
    expect(() => decodeMessage(nest(MAX_SECTION_DEPTH + 1))).toThrow(ViciProtocolError);
  });

  it('names the offset of the offending element', () => {
    try {
      decodeMessage(b([3, 1], 'k', [0, 1], 'v', [6]));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(ViciProtocolError);
      expect((e as ViciProtocolError).offset).toBe(6);
    }
  });

  it('decodes a sub-range of a buffer', () => {
    const buf = Buffer.concat([Buffer.from('junk'), b([3, 1], 'k', [0, 1], 'v'), Buffer.from('tail')]);
    expect(decodeMessage(buf, 4, buf.length - 4).toJSON()).toEqual({ k: 'v' });
  });
});

describe('encoder input', () => {
  it('writes numbers in decimal, bigints, booleans as yes/no, bytes as is, secrets revealed only into the wire', () => {
    const secret = SecretBytes.copyOf(Buffer.from([0, 1, 2, 0xff]));
    const m = decodeMessage(encodeMessage({ n: 42, neg: -1, big: 18446744073709551615n, t: true, f: false, raw: Buffer.from([0, 255]), u8: new Uint8Array([7]), s: secret }));
    expect(m.string('n')).toBe('42');
    expect(m.string('neg')).toBe('-1');
    expect(m.string('big')).toBe('18446744073709551615');
    expect(m.string('t')).toBe('yes');
    expect(m.string('f')).toBe('no');
    expect(m.value('raw')).toEqual(Buffer.from([0, 255]));
    expect(m.value('u8')).toEqual(Buffer.from([7]));
    expect(m.value('s')).toEqual(Buffer.from([0, 1, 2, 0xff]));
  });

  it('skips null and undefined entries', () => {
    expect(encodeMessage({ a: undefined, b: null, c: 'x' })).toEqual(encodeMessage({ c: 'x' }));
  });

  it('keeps Map order, including integer-like keys a plain object would move first', () => {
    const m = decodeMessage(encodeMessage(new Map<string, string>([['b', '1'], ['10', '2'], ['0', '3']])));
    expect([...m.keys()]).toEqual(['b', '10', '0']);
    expect([...decodeMessage(encodeMessage({ b: '1', 10: '2', 0: '3' })).keys()]).toEqual(['0', '10', 'b']);
  });

  it('encodes a decoded ViciMessage back to its bytes', () => {
    expect(encodeMessage(decodeMessage(README_EXAMPLE))).toEqual(README_EXAMPLE);
  });

  it('refuses what charon would reject or what does not fit', () => {
    const bad: [string, Parameters<typeof encodeMessage>[0]][] = [
      ['non-printable key', { 'a\nb': 'x' }],
      ['non-ASCII key', { 'clé': 'x' }],
      ['key over 255 bytes', { ['k'.repeat(256)]: 'x' }],
      ['value over 65535 bytes', { k: Buffer.alloc(65536) }],
      ['nested list', { l: [['x']] as unknown as string[] }],
      ['section in a list', { l: [{ a: 'x' }] as unknown as string[] }],
      ['fractional number', { n: 1.5 }],
      ['unsafe integer', { n: 2 ** 53 }],
      ['NaN', { n: Number.NaN }],
      ['function', { f: (() => 1) as unknown as string }],
      ['class instance', { d: new Date() as unknown as string }],
    ];
    for (const [what, input] of bad) expect(() => encodeMessage(input), what).toThrow(ViciEncodeError);
    expect(encodeMessage({ k: Buffer.alloc(65535) }).length).toBe(1 + 1 + 1 + 2 + 65535);
  });

  it('stops a reference cycle at the depth limit instead of overflowing the stack', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => encodeMessage(cyclic as never)).toThrow(ViciEncodeError);
  });

  it('never puts a value into an encode error message', () => {
    try {
      encodeMessage({ psk: { data: SecretBytes.copyOf(Buffer.alloc(70000, 0x41)) } });
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).toContain('psk.data');
      expect((e as Error).message).not.toContain('AAAA');
    }
  });
});

describe('ViciMessage.from', () => {
  it('builds the same tree the encoder writes', () => {
    const input = { key1: 'value1', section1: { 'sub-section': { key2: 'value2' }, list1: ['item1', 'item2'] } };
    expect(encodeMessage(ViciMessage.from(input))).toEqual(README_EXAMPLE);
  });

  it('refuses secrets: they go straight to the encoder', () => {
    expect(() => ViciMessage.from({ s: SecretBytes.copyOf(Buffer.from('k')) })).toThrow(ViciEncodeError);
  });
});

describe('load-conn request of swanctl (captured)', () => {
  // swanctl --load-conns (get-conns, then load-conn) built this request with
  // libvici from the host test's swanctl.conf.
  const request = packets(fixture('load-conn').toCharon).find((p) => p.name === 'load-conn');

  it('decodes and re-encodes byte for byte', () => {
    const msg = request?.message as Buffer;
    expect(encodeMessage(decodeMessage(msg))).toEqual(msg);
  });

  it('is what our encoder writes for the same connection given as a plain object', () => {
    // The swanctl.conf connection, in the order swanctl writes its keys.
    const tree = {
      lab: {
        version: 2,
        local_addrs: ['10.0.0.1'],
        remote_addrs: ['10.0.0.2'],
        proposals: ['aes128gcm16-prfsha256-x25519'],
        local: { auth: 'psk', id: 'a@vici' },
        remote: { auth: 'psk', id: 'b@vici' },
        children: {
          c1: {
            mode: 'tunnel',
            esp_proposals: ['aes128gcm16'],
            start_action: 'none',
            local_ts: ['10.1.1.0/24'],
            remote_ts: ['10.1.2.0/24'],
            mark_in: '0x2a/0xff',
            mark_out: '0x2b',
            if_id_in: 7,
            if_id_out: '0x1234',
          },
          c2: {
            mode: 'tunnel',
            esp_proposals: ['aes128gcm16'],
            start_action: 'none',
            local_ts: ['10.1.1.0/24[udp/10002]'],
            remote_ts: ['10.1.2.0/24[udp/10002]'],
          },
        },
      },
    };
    expect(encodeMessage(tree)).toEqual(request?.message);
  });
});
