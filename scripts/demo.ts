// npm run demo — boots the lab (real Debian kernel + netdevsim under qemu)
// with two charons and the daemon, and runs the guest-side demo
// (scripts/demo/guest.sh), streaming its narration.
import { readFileSync } from 'node:fs';
import { ensureLab } from '../test/lab/harness/setup.js';
import { runVm } from '../test/lab/harness/vm.js';

console.log('ipsec-offload demo: preparing the lab (first run downloads a kernel and builds netdevsim, ~1 min)');
const lab = ensureLab((m) => console.log(m));
console.log(`booting Debian ${lab.abi} under qemu with two charons and the daemon (software emulation: allow ~1-2 min)`);
const colour = process.stdout.isTTY === true && !process.env.NO_COLOR ? 'always' : 'never';
const script = `DEMO_COLOR=${colour}\n${readFileSync(new URL('./demo/guest.sh', import.meta.url), 'utf8')}`;
const r = await runVm({ lab, name: 'demo', script, timeoutMs: 1_700_000, onOutput: (c) => process.stdout.write(c) });
if (r.exitCode !== 0) {
  console.error(`\ndemo failed (${r.timedOut ? 'timeout' : r.exitCode === null ? 'the VM ended without an exit status' : `exit ${r.exitCode}`}); run dir ${r.runDir}`);
  if (r.exitCode === null) console.error(r.consoleTail);
  process.exit(1);
}
console.log(`\ndemo finished in ${(r.durationMs / 1000).toFixed(1)} s; logs and results: ${r.runDir}`);
