// Log lines for people: time, level, event and the SA up front, the rest after.
import { describe, expect, it } from 'vitest';
import { prettyFormatter } from '../../../src/log/pretty.js';

const LINE = JSON.stringify({ level: 'warn', time: '2026-11-21T14:26:59.249Z', event: 'sa.fallback', spi: '0xc1a2b3c4', dir: 'out', conn: 'lab', child: 'gcm', uniqueid: 3, dev: 'nsim0', reason: 'capacity', errno: 'ENOSPC' });

describe('prettyFormatter', () => {
  it('puts the event, conn/child, direction and SPI first, without colours when asked', () => {
    const out = prettyFormatter(false)(LINE);
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.249\] WARN: sa\.fallback lab\/gcm out 0xc1a2b3c4 \{"uniqueid":3,"dev":"nsim0","reason":"capacity","errno":"ENOSPC"\}$/);
    expect(out).not.toContain('\u001b[');
  });

  it('colours on request (a terminal)', () => {
    const out = prettyFormatter(true)(LINE);
    expect(out).toContain('\u001b[');
    const sgr = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, 'g');
    expect(out.replace(sgr, '')).toBe(prettyFormatter(false)(LINE));
  });

  it('passes lines that are not JSON through', () => {
    expect(prettyFormatter(false)('not json')).toBe('not json');
  });
});
