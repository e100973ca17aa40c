// The event catalogue is the single list of log events: every event name the
// source writes (typed log.event(...) or a raw pino call with `event: '...'`)
// must be in it, and every entry must say when it is written and at what level.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_CATALOGUE } from '../../../src/log/events.js';

const SRC = new URL('../../../src/', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

/** Event names written anywhere in src/, with the file that writes them. */
function writtenEvents(): Map<string, string> {
  const found = new Map<string, string>();
  for (const f of sources(SRC)) {
    if (f.endsWith('/log/events.ts')) continue;
    const text = readFileSync(f, 'utf8');
    for (const re of [/\.event\(\s*'([a-z0-9_.]+)'/g, /\bevent:\s*'([a-z0-9_.]+)'/g]) {
      for (const m of text.matchAll(re)) if (m[1]) found.set(m[1], f.slice(SRC.length));
    }
  }
  return found;
}

describe('log event catalogue', () => {
  it('finds the events the source writes (the scan itself works)', () => {
    const w = writtenEvents();
    for (const known of ['sa.offloaded', 'device.down', 'config.invalid', 'control.rejected', 'vici.connected']) expect(w.has(known)).toBe(true);
  });

  it('lists every event the source writes', () => {
    const missing = [...writtenEvents()].filter(([name]) => !(name in EVENT_CATALOGUE)).map(([name, file]) => `${name} (${file})`);
    expect(missing, 'add these to LogEvents and EVENT_CATALOGUE in src/log/events.ts').toEqual([]);
  });

  it('names are lower-case dotted words', () => {
    for (const name of Object.keys(EVENT_CATALOGUE)) expect(name).toMatch(/^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/);
  });

  it('every entry says when, at what level, and documents each field', () => {
    for (const [name, doc] of Object.entries(EVENT_CATALOGUE)) {
      expect(doc.when.length, name).toBeGreaterThan(10);
      expect(['debug', 'info', 'warn', 'error', 'info or warn'], name).toContain(doc.level);
      for (const [field, text] of Object.entries(doc.fields as Record<string, string>)) expect(text.length, `${name}.${field}`).toBeGreaterThan(2);
    }
  });
});
