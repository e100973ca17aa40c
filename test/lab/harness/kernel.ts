// The guest kernel: a stock Debian kernel resolved from apt, downloaded and
// extracted (never installed on the host).
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { abiPaths } from './paths.js';
import { LabSetupError, packageInstalled, run } from './exec.js';

/** Kernel lines the lab knows: the meta-package that names the current ABI, and its source. */
const LINES: Record<string, { meta: string; source: string }> = {
  '6.1': { meta: 'linux-image-amd64', source: 'linux-source-6.1' },
  '6.12': { meta: 'linux-image-6.12-amd64', source: 'linux-source-6.12' },
};

export interface KernelChoice {
  line: string;
  abi: string;
  sourcePackage: string;
}

/** LAB_KERNEL: "6.1" (default), "6.12", or an explicit ABI such as "6.1.0-56-amd64". */
export function kernelLine(): string {
  return process.env.LAB_KERNEL?.trim() || '6.1';
}

export function resolveKernel(line = kernelLine()): KernelChoice {
  const explicit = /^(\d+\.\d+)[.\d]*(?:-\d+|\+deb\d+)-amd64$/.exec(line);
  if (explicit) {
    const major = explicit[1] as string;
    const known = LINES[major];
    if (!known) throw new LabSetupError(`LAB_KERNEL=${line}: no source package known for the ${major} line`);
    return { line: major, abi: line, sourcePackage: known.source };
  }
  const l = LINES[line];
  if (!l) throw new LabSetupError(`LAB_KERNEL=${line}: use one of ${Object.keys(LINES).join(', ')} or an explicit ABI`);
  let dep = dependsOn(l.meta);
  if (!dep) {
    // Fresh machines often have empty apt lists.
    run('apt-get', ['update']);
    dep = dependsOn(l.meta);
  }
  if (!dep) throw new LabSetupError(`apt does not know ${l.meta}; is deb.debian.org (bookworm, bookworm-security) configured?`);
  return { line, abi: dep, sourcePackage: l.source };
}

function dependsOn(meta: string): string | undefined {
  const r = run('apt-cache', ['depends', meta], { allowFail: true });
  if (r.status !== 0) return undefined;
  const m = /Depends:\s+linux-image-(\S+?-amd64)\b/.exec(r.stdout);
  return m?.[1];
}

/** Downloads and extracts linux-image-<abi>; a no-op when already extracted. */
export function ensureKernelImage(abi: string): void {
  const p = abiPaths(abi);
  if (existsSync(p.vmlinuz) && existsSync(join(p.kernel, 'lib', 'modules', abi, 'modules.order'))) return;
  rmSync(p.kernel, { recursive: true, force: true });
  mkdirSync(p.deb, { recursive: true });
  let debs = readdirSync(p.deb).filter((f) => f.startsWith(`linux-image-${abi}_`) && f.endsWith('.deb'));
  if (debs.length === 0) {
    run('apt-get', ['download', `linux-image-${abi}`], { cwd: p.deb });
    debs = readdirSync(p.deb).filter((f) => f.startsWith(`linux-image-${abi}_`) && f.endsWith('.deb'));
  }
  const deb = debs.sort().at(-1);
  if (!deb) throw new LabSetupError(`apt-get download linux-image-${abi} produced no .deb in ${p.deb}`);
  run('dpkg-deb', ['-x', join(p.deb, deb), p.kernel]);
  if (!existsSync(p.vmlinuz)) throw new LabSetupError(`${deb} has no boot/vmlinuz-${abi}`);
}

/** Host packages the netdevsim build needs for this ABI. */
export function ensureBuildPackages(k: KernelChoice): void {
  const want = [`linux-headers-${k.abi}`, k.sourcePackage];
  const missing = want.filter((p) => !packageInstalled(p));
  if (missing.length === 0) return;
  const r = run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { allowFail: true });
  if (r.status !== 0) {
    run('apt-get', ['update']);
    run('apt-get', ['install', '-y', '--no-install-recommends', ...missing]);
  }
}
