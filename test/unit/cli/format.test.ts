// Human output helpers: aligned columns, byte and age units, JSON with bigints.
import { describe, expect, it } from 'vitest';
import { age, bytes, json, table } from '../../../src/cli/format.js';

describe('table', () => {
  it('aligns every column but the last and trims trailing space', () => {
    const t = table(['A', 'LONGER', 'C'], [['x', 'y', 'z'], ['xxxx', '', 'last column stays unpadded']]);
    expect(t.split('\n')).toEqual(['A     LONGER  C', 'x     y       z', 'xxxx          last column stays unpadded']);
  });
  it('prints only the header for no rows', () => {
    expect(table(['A', 'B'], [])).toBe('A  B');
  });
});

describe('units', () => {
  it.each([
    [0, '0B'],
    [1023, '1023B'],
    [1024, '1.0KiB'],
    [1536, '1.5KiB'],
    ['1073741824', '1.0GiB'],
  ])('bytes(%s) = %s', (n, s) => expect(bytes(n)).toBe(s));
  it.each([
    [5, '5s'],
    [65, '1m05s'],
    [3600, '1h00m'],
    [90061, '1d01h'],
  ])('age(%s) = %s', (n, s) => expect(age(n)).toBe(s));
  it('json renders bigints as strings', () => {
    expect(JSON.parse(json({ bytes: 2n ** 70n }))).toEqual({ bytes: '1180591620717411303424' });
  });
});
