import { describe, expect, it } from 'vitest';
import { prefixContains, selectorPrefix } from '../../../src/xfrmi/selectors.js';

describe('traffic selectors as route destinations', () => {
  it.each([
    ['10.2.0.0/24', '10.2.0.0/24'],
    ['10.2.0.7/24', '10.2.0.0/24'],
    ['10.2.0.0/24[udp/10002]', '10.2.0.0/24'],
    ['10.0.0.2/32', '10.0.0.2/32'],
    ['10.0.0.2', '10.0.0.2/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['fd02:0:0:0::5/64', 'fd02::/64'],
    ['::/0', '::/0'],
    ['fd02::1/128[tcp/443]', 'fd02::1/128'],
  ])('%s -> %s', (ts, cidr) => {
    const p = selectorPrefix(ts);
    expect(p.ok && p.prefix.cidr).toBe(cidr);
  });

  it.each([
    ['10.2.0.1..10.2.0.9', 'range'],
    ['dynamic', 'unparsable'],
    ['10.2.0.0/33', 'unparsable'],
    ['10.2.0.0/x', 'unparsable'],
  ])('%s is not a subnet (%s)', (ts, reason) => {
    expect(selectorPrefix(ts)).toEqual({ ok: false, reason });
  });

  it('containment, per family', () => {
    const p = selectorPrefix('10.0.0.0/8');
    if (!p.ok) throw new Error('unreachable');
    expect(prefixContains(p.prefix, '10.200.1.1')).toBe(true);
    expect(prefixContains(p.prefix, '11.0.0.1')).toBe(false);
    expect(prefixContains(p.prefix, '::ffff:10.0.0.1')).toBe(false);
    expect(prefixContains(p.prefix, 'nonsense')).toBe(false);
  });
});
