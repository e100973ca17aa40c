// Loads and validates the config file. A bad file is refused with one line per
// problem naming the key path and the reason; on reload the daemon keeps the
// previous config.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { ZodError } from 'zod';
import { configSchema, type Config } from './config-schema.js';

export const DEFAULT_CONFIG_PATH = '/etc/ipsec-offload/config.yaml';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly path: string,
    readonly problems: string[],
  ) {
    super(`invalid config ${path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

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
