// README.md's generated sections (log event catalogue, CLI reference,
// config reference) must match what the code says now.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOC_PATH, SECTIONS, current, section } from '../../../scripts/docs/operator-sections.js';

describe('README.md', () => {
  const doc = readFileSync(DOC_PATH, 'utf8');
  it.each(SECTIONS)('the generated %s section is current (else: npx tsx scripts/operator-docs.ts --write)', (name) => {
    const now = current(doc, name);
    expect(now, `README.md lacks the ${name} markers`).toBeDefined();
    expect(now).toBe(section(name));
  });

  it('the event section names every catalogued event and the CLI section every command', () => {
    expect(section('events')).toContain('`sa.fallback`');
    expect(section('cli')).toContain('#### ipsec-offload sa list');
    expect(section('cli')).toContain('#### ipsec-offload logs');
  });
});
