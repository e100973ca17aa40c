// npm run lab:run -- 'bash commands'  — run commands in a fresh lab VM, output streamed.
import { ensureLab } from './setup.js';
import { runVm } from './vm.js';

const script = process.argv.slice(2).join(' ');
if (!script) {
  console.error("usage: npm run lab:run -- '<bash commands>'   (lib.sh helpers available; see test/lab/README.md)");
  process.exit(2);
}
const info = ensureLab((m) => console.error(m));
const r = await runVm({ lab: info, name: 'adhoc', script, timeoutMs: Number(process.env.LAB_TIMEOUT_MS ?? 900_000), onOutput: (c) => process.stdout.write(c) });
if (r.exitCode !== 0) console.error(`lab: ${r.timedOut ? 'timeout' : r.exitCode === null ? 'VM ended without exit status' : `exit ${r.exitCode}`} (run dir ${r.runDir})\n${r.exitCode === null ? r.consoleTail : ''}`);
process.exit(r.exitCode ?? 125);
