// Captures the lab-only XFRM fixtures (kernel answers and notifications of
// Debian 6.1 with netdevsim: ALG_AEAD, OFFLOAD_DEV, REPLAY_ESN_VAL, LTIME_VAL,
// DELSA with a final ESN state) into test/unit/xfrm/fixtures/lab/:
//
//   sudo npx tsx test/lab/xfrm/capture-fixtures.ts
//
// It boots one lab VM running xfrm.sh (the same scenario as xfrm.test.ts),
// whose guest program records the raw kernel messages beside its results.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runInLab, scenarioScript } from '../harness/scenario.js';

const here = dirname(fileURLToPath(import.meta.url));
const target = join(here, '..', '..', 'unit', 'xfrm', 'fixtures', 'lab');

const run = (await runInLab('xfrm-fixtures', scenarioScript(import.meta.url, 'xfrm.sh'), { timeoutMs: 600_000, onOutput: (c) => process.stdout.write(c) })).expectSuccess();
mkdirSync(target, { recursive: true });
const dir = join(run.runDir, 'results', 'fixtures');
for (const f of readdirSync(dir).filter((n) => n.endsWith('.json'))) {
  copyFileSync(join(dir, f), join(target, f));
  console.log(`wrote ${join(target, f)}`);
}
