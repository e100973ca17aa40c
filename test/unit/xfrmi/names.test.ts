import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { expandName, templateIfIds, templateProblems } from '../../../src/xfrmi/names.js';

describe('interface name templates', () => {
  it.each([
    ['xfrm{ifid}', 1, 'io', 'xfrm1'],
    ['xfrm{ifid}', 4294967295, 'io', 'xfrm4294967295'],
    ['ipsec{ifid}-{dir}', 7, 'in', 'ipsec7-in'],
    ['x-{ifid_hex}', 0x1234, 'out', 'x-1234'],
  ] as const)('%s with if_id %d (%s) is %s', (t, id, use, name) => {
    expect(expandName(t, id, use)).toBe(name);
    expect(templateIfIds(t, name)).toEqual([id]);
  });

  it('names the template does not give', () => {
    expect(templateIfIds('xfrm{ifid}', 'xfrm0')).toEqual([]);
    expect(templateIfIds('xfrm{ifid}', 'xfrm01')).toEqual([]);
    expect(templateIfIds('xfrm{ifid}', 'xfrmx')).toEqual([]);
    expect(templateIfIds('xfrm{ifid}', 'vpn5')).toEqual([]);
    expect(templateIfIds('xfrm{ifid}', 'xfrm4294967296')).toEqual([]);
    // two tokens that disagree name no if_id
    expect(templateIfIds('x{ifid}-{ifid_hex}', 'x10-b')).toEqual([]);
    expect(templateIfIds('x{ifid}-{ifid_hex}', 'x11-b')).toEqual([11]);
    // regex characters in the template are literal
    expect(templateIfIds('x.{ifid}', 'xa5')).toEqual([]);
  });

  it('valid templates', () => {
    for (const t of ['xfrm{ifid}', '{ifid}', 'ipsec{ifid}-{dir}', 'v{ifid_hex}']) expect(templateProblems(t)).toEqual([]);
  });

  it('property: every if_id round-trips through a template (the config check relies on it)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0xffffffff }), fc.constantFrom('xfrm{ifid}', 'ipsec{ifid}-{dir}', 'x{ifid_hex}', '{ifid}v'), fc.constantFrom('in', 'out', 'io'), (id, t, use) => {
        expect(templateIfIds(t, expandName(t, id, use as 'in' | 'out' | 'io'))).toEqual([id]);
      }),
    );
  });
});
