// netdevsim is not built in Debian kernels (CONFIG_NETDEVSIM unset): build it
// out of tree from linux-source against linux-headers, then assemble a
// depmod'ed module tree (Debian's modules, hard-linked, + extra/netdevsim.ko)
// that the guest bind-mounts over /usr/lib/modules/<abi>.
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { abiPaths } from './paths.js';
import { LabSetupError, run } from './exec.js';
import type { KernelChoice } from './kernel.js';

export function buildNetdevsim(k: KernelChoice): void {
  const p = abiPaths(k.abi);
  const ko = join(p.netdevsimBuild, 'netdevsim.ko');
  const tarball = `/usr/src/${k.sourcePackage}.tar.xz`;
  const headers = `/usr/src/linux-headers-${k.abi}`;
  if (!existsSync(tarball)) throw new LabSetupError(`${tarball} missing (apt-get install ${k.sourcePackage})`);
  if (!existsSync(headers)) throw new LabSetupError(`${headers} missing (apt-get install linux-headers-${k.abi})`);

  const srcRoot = join(p.root, 'src');
  const srcDir = join(srcRoot, k.sourcePackage, 'drivers', 'net', 'netdevsim');
  if (!existsSync(join(srcDir, 'Makefile'))) {
    mkdirSync(srcRoot, { recursive: true });
    run('tar', ['-xJf', tarball, '-C', srcRoot, '--wildcards', `${k.sourcePackage}/drivers/net/netdevsim/*`]);
  }
  rmSync(p.netdevsimBuild, { recursive: true, force: true });
  cpSync(srcDir, p.netdevsimBuild, { recursive: true });
  // The in-tree Makefile already adds ipsec.o (CONFIG_XFRM_OFFLOAD=y in
  // Debian), bpf.o and psample.o; only CONFIG_NETDEVSIM must be given.
  run('make', ['-C', headers, `M=${p.netdevsimBuild}`, 'CONFIG_NETDEVSIM=m', 'modules', `-j${Math.max(1, cpus().length)}`]);
  if (!existsSync(ko)) throw new LabSetupError(`netdevsim build produced no ${ko}`);
}

export function assembleModuleTree(k: KernelChoice): void {
  const p = abiPaths(k.abi);
  const from = join(p.kernel, 'lib', 'modules', k.abi);
  rmSync(p.modulesBase, { recursive: true, force: true });
  mkdirSync(join(p.modules, 'extra'), { recursive: true });
  // Hard links: the tree costs no space beyond the extracted kernel.
  run('cp', ['-al', join(from, 'kernel'), join(p.modules, 'kernel')]);
  for (const f of readdirSync(from)) {
    if (f.startsWith('modules.builtin') || f === 'modules.order') copyFileSync(join(from, f), join(p.modules, f));
  }
  copyFileSync(join(p.netdevsimBuild, 'netdevsim.ko'), join(p.modules, 'extra', 'netdevsim.ko'));
  run('depmod', ['-b', p.modulesBase, '-F', p.systemMap, k.abi]);
  const dep = run('modprobe', ['-d', p.modulesBase, '-S', k.abi, '--show-depends', 'netdevsim']);
  if (!dep.stdout.includes('netdevsim.ko')) throw new LabSetupError('depmod did not register netdevsim');
}
