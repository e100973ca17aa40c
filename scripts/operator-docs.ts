// Prints the generated sections of README.md, or rewrites them.
//   npx tsx scripts/operator-docs.ts [events|cli|config]   print one section (default: all)
//   npx tsx scripts/operator-docs.ts --write               update README.md in place
//   npx tsx scripts/operator-docs.ts --check               exit 1 when README.md is stale
import { readFileSync, writeFileSync } from 'node:fs';
import { DOC_PATH, SECTIONS, current, regenerate, section, type SectionName } from './docs/operator-sections.js';

const arg = process.argv[2];
if (arg === '--write' || arg === '--check') {
  const doc = readFileSync(DOC_PATH, 'utf8');
  const next = regenerate(doc);
  if (arg === '--write') {
    if (next !== doc) writeFileSync(DOC_PATH, next);
    console.log(next === doc ? 'README.md is up to date' : 'README.md updated');
  } else {
    const stale = SECTIONS.filter((n) => current(doc, n) !== section(n));
    if (stale.length) {
      console.error(`README.md is stale (${stale.join(', ')}): npx tsx scripts/operator-docs.ts --write`);
      process.exit(1);
    }
    console.log('README.md is up to date');
  }
} else if (arg === undefined) {
  for (const n of SECTIONS) console.log(`${section(n)}\n`);
} else if ((SECTIONS as readonly string[]).includes(arg)) {
  console.log(section(arg as SectionName));
} else {
  console.error(`usage: npx tsx scripts/operator-docs.ts [${SECTIONS.join('|')}|--write|--check]`);
  process.exit(2);
}
