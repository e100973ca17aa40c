// The generated parts of README.md: the log event catalogue (from
// src/log/events.ts), the CLI reference (from the commander program's own
// help) and the config reference (packaging/config.example.yaml). Each sits
// between BEGIN/END GENERATED markers; scripts/operator-docs.ts rewrites them
// and test/unit/cli/operator-docs.test.ts fails when they are stale.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { COMMON_FIELDS, EVENT_CATALOGUE, type EventDoc } from '../../src/log/events.js';
import { buildProgram } from '../../src/cli/main.js';

export const DOC_PATH = new URL('../../README.md', import.meta.url);
export const CONFIG_EXAMPLE_PATH = new URL('../../packaging/config.example.yaml', import.meta.url);
export const SECTIONS = ['events', 'cli', 'config'] as const;
export type SectionName = (typeof SECTIONS)[number];

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function eventsSection(): string {
  const groups = new Map<string, [string, EventDoc<Record<string, unknown>>][]>();
  for (const [name, doc] of Object.entries(EVENT_CATALOGUE) as [string, EventDoc<Record<string, unknown>>][]) {
    const g = name.split('.')[0] ?? name;
    groups.set(g, [...(groups.get(g) ?? []), [name, doc]]);
  }
  const out: string[] = [
    'Every line has ' + Object.entries(COMMON_FIELDS).map(([k, v]) => `\`${k}\` (${v})`).join(', ') + ', then the fields below.',
    'Optional fields are left out when they do not apply.',
    '',
  ];
  for (const [g, events] of groups) {
    out.push(`#### ${g}`, '', '| event | level | when | fields |', '|---|---|---|---|');
    for (const [name, doc] of events) {
      const fields = Object.entries(doc.fields as Record<string, string>)
        .map(([k, v]) => `\`${k}\`: ${cell(v)}`)
        .join('<br>');
      out.push(`| \`${name}\` | ${doc.level} | ${cell(doc.when)} | ${fields} |`);
    }
    out.push('');
  }
  return out.join('\n').trimEnd();
}

/** `--help` of every command, as a user sees it at 100 columns. */
export function cliSection(): string {
  const saved = process.env.IPSEC_OFFLOAD_CONFIG;
  delete process.env.IPSEC_OFFLOAD_CONFIG;
  try {
    const { program } = buildProgram();
    const out: string[] = [];
    const walk = (cmd: Command, path: string[]): void => {
      let text = '';
      cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s), getOutHelpWidth: () => 100, getErrHelpWidth: () => 100, getOutHasColors: () => false });
      cmd.outputHelp();
      out.push(`#### ${['ipsec-offload', ...path].join(' ')}`, '', '```text', text.trimEnd(), '```', '');
      for (const sub of cmd.commands) walk(sub, [...path, sub.name()]);
    };
    walk(program, []);
    return out.join('\n').trimEnd();
  } finally {
    if (saved !== undefined) process.env.IPSEC_OFFLOAD_CONFIG = saved;
  }
}

export function configSection(): string {
  return ['```yaml', readFileSync(CONFIG_EXAMPLE_PATH, 'utf8').trimEnd(), '```'].join('\n');
}

export function section(name: SectionName): string {
  return name === 'events' ? eventsSection() : name === 'cli' ? cliSection() : configSection();
}

export const begin = (name: SectionName): string => `<!-- BEGIN GENERATED ${name}: npx tsx scripts/operator-docs.ts --write -->`;
export const end = (name: SectionName): string => `<!-- END GENERATED ${name} -->`;

/** The text between a section's markers in `doc`, or undefined when the markers are missing. */
export function current(doc: string, name: SectionName): string | undefined {
  const a = doc.indexOf(begin(name));
  const b = doc.indexOf(end(name));
  if (a < 0 || b < a) return undefined;
  return doc.slice(a + begin(name).length, b).trim();
}

/** `doc` with every section regenerated. */
export function regenerate(doc: string): string {
  let d = doc;
  for (const name of SECTIONS) {
    const a = d.indexOf(begin(name));
    const b = d.indexOf(end(name));
    if (a < 0 || b < a) throw new Error(`README.md has no ${begin(name)} ... ${end(name)} markers`);
    d = `${d.slice(0, a + begin(name).length)}\n\n${section(name)}\n\n${d.slice(b)}`;
  }
  return d;
}
