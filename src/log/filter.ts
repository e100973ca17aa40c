// Which log lines an operator asked for (`ipsec-offload logs --event --conn
// --spi --level --since`). Pure: options in, a predicate on parsed lines out.
import { connMatcher, globToRegExp } from '../offload/policy.js';
import { EVENT_CATALOGUE, spiText } from './events.js';

export class LogFilterError extends Error {
  override readonly name = 'LogFilterError';
  constructor(
    readonly option: string,
    message: string,
  ) {
    super(`--${option}: ${message}`);
  }
}

export interface LogFilterOptions {
  /** comma-separated event names or globs: "sa.*,device.down" */
  event?: string;
  /** conn, conn/child, or globs (as `sa list --conn`) */
  conn?: string;
  /** 0xc1a2b3c4 or c1a2b3c4 */
  spi?: string;
  /** minimum level */
  level?: string;
  /** 30s, 10m, 2h, 1d ago; an ISO date/time; or HH:MM[:SS] today */
  since?: string;
}

export const LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'] as const;
const RANK: Record<string, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, fatal: 5 };

export interface LogFilter {
  /** ms since the epoch; lines before it are skipped */
  since?: number;
  test(line: Record<string, unknown>): boolean;
}

export function parseLogFilter(o: LogFilterOptions, now: number): LogFilter {
  const tests: ((l: Record<string, unknown>) => boolean)[] = [];
  if (o.event !== undefined) {
    const res = o.event
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((name) => {
        if (!name.includes('*') && !(name in EVENT_CATALOGUE)) {
          const near = Object.keys(EVENT_CATALOGUE).filter((e) => e.startsWith(name.split('.')[0] ?? name));
          throw new LogFilterError('event', `no event named ${JSON.stringify(name)}${near.length ? ` (did you mean ${near.slice(0, 6).join(', ')}?)` : ''}; globs like "sa.*" work`);
        }
        return globToRegExp(name);
      });
    if (res.length === 0) throw new LogFilterError('event', 'give event names or globs, e.g. "sa.*,device.down"');
    tests.push((l) => typeof l.event === 'string' && res.some((re) => re.test(l.event as string)));
  }
  if (o.conn !== undefined) {
    const m = connMatcher(o.conn);
    tests.push((l) => typeof l.conn === 'string' && m(l.conn, typeof l.child === 'string' ? l.child : ''));
  }
  if (o.spi !== undefined) {
    const spi = parseSpi(o.spi);
    tests.push((l) => l.spi === spi);
  }
  if (o.level !== undefined) {
    const min = (LEVELS as readonly string[]).includes(o.level) ? RANK[o.level] : undefined;
    if (min === undefined) throw new LogFilterError('level', `one of ${LEVELS.join(', ')}`);
    tests.push((l) => (RANK[String(l.level)] ?? 2) >= min);
  }
  let since: number | undefined;
  if (o.since !== undefined) {
    const t = parseSince(o.since, now);
    since = t;
    tests.push((l) => {
      const at = typeof l.time === 'string' ? Date.parse(l.time) : typeof l.time === 'number' ? l.time : NaN;
      return !Number.isNaN(at) && at >= t;
    });
  }
  return { ...(since !== undefined ? { since } : {}), test: (l) => tests.every((t) => t(l)) };
}

/** SPI as the log writes it (0x + 8 hex digits). */
export function parseSpi(text: string): string {
  const m = /^(?:0x)?([0-9a-f]{1,8})$/i.exec(text.trim());
  if (!m?.[1]) throw new LogFilterError('spi', `${JSON.stringify(text)} is not an SPI (8 hex digits, e.g. 0xc1a2b3c4)`);
  return spiText(parseInt(m[1], 16));
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "10m" (ago), "2026-11-21T14:00:00Z", "2026-11-21 14:00", "14:00" (today, local time). */
export function parseSince(text: string, now: number): number {
  const t = text.trim();
  const ago = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(t);
  if (ago?.[1] && ago[2]) return now - Number(ago[1]) * (UNIT_MS[ago[2]] ?? 0);
  const clock = /^(\d{1,2}):(\d{2})(?::(\d{2}))?$/.exec(t);
  if (clock) {
    const d = new Date(now);
    d.setHours(Number(clock[1]), Number(clock[2]), Number(clock[3] ?? 0), 0);
    if (Number(clock[1]) < 24 && Number(clock[2]) < 60) return d.getTime();
  }
  if (/^\d{4}-\d{2}-\d{2}/.test(t)) {
    const at = Date.parse(t.replace(' ', 'T'));
    if (!Number.isNaN(at)) return at;
  }
  throw new LogFilterError('since', `${JSON.stringify(text)}: give a duration ago (30s, 10m, 2h, 1d), a time today (14:05) or a date (2026-11-21T14:05:00Z)`);
}

/** Parses a log line; undefined for anything that is not a JSON object. */
export function parseLine(line: string): Record<string, unknown> | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const v: unknown = JSON.parse(line);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
