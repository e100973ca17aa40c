// The initramfs: static busybox, the modules needed to mount the 9p shares
// and overlayfs (resolved in dependency order by the host's kmod), and /init.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { abiPaths, guestDir } from './paths.js';
import { LabSetupError, run } from './exec.js';

const BOOT_MODULES = ['virtio_pci', '9pnet_virtio', '9p', 'overlay'];

export function buildInitramfs(abi: string): void {
  const p = abiPaths(abi);
  const busybox = '/bin/busybox';
  const info = run('file', ['-L', busybox], { allowFail: true });
  if (info.status === 0 && !info.stdout.includes('statically linked')) {
    throw new LabSetupError(`${busybox} is not static: apt-get install busybox-static`);
  }
  const work = mkdtempSync(join(p.root, '.initramfs-'));
  try {
    for (const d of ['bin', 'dev', 'proc', 'sys', 'mods', 'newroot']) mkdirSync(join(work, d));
    copyFileSync(busybox, join(work, 'bin', 'busybox'));
    chmodSync(join(work, 'bin', 'busybox'), 0o755);
    const order: string[] = [];
    for (const m of BOOT_MODULES) {
      const r = run('modprobe', ['-d', p.modulesBase, '-S', abi, '--show-depends', m]);
      for (const line of r.stdout.split('\n')) {
        const mm = /^insmod (\S+)/.exec(line);
        if (!mm?.[1]) continue;
        const name = basename(mm[1]);
        if (order.includes(name)) continue;
        copyFileSync(mm[1], join(work, 'mods', name));
        order.push(name);
      }
    }
    writeFileSync(join(work, 'mods', 'order'), `${order.join('\n')}\n`);
    copyFileSync(join(guestDir, 'init.sh'), join(work, 'init'));
    chmodSync(join(work, 'init'), 0o755);
    const out = `${p.initramfs}.tmp`;
    run('sh', ['-c', `cd "${work}" && find . -print0 | cpio --null -o -H newc --quiet | gzip -1 > "${out}"`]);
    run('mv', [out, p.initramfs]);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export function initScriptDigest(): string {
  return readFileSync(join(guestDir, 'init.sh'), 'utf8');
}
