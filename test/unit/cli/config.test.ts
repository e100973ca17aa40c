// The config file: the shipped example is valid and shows the defaults; with
// its "# key: value" examples uncommented it is still valid and names every
// key the schema has; errors name the key path and the reason.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { ConfigError, RESTART_KEYS, parseConfig, restartKeys } from '../../../src/daemon/config.js';
import { configSchema } from '../../../src/daemon/config-schema.js';

const EXAMPLE = readFileSync(new URL('../../../packaging/config.example.yaml', import.meta.url), 'utf8');

/** "# key: value" and "# - key: value" lines become settings; prose comments stay. */
function uncommented(text: string): string {
  return text
    .split('\n')
    .map((l) => l.replace(/^(\s*)# (\s*(?:- )?[a-z_0-9"]+:(?: .*)?)$/, '$1$2'))
    .join('\n');
}

interface ZodLike {
  _zod: { def: { type: string; shape?: Record<string, ZodLike>; innerType?: ZodLike; element?: ZodLike; valueType?: ZodLike; in?: ZodLike } };
}

/** Every leaf key path of the schema: records as "*", arrays as "[]". */
function schemaPaths(s: ZodLike, prefix: string): string[] {
  const d = s._zod.def;
  switch (d.type) {
    case 'object':
      return Object.entries(d.shape ?? {}).flatMap(([k, v]) => schemaPaths(v, prefix ? `${prefix}.${k}` : k));
    case 'default':
    case 'prefault':
    case 'optional':
    case 'nullable':
      return schemaPaths(d.innerType as ZodLike, prefix);
    case 'record':
      return schemaPaths(d.valueType as ZodLike, `${prefix}.*`);
    case 'array':
      return schemaPaths(d.element as ZodLike, `${prefix}[]`);
    default:
      return [prefix];
  }
}

/** Every leaf key path of a parsed YAML value, in the same notation, given which paths are records. */
function valuePaths(v: unknown, prefix: string, records: Set<string>): string[] {
  if (Array.isArray(v)) return v.flatMap((x) => valuePaths(x, `${prefix}[]`, records));
  if (typeof v === 'object' && v !== null) {
    return Object.entries(v).flatMap(([k, x]) => {
      const key = records.has(prefix) ? '*' : k;
      return valuePaths(x, prefix ? `${prefix}.${key}` : key, records);
    });
  }
  return [prefix];
}

describe('packaging/config.example.yaml', () => {
  it('as shipped, is valid and changes nothing: every value shown is the default', () => {
    expect(parseConfig(EXAMPLE)).toEqual(parseConfig(''));
  });

  it('with its examples uncommented, is valid and sets every key the schema knows', () => {
    const text = uncommented(EXAMPLE);
    expect(text).not.toBe(EXAMPLE);
    const raw = parseConfig(text); // throws ConfigError naming any bad key
    expect(raw.offload.rules.length).toBeGreaterThan(0);
    const schema = schemaPaths(configSchema as unknown as ZodLike, '').sort();
    expect(schema).toContain('offload.devices.*.capacity'); // the walk reaches records and arrays
    expect(schema).toContain('offload.rules[].device');
    const records = new Set(schema.filter((p) => p.includes('.*')).map((p) => p.slice(0, p.indexOf('.*'))));
    const documented = new Set(valuePaths(parseDocument(text).toJS(), '', records));
    expect(schema.filter((p) => !documented.has(p)), 'keys missing from packaging/config.example.yaml').toEqual([]);
  });
});

describe('config errors', () => {
  function problems(text: string): string[] {
    try {
      parseConfig(text, 'test.yaml');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).problems;
    }
    throw new Error('expected a ConfigError');
  }

  it('names the key path and the reason, one line per problem', () => {
    expect(problems('offload:\n  backoff: soon\n  rules:\n    - match: x\n      offload: maybe\n')).toEqual([
      'offload.rules[0].offload: Invalid input: expected boolean, received string',
      'offload.backoff: a duration like 500ms, 30s, 5m or 1h',
    ]);
  });

  it('refuses unknown keys (a typo is not silently ignored)', () => {
    expect(problems('log:\n  levle: debug\n')).toEqual(['log: unknown key "levle"']);
    expect(problems('offlaod: {}\n')).toEqual(['(top level): unknown key "offlaod"']);
  });

  it('reports YAML syntax errors with the line', () => {
    const p = problems('log:\n  level: info\n   file: x\n');
    expect(p.length).toBeGreaterThan(0);
    for (const line of p) expect(line).toMatch(/^line 2: /);
  });

  it('the error message names the file', () => {
    expect(() => parseConfig('netns: "a b"\n', '/etc/ipsec-offload/config.yaml')).toThrow(/^invalid config \/etc\/ipsec-offload\/config\.yaml:\n {2}- netns: /);
  });
});

describe('restartKeys', () => {
  it('names the changed keys that need a restart, and only those', () => {
    const a = parseConfig('');
    const b = parseConfig('log:\n  file: /tmp/x.log\n  level: debug\nvici:\n  socket: /run/x.vici\noffload:\n  default: false\n');
    expect(restartKeys(a, b)).toEqual(['vici.socket', 'log.file']);
    expect(restartKeys(a, a)).toEqual([]);
    for (const k of RESTART_KEYS) expect(k).toMatch(/^[a-z_]+(\.[a-z_]+)?$/);
  });
});
