// `ipsec-offload logs` filters: events by name or glob (typos refused), conn
// globs as in `sa list`, SPI in any spelling, minimum level, since.
import { describe, expect, it } from 'vitest';
import { LogFilterError, parseLine, parseLogFilter, parseSince, parseSpi } from '../../../src/log/filter.js';

const NOW = Date.parse('2026-11-21T14:00:00Z');
const line = (o: Record<string, unknown>): Record<string, unknown> => ({ level: 'info', time: '2026-11-21T13:59:00.000Z', ...o });

describe('parseLogFilter', () => {
  it('matches events by name and glob', () => {
    const f = parseLogFilter({ event: 'sa.*, device.down' }, NOW);
    expect(f.test(line({ event: 'sa.offloaded' }))).toBe(true);
    expect(f.test(line({ event: 'device.down' }))).toBe(true);
    expect(f.test(line({ event: 'device.up' }))).toBe(false);
    expect(f.test(line({}))).toBe(false);
  });

  it('refuses an event name that does not exist, suggesting its family', () => {
    expect(() => parseLogFilter({ event: 'sa.offload' }, NOW)).toThrow(LogFilterError);
    expect(() => parseLogFilter({ event: 'sa.offload' }, NOW)).toThrow(/--event: no event named "sa.offload" \(did you mean sa\.installed, sa\.offloaded/);
    expect(() => parseLogFilter({ event: ' , ' }, NOW)).toThrow(/--event/);
  });

  it('matches conn like sa list --conn (conn, conn/child, globs)', () => {
    const ev = line({ event: 'sa.offloaded', conn: 'site-a', child: 'bulk' });
    expect(parseLogFilter({ conn: 'site-a' }, NOW).test(ev)).toBe(true);
    expect(parseLogFilter({ conn: 'site-*/bulk' }, NOW).test(ev)).toBe(true);
    expect(parseLogFilter({ conn: 'site-*/voice' }, NOW).test(ev)).toBe(false);
    expect(parseLogFilter({ conn: 'site-a' }, NOW).test(line({ event: 'device.up' }))).toBe(false);
  });

  it('matches the SPI however it is typed', () => {
    const ev = line({ event: 'sa.swap', spi: '0x00c0ffee' });
    for (const s of ['0x00c0ffee', '0xC0FFEE', 'c0ffee', '00c0ffee']) expect(parseLogFilter({ spi: s }, NOW).test(ev), s).toBe(true);
    expect(parseLogFilter({ spi: '0xc0ffef' }, NOW).test(ev)).toBe(false);
    expect(() => parseSpi('0x1234567890')).toThrow(/--spi/);
    expect(() => parseSpi('zz')).toThrow(/--spi/);
  });

  it('keeps the given level and above', () => {
    const f = parseLogFilter({ level: 'warn' }, NOW);
    expect(f.test(line({ level: 'warn' }))).toBe(true);
    expect(f.test(line({ level: 'error' }))).toBe(true);
    expect(f.test(line({ level: 'info' }))).toBe(false);
    expect(f.test(line({ level: 'debug' }))).toBe(false);
    expect(() => parseLogFilter({ level: 'loud' }, NOW)).toThrow(/--level: one of debug, info, warn, error, fatal/);
  });

  it('keeps lines since a time; lines without a time do not pass', () => {
    const f = parseLogFilter({ since: '30s' }, NOW);
    expect(f.since).toBe(NOW - 30_000);
    expect(f.test(line({ time: '2026-11-21T13:59:45.000Z' }))).toBe(true);
    expect(f.test(line({ time: '2026-11-21T13:59:00.000Z' }))).toBe(false);
    expect(f.test({ level: 'info' })).toBe(false);
  });

  it('combines filters with AND', () => {
    const f = parseLogFilter({ event: 'sa.*', level: 'warn' }, NOW);
    expect(f.test(line({ event: 'sa.fallback', level: 'warn' }))).toBe(true);
    expect(f.test(line({ event: 'sa.offloaded', level: 'info' }))).toBe(false);
    expect(f.test(line({ event: 'device.down', level: 'warn' }))).toBe(false);
  });
});

describe('parseSince', () => {
  it.each([
    ['45s', NOW - 45_000],
    ['10m', NOW - 600_000],
    ['1.5h', NOW - 5_400_000],
    ['2d', NOW - 172_800_000],
    ['2026-11-21T13:00:00Z', Date.parse('2026-11-21T13:00:00Z')],
  ])('%s', (text, at) => expect(parseSince(text, NOW)).toBe(at));

  it('HH:MM is today in local time', () => {
    const d = new Date(NOW);
    d.setHours(9, 30, 0, 0);
    expect(parseSince('09:30', NOW)).toBe(d.getTime());
  });

  it.each(['yesterday', '10 minutes', '25:00', '2026-13-45'])('refuses %s', (text) => expect(() => parseSince(text, NOW)).toThrow(/--since/));
});

describe('parseLine', () => {
  it('parses JSON objects only', () => {
    expect(parseLine('{"a":1}')).toEqual({ a: 1 });
    expect(parseLine('[1]')).toBeUndefined();
    expect(parseLine('{"a":')).toBeUndefined();
    expect(parseLine('plain text')).toBeUndefined();
  });
});
