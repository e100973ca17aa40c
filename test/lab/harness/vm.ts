// Boots one lab VM (qemu TCG; KVM does not work on this machine kind) that
// runs one bash script and powers off. Every run gets its own directory, so
// any number can run side by side.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot, runsRoot } from './paths.js';
import type { LabInfo } from './setup.js';

export interface VmOptions {
  lab: LabInfo;
  /** used in the run directory name */
  name: string;
  /** bash, run as root in the guest after test/lab/guest/lib.sh is sourced */
  script: string;
  timeoutMs?: number;
  memMiB?: number;
  cpus?: number;
  /** receives the guest command's output as it is written */
  onOutput?: (chunk: string) => void;
}

export interface VmResult {
  /** the script's exit status; null if the VM ended without reporting one */
  exitCode: number | null;
  timedOut: boolean;
  output: string;
  runDir: string;
  durationMs: number;
  /** last lines of the guest console (kernel and init messages) */
  consoleTail: string;
}

const PRELUDE = `#!/bin/bash
# Written by test/lab/harness/vm.ts: the environment every scenario runs in.
export LAB_RESULTS=$LAB_RUN/results
mkdir -p "$LAB_RESULTS" "$LAB_RUN/logs"
source "$LAB_PROJECT/test/lab/guest/lib.sh"
ip link set lo up
cd "$LAB_PROJECT"
set -euo pipefail
source "$LAB_RUN/scenario.sh"
`;

export async function runVm(o: VmOptions): Promise<VmResult> {
  mkdirSync(runsRoot, { recursive: true });
  const safe = o.name.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 60);
  const runDir = mkdtempSync(join(runsRoot, `${safe}-`));
  writeFileSync(join(runDir, 'cmd'), PRELUDE);
  writeFileSync(join(runDir, 'scenario.sh'), `${o.script}\n`);
  const consoleLog = join(runDir, 'console.log');
  const share = (id: string, path: string, ro: boolean): string[] => [
    '-fsdev',
    `local,id=${id},path=${path},security_model=none,multidevs=remap${ro ? ',readonly=on' : ''}`,
    '-device',
    `virtio-9p-pci,fsdev=${id},mount_tag=${id}`,
  ];
  // Single-threaded TCG: with thread=multi (qemu 7.2), node processes in the
  // guest died with SIGSEGV in V8-generated code on a helper thread (tsx's
  // module loader), about one start in six; gdb showed no native library
  // involved, and disabling AVX did not help. With thread=single, 25 starts
  // under gdb: no crash. Two lab VMs at a time still fill two cores.
  // LAB_TCG_THREAD=multi brings the old mode back (scripts/dev/guest-node-starts.sh).
  const tcgThread = process.env.LAB_TCG_THREAD === 'multi' ? 'multi' : 'single';
  const args = [
    '-nodefaults', '-no-user-config', '-display', 'none', '-monitor', 'none',
    '-accel', `tcg,thread=${tcgThread}`, '-cpu', 'max', '-machine', 'pc',
    '-m', String(o.memMiB ?? 2048), '-smp', String(o.cpus ?? 2), '-no-reboot',
    '-serial', `file:${consoleLog}`,
    '-kernel', o.lab.vmlinuz, '-initrd', o.lab.initramfs,
    '-append', `console=ttyS0 quiet panic=-1 lab.project=${projectRoot}`,
    ...share('hostroot', '/', true),
    ...share('project', projectRoot, true),
    ...share('labrun', runDir, false),
  ];
  const timeoutMs = o.timeoutMs ?? 600_000;
  const started = Date.now();
  const outFile = join(runDir, 'out');
  let streamed = 0;
  const pump = (): void => {
    if (!o.onOutput || !existsSync(outFile)) return;
    const size = statSync(outFile).size;
    if (size <= streamed) return;
    const fd = openSync(outFile, 'r');
    try {
      const buf = Buffer.alloc(size - streamed);
      readSync(fd, buf, 0, buf.length, streamed);
      streamed = size;
      o.onOutput(buf.toString('utf8'));
    } finally {
      closeSync(fd);
    }
  };

  const timedOut = await new Promise<boolean>((resolve, reject) => {
    const q = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    q.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let expired = false;
    const timer = setTimeout(() => {
      expired = true;
      q.kill('SIGKILL');
    }, timeoutMs);
    const poll = o.onOutput ? setInterval(pump, 250) : undefined;
    q.on('error', (e) => {
      clearTimeout(timer);
      clearInterval(poll);
      reject(new Error(`cannot start qemu-system-x86_64: ${e.message}`));
    });
    q.on('exit', () => {
      clearTimeout(timer);
      clearInterval(poll);
      if (stderr.trim()) writeFileSync(join(runDir, 'qemu.stderr'), stderr);
      resolve(expired);
    });
  });
  pump();

  const read = (f: string): string => (existsSync(join(runDir, f)) ? readFileSync(join(runDir, f), 'utf8') : '');
  const rc = read('rc').trim();
  return {
    exitCode: rc === '' ? null : Number(rc),
    timedOut,
    output: read('out'),
    runDir,
    durationMs: Date.now() - started,
    consoleTail: read('console.log').split('\n').slice(-40).join('\n'),
  };
}
