// Views of the `version` and `stats` responses (vici_query.c version(), stats()).
import type { ViciMessage } from '../wire/message.js';
import { required } from './fields.js';

export interface Version {
  /** lib->ns: "charon", "charon-systemd", ... */
  daemon: string;
  version: string;
  sysname: string;
  release: string;
  machine: string;
  raw: ViciMessage;
}

export function parseVersion(msg: ViciMessage): Version {
  const need = (k: string): string => required(msg, k, msg.string(k), 'a value');
  return { daemon: need('daemon'), version: need('version'), sysname: need('sysname'), release: need('release'), machine: need('machine'), raw: msg };
}

export interface Stats {
  uptime: { running: string; since: string };
  workers: { total: number; idle: number; active: Record<string, number> };
  /** jobs queued per priority (critical, high, medium, low) */
  queues: Record<string, number>;
  scheduled: number;
  ikesas: { total: number; halfOpen: number };
  plugins: string[];
  raw: ViciMessage;
}

function numbers(sec: ViciMessage | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  if (!sec) return out;
  for (const [k, v] of sec) if (Buffer.isBuffer(v)) out[k] = required(sec, k, sec.number(k), 'a decimal integer');
  return out;
}

export function parseStats(msg: ViciMessage): Stats {
  const uptime = msg.section('uptime');
  const workers = msg.section('workers');
  const ikesas = msg.section('ikesas');
  const num = (sec: ViciMessage | undefined, k: string): number => (sec ? required(sec, k, sec.number(k), 'a decimal integer') : 0);
  return {
    uptime: { running: uptime?.string('running') ?? '', since: uptime?.string('since') ?? '' },
    workers: { total: num(workers, 'total'), idle: num(workers, 'idle'), active: numbers(workers?.section('active')) },
    queues: numbers(msg.section('queues')),
    scheduled: required(msg, 'scheduled', msg.number('scheduled'), 'a decimal integer'),
    ikesas: { total: num(ikesas, 'total'), halfOpen: num(ikesas, 'half-open') },
    plugins: msg.strings('plugins') ?? [],
    raw: msg,
  };
}
