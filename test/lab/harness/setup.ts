// ensureLab(): everything a VM boot needs, built once per kernel ABI and
// reused. Safe to call from several processes at once (a lock file).
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, readdirSync, writeFileSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { abiPaths, labRoot, runsRoot } from './paths.js';
import { LabSetupError } from './exec.js';
import { ensureBuildPackages, ensureKernelImage, resolveKernel, type KernelChoice } from './kernel.js';
import { assembleModuleTree, buildNetdevsim } from './netdevsim.js';
import { buildInitramfs, initScriptDigest } from './initramfs.js';
import { formatGaps, labGaps } from './prerequisites.js';

export interface LabInfo extends KernelChoice {
  vmlinuz: string;
  initramfs: string;
}

interface Stamp {
  abi: string;
  initDigest: string;
  netdevsimHeaders: string;
}

const sha = (s: string): string => createHash('sha256').update(s).digest('hex').slice(0, 16);

export function ensureLab(log: (msg: string) => void = () => {}): LabInfo {
  const built = existsSync(labRoot) && readdirSync(labRoot).some((d) => existsSync(join(labRoot, d, 'stamp.json')));
  const gaps = labGaps(built);
  if (gaps.length) throw new LabSetupError(formatGaps(gaps));

  const k = resolveKernel();
  const p = abiPaths(k.abi);
  mkdirSync(p.root, { recursive: true });
  const release = lock(join(labRoot, `${k.abi}.lock`));
  try {
    const want: Stamp = {
      abi: k.abi,
      initDigest: sha(initScriptDigest()),
      netdevsimHeaders: headersIdentity(k.abi),
    };
    const have = readStamp(p.stamp);
    if (!existsSync(p.vmlinuz)) log(`lab: downloading linux-image-${k.abi}`);
    ensureKernelImage(k.abi);
    ensureBuildPackages(k);
    const ko = join(p.modules, 'extra', 'netdevsim.ko');
    if (!existsSync(ko) || have?.netdevsimHeaders !== want.netdevsimHeaders) {
      log(`lab: building netdevsim for ${k.abi}`);
      buildNetdevsim(k);
      assembleModuleTree(k);
    }
    if (!existsSync(p.initramfs) || have?.initDigest !== want.initDigest) {
      log('lab: building initramfs');
      buildInitramfs(k.abi);
    }
    writeFileSync(p.stamp, `${JSON.stringify(want, null, 2)}\n`);
  } finally {
    release();
  }
  pruneRuns();
  return { ...k, vmlinuz: p.vmlinuz, initramfs: p.initramfs };
}

function headersIdentity(abi: string): string {
  const f = `/usr/src/linux-headers-${abi}/Module.symvers`;
  return existsSync(f) ? `${statSync(f).size}:${statSync(f).mtimeMs}` : 'none';
}

function readStamp(file: string): Stamp | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

/** Exclusive lock via O_EXCL; a lock whose owner died is taken over. */
function lock(file: string): () => void {
  const deadline = Date.now() + 20 * 60_000;
  for (;;) {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => rmSync(file, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const owner = Number(readFileSync(file, 'utf8').trim());
      if (!owner || !alive(owner)) {
        rmSync(file, { force: true });
        continue;
      }
      if (Date.now() > deadline) throw new LabSetupError(`lab setup lock ${file} held by pid ${owner} for 20 minutes`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Run directories older than a day go; recent ones stay for post-mortems. */
function pruneRuns(): void {
  if (!existsSync(runsRoot)) return;
  const cutoff = Date.now() - 24 * 3600_000;
  for (const d of readdirSync(runsRoot)) {
    const path = join(runsRoot, d);
    try {
      if (statSync(path).mtimeMs < cutoff) rmSync(path, { recursive: true, force: true });
    } catch {
      // raced with another pruner
    }
  }
}
