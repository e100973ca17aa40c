// Before any lab test: check the host, then download/build what the VMs need
// (cached under .lab/). Missing prerequisites are errors, never skips.
import { ensureLab } from './setup.js';

export default function setup(): void {
  const info = ensureLab((m) => console.log(m));
  console.log(`lab: kernel ${info.abi} (line ${info.line}) ready`);
}
