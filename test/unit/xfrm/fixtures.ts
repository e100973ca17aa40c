// Loads the captured XFRM exchanges. iproute2/ holds strace captures of
// iproute2 6.1 (see capture/capture-iproute2.ts; every file's `captured`
// says command, versions and date); lab/ holds kernel dumps from the lab VM.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { splitMessages, type NetlinkMessage } from '../../../src/netlink/message.js';

export interface XfrmCapture {
  name: string;
  description: string;
  captured: Record<string, unknown> & { command: string; kernel: string };
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  datagrams: { direction: 'sent' | 'received'; hex: string }[];
}

const dir = (sub: string): URL => new URL(`./fixtures/${sub}/`, import.meta.url);

export function loadCapture(name: string, sub = 'iproute2'): XfrmCapture {
  return JSON.parse(readFileSync(new URL(`${name}.json`, dir(sub)), 'utf8')) as XfrmCapture;
}

export function captureNames(sub: string): string[] {
  const d = dir(sub);
  if (!existsSync(d)) return [];
  return readdirSync(d)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** Every netlink message of one direction, in order. */
export function messages(c: XfrmCapture, direction: 'sent' | 'received'): NetlinkMessage[] {
  return c.datagrams.filter((d) => d.direction === direction).flatMap((d) => splitMessages(Buffer.from(d.hex, 'hex')));
}

/** The one message iproute2 sent. */
export function sentMessage(c: XfrmCapture): NetlinkMessage {
  const m = messages(c, 'sent');
  if (m.length !== 1) throw new Error(`${c.name}: expected one sent message, found ${m.length}`);
  return m[0] as NetlinkMessage;
}

/** JSON.stringify that survives bigints (states carry u64 counters). */
export const toJson = (v: unknown): string => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x));
