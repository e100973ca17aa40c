// Captures the lab-only link fixtures (kernel answers of Debian 6.1 with
// netdevsim: xfrm and vlan links, SR-IOV VF info, a VF list past 64 KiB,
// netdevsim's features) into test/unit/link/fixtures/lab/:
//
//   sudo npx tsx test/lab/link/capture-fixtures.ts [scenario-id ...]
//
// It boots one lab VM that runs test/unit/link/fixtures/capture.ts --lab
// (strace of iproute2/ethtool, as for the host fixtures).
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInLab } from '../harness/scenario.js';

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, '..', '..', 'unit', 'link', 'fixtures', 'lab');
const ids = process.argv.slice(2).filter((a) => /^[a-z0-9-]+$/.test(a));

const script = [
  'lab_modules',
  'mkdir -p "$LAB_RESULTS/fixtures"',
  `lab_node test/unit/link/fixtures/capture.ts --lab --out "$LAB_RESULTS/fixtures" ${ids.join(' ')}`,
].join('\n');

const run = (await runInLab('link-fixtures', script, { timeoutMs: 600_000, onOutput: (c) => process.stdout.write(c) })).expectSuccess();
mkdirSync(target, { recursive: true });
const dir = join(run.runDir, 'results', 'fixtures');
for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
  copyFileSync(join(dir, f), join(target, f));
  console.log(`wrote ${join(target, f)}`);
}
