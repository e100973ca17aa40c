// Loads captured netlink exchanges (scripts/dev/capture-netlink.mjs output).
import { readFileSync } from 'node:fs';

export interface Capture {
  captured: string;
  datagrams: { dir: 'send' | 'recv'; hex: string }[];
}

export function loadCapture(name: string): Capture {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as Capture;
}

export function datagrams(c: Capture, dir: 'send' | 'recv'): Buffer[] {
  return c.datagrams.filter((d) => d.dir === dir).map((d) => Buffer.from(d.hex, 'hex'));
}
