// Where the lab keeps things. Everything it downloads or builds lives under
// <checkout>/.lab/ (git-ignored), keyed by kernel ABI, so reruns reuse it.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const labRoot = join(projectRoot, '.lab');
export const runsRoot = join(labRoot, 'runs');
export const guestDir = join(projectRoot, 'test', 'lab', 'guest');

export interface AbiPaths {
  root: string;
  deb: string;
  kernel: string;
  vmlinuz: string;
  systemMap: string;
  netdevsimBuild: string;
  modulesBase: string;
  modules: string;
  initramfs: string;
  stamp: string;
}

export function abiPaths(abi: string): AbiPaths {
  const root = join(labRoot, abi);
  return {
    root,
    deb: join(root, 'deb'),
    kernel: join(root, 'kernel'),
    vmlinuz: join(root, 'kernel', 'boot', `vmlinuz-${abi}`),
    systemMap: join(root, 'kernel', 'boot', `System.map-${abi}`),
    netdevsimBuild: join(root, 'netdevsim'),
    modulesBase: join(root, 'modules'),
    modules: join(root, 'modules', 'lib', 'modules', abi),
    initramfs: join(root, 'initramfs.cpio.gz'),
    stamp: join(root, 'stamp.json'),
  };
}
