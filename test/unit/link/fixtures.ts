// Loads the golden captures in ./fixtures (see fixtures/capture.ts for how
// each was made; every file's `captured` field names command and versions).
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { splitMessages, type NetlinkMessage } from '../../../src/netlink/message.js';

export interface Fixture {
  id: string;
  captured: { command: string; kernel: string; [k: string]: unknown };
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** each entry is one whole message: header + payload */
  sent: Buffer[];
  received: Buffer[];
}

const here = dirname(fileURLToPath(import.meta.url));
export const FIXTURE_DIR = join(here, 'fixtures');
export const LAB_FIXTURE_DIR = join(FIXTURE_DIR, 'lab');

interface RawFixture {
  captured: Fixture['captured'];
  exitCode?: number | null;
  stdout?: string;
  stderr?: string;
  sent?: string[];
  received?: string[];
}

export function loadFixture(id: string, dir = FIXTURE_DIR): Fixture {
  const raw = JSON.parse(readFileSync(join(dir, `${id}.json`), 'utf8')) as RawFixture;
  if (!raw.captured?.command || !raw.captured.kernel) throw new Error(`fixture ${id} does not say how it was captured`);
  return {
    id,
    captured: raw.captured,
    exitCode: raw.exitCode ?? null,
    stdout: raw.stdout ?? '',
    stderr: raw.stderr ?? '',
    sent: (raw.sent ?? []).map((h) => Buffer.from(h, 'hex')),
    received: (raw.received ?? []).map((h) => Buffer.from(h, 'hex')),
  };
}

export function fixtureIds(dir = FIXTURE_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** One whole message buffer -> NetlinkMessage. */
export function asMessage(b: Buffer): NetlinkMessage {
  const [m] = splitMessages(b);
  if (!m) throw new Error('not a netlink message');
  return m;
}
