// Loads and validates the config file. A bad file is refused with one line per
// problem naming the key path and the reason; on reload the daemon keeps the
// previous config.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { ZodError } from 'zod';
import { configSchema, type Config } from './config-schema.js';
import { ConfigError } from './config-error.js';

export { ConfigError };

export function parseConfig(text: string, path = '<config>'): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length) {
    throw new ConfigError(
      path,
      doc.errors.map((e) => `line ${(e.linePos?.[0]?.line ?? 0) || '?'}: ${e.message.split('\n')[0]}`),
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  const r = configSchema.safeParse(raw);
  if (!r.success) throw new ConfigError(path, describeZod(r.error));
  return r.data;
}

export function loadConfig(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new ConfigError(path, [err.code === 'ENOENT' ? 'file not found (see packaging/config.example.yaml)' : err.message]);
  }
  return parseConfig(text, path);
}

function describeZod(e: ZodError): string[] {
  return e.issues.map((i) => {
    const at = i.path.length ? i.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') : '(top level)';
    if (i.code === 'invalid_key') return `${at}: ${i.issues[0]?.message ?? i.message}`;
    if (i.code === 'unrecognized_keys') return `${at}: unknown key${i.keys.length > 1 ? 's' : ''} ${i.keys.map((k) => JSON.stringify(k)).join(', ')}`;
    return `${at}: ${i.message}`;
  });
}

/** Keys read once at start: a reload that changes them is applied only by a restart. */
export const RESTART_KEYS: readonly string[] = [
  'netns',
  'vici.socket',
  'vici.timeout',
  'control.socket',
  'control.group',
  'log.file',
  'log.stderr',
  'offload.resync_interval',
];

/** The RESTART_KEYS whose value differs between two configs. */
export function restartKeys(before: Config, after: Config): string[] {
  const at = (c: Config, path: string): unknown => path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], c);
  return RESTART_KEYS.filter((k) => JSON.stringify(at(before, k)) !== JSON.stringify(at(after, k)));
}
