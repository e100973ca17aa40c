// Compiles bench/vici-list-sas-once.ts (and the src/vici files it imports) to
// plain JS with the project's tsc, so a fresh-process timing is node's own
// start-up, not tsx's transpiling.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot as ROOT } from '../test/lab/harness/paths.js';

export { ROOT };

/** Compiles into outDir; returns the path of the one-shot lister's .js. */
export function compileOnceLister(outDir: string): string {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = [tsc, '--outDir', outDir, '--rootDir', ROOT, '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2023', '--types', 'node', '--strict', '--skipLibCheck', join(ROOT, 'bench', 'vici-list-sas-once.ts')];
  const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsc failed: ${r.stdout}${r.stderr}`);
  writeFileSync(join(outDir, 'package.json'), '{"type":"module"}\n');
  return join(outDir, 'bench', 'vici-list-sas-once.js');
}
