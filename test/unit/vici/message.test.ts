// ViciMessage accessors: values stay bytes until asked, then parse strictly
// into the form asked for, with errors that name the key path.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ViciFieldError } from '../../../src/vici/wire/errors.js';
import { ViciMessage } from '../../../src/vici/wire/message.js';
import { decodeMessage } from '../../../src/vici/wire/elements.js';
import { fixture, packets } from './fixtures.js';

const m = ViciMessage.from({
  dec: '42',
  neg: '-7',
  hex: '0000002a',
  big: '18446744073709551615',
  yes: 'yes',
  no: 'no',
  one: '1',
  other: 'maybe',
  text: 'caf\u00e9',
  sec: { inner: { deep: 'x' } },
  list: ['a', 'b'],
});

describe('ViciMessage accessors', () => {
  it('parses decimal, negative and hex integers', () => {
    expect(m.number('dec')).toBe(42);
    expect(m.number('neg')).toBe(-7);
    expect(m.number('hex', 16)).toBe(42);
    expect(m.bigint('big')).toBe(18446744073709551615n);
    expect(m.bigint('hex', 16)).toBe(42n);
  });

  it('returns undefined for absent keys, whatever the accessor', () => {
    const readers: ((k: string) => unknown)[] = [(k) => m.value(k), (k) => m.string(k), (k) => m.number(k), (k) => m.bigint(k), (k) => m.bool(k), (k) => m.section(k), (k) => m.list(k), (k) => m.strings(k)];
    for (const read of readers) expect(read('absent')).toBeUndefined();
  });

  it('refuses text that is not exactly an integer', () => {
    for (const text of ['', ' 1', '1 ', '+1', '1.0', '0x2a', '1e3', '٣']) {
      const x = ViciMessage.from({ v: text });
      expect(() => x.number('v'), text).toThrow(ViciFieldError);
      expect(() => x.bigint('v'), text).toThrow(ViciFieldError);
    }
    expect(() => ViciMessage.from({ v: 'xyz' }).number('v', 16)).toThrow(ViciFieldError);
    expect(() => ViciMessage.from({ v: '-1' }).number('v', 16)).toThrow(ViciFieldError);
  });

  it('refuses integers beyond 2^53 as numbers but gives them as bigint', () => {
    expect(() => m.number('big')).toThrow(ViciFieldError);
    expect(m.bigint('big')).toBe(2n ** 64n - 1n);
  });

  it('reads flags as charon writes them', () => {
    expect(m.bool('yes')).toBe(true);
    expect(m.bool('one')).toBe(true);
    expect(m.bool('no')).toBe(false);
    expect(() => m.bool('other')).toThrow(ViciFieldError);
  });

  it('decodes text as UTF-8 and lists as strings', () => {
    expect(m.string('text')).toBe('café');
    expect(m.strings('list')).toEqual(['a', 'b']);
    expect(m.list('list')).toEqual([Buffer.from('a'), Buffer.from('b')]);
  });

  it('refuses the wrong kind of entry and names the path', () => {
    expect(() => m.section('list')).toThrow(ViciFieldError);
    expect(() => m.list('sec')).toThrow(ViciFieldError);
    expect(() => m.string('sec')).toThrow(ViciFieldError);
    try {
      m.section('sec')?.section('inner')?.list('deep');
      expect.unreachable();
    } catch (e) {
      expect((e as ViciFieldError).path).toBe('sec.inner.deep');
    }
    expect(m.section('sec')?.section('inner')?.path).toBe('sec.inner');
  });

  it('does not print values in field errors', () => {
    try {
      ViciMessage.from({ secretish: 'hunter2' }).number('secretish');
      expect.unreachable();
    } catch (e) {
      expect((e as Error).message).not.toContain('hunter2');
      expect((e as Error).message).toContain('secretish');
    }
  });

  it('lists sub-sections in order, skipping values and lists', () => {
    const x = ViciMessage.from({ up: 'yes', b: { k: '1' }, l: [], a: {} });
    expect(x.sections().map(([k]) => k)).toEqual(['b', 'a']);
  });

  it('renders as JSON and in inspect output without internals', () => {
    expect(m.section('sec')?.toJSON()).toEqual({ inner: { deep: 'x' } });
    expect(inspect(ViciMessage.from({ a: { b: ['c'] } }), { depth: 5 })).toBe("ViciMessage { a: { b: [ 'c' ] } }");
    expect(JSON.stringify(ViciMessage.from({ a: '1' }))).toBe('{"a":"1"}');
  });

  it('keeps integer-like keys in wire order (get-pools leases are keyed "0", "1", ...)', () => {
    // section "10" { k = v }, then section "0" {}
    const wire = Buffer.concat([Buffer.from([1, 2]), Buffer.from('10'), Buffer.from([3, 1]), Buffer.from('k'), Buffer.from([0, 1]), Buffer.from('v'), Buffer.from([2, 1, 1]), Buffer.from('0'), Buffer.from([2])]);
    const ok = decodeMessage(wire);
    expect([...ok.keys()]).toEqual(['10', '0']);
    expect(ok.sections().map(([k]) => k)).toEqual(['10', '0']);
  });

  it('iterates entries of a captured reply', () => {
    const reply = packets(fixture('version').fromCharon)[0];
    const v = decodeMessage(reply?.message as Buffer);
    expect([...v.keys()]).toEqual(['daemon', 'version', 'sysname', 'release', 'machine']);
    expect(v.size).toBe(5);
    expect(v.has('daemon')).toBe(true);
  });
});
