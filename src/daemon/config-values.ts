// Value types shared by every section of the config file (the daemon's own
// and the ones the xfrmi, steer and vf modules embed), so a duration or an
// interface name is spelled and checked the same way everywhere.
import { z } from 'zod';

/** 500ms, 30s, 5m, 1h, or a number of seconds; parsed to milliseconds. */
export const duration = z
  .union([z.number().nonnegative(), z.string().regex(/^\d+(\.\d+)?(ms|s|m|h)$/, 'a duration like 500ms, 30s, 5m or 1h')])
  .transform((v) => (typeof v === 'number' ? v * 1000 : parseDuration(v)));

function parseDuration(v: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(v) as RegExpExecArray;
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n * 3_600_000;
}

/** IFNAMSIZ - 1: the kernel refuses longer names. */
export const IFNAME_MAX = 15;

export const ifname = z
  .string()
  .min(1)
  .max(IFNAME_MAX, `interface names have at most ${IFNAME_MAX} characters`)
  .regex(/^[^\s/:]+$/, 'not a valid interface name');

/** A name from `ip netns list`. */
export const netnsName = z.string().regex(/^[A-Za-z0-9_.-]+$/, 'a network namespace name as in /run/netns');
