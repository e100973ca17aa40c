// npm run lab:setup — prepare the lab (kernel, netdevsim, initramfs) and boot it once.
import { ensureLab } from './setup.js';
import { runVm } from './vm.js';

const info = ensureLab((m) => console.log(m));
console.log(`lab: kernel ${info.abi} ready (${info.vmlinuz})`);
const r = await runVm({ lab: info, name: 'smoke', script: 'uname -r; modprobe netdevsim && echo netdevsim loaded', timeoutMs: 180_000 });
process.stdout.write(r.output);
if (r.exitCode !== 0) {
  console.error(`lab: smoke boot failed (${r.timedOut ? 'timeout' : `exit ${r.exitCode}`}); console tail:\n${r.consoleTail}`);
  process.exit(1);
}
console.log(`lab: smoke boot ok in ${(r.durationMs / 1000).toFixed(1)} s`);
