// What the lab needs from the host, checked up front with errors that say
// how to fix each gap (never a silent skip in CI).
import { mkdirSync, statfsSync } from 'node:fs';
import { hasCommand, packageInstalled } from './exec.js';
import { labRoot } from './paths.js';

export interface Gap {
  what: string;
  fix: string;
}

const TOOLS: { cmd: string; pkg: string }[] = [
  { cmd: 'qemu-system-x86_64', pkg: 'qemu-system-x86' },
  { cmd: 'cpio', pkg: 'cpio' },
  { cmd: 'depmod', pkg: 'kmod' },
  { cmd: 'make', pkg: 'make' },
  { cmd: 'gcc', pkg: 'gcc' },
  { cmd: 'dpkg-deb', pkg: 'dpkg' },
  { cmd: 'apt-get', pkg: 'apt' },
  { cmd: 'ip', pkg: 'iproute2' },
  { cmd: 'ethtool', pkg: 'ethtool' },
  { cmd: 'swanctl', pkg: 'strongswan-swanctl' },
  { cmd: 'jq', pkg: 'jq' },
  { cmd: 'openssl', pkg: 'openssl' },
  { cmd: 'bpftool', pkg: 'bpftool' },
  { cmd: 'devlink', pkg: 'iproute2' },
];

/** Free bytes the lab wants: a first build extracts a kernel (~0.5 GiB) and the netdevsim sources. */
const FREE_FOR_SETUP = 3 * 2 ** 30;
const FREE_FOR_RUNS = 512 * 2 ** 20;

export function labGaps(built: boolean): Gap[] {
  const gaps: Gap[] = [];
  if (process.getuid?.() !== 0) gaps.push({ what: 'root', fix: 'the lab boots a VM with host modules and netns: run as root (sudo npm run test:lab)' });
  if (process.arch !== 'x64') gaps.push({ what: 'x86_64 host', fix: `the lab boots an amd64 Debian kernel; this host is ${process.arch}` });
  const missing = TOOLS.filter((t) => !hasCommand(t.cmd));
  if (!packageInstalled('busybox-static')) missing.push({ cmd: 'static busybox', pkg: 'busybox-static' });
  if (!packageInstalled('strongswan-charon')) missing.push({ cmd: 'charon', pkg: 'strongswan-charon libstrongswan-standard-plugins libcharon-extra-plugins' });
  if (missing.length) {
    gaps.push({
      what: `tools: ${missing.map((m) => m.cmd).join(', ')}`,
      fix: `apt-get install -y --no-install-recommends ${[...new Set(missing.map((m) => m.pkg))].join(' ')} (or run scripts/bootstrap.sh)`,
    });
  }
  try {
    mkdirSync(labRoot, { recursive: true });
    const s = statfsSync(labRoot);
    const free = s.bavail * s.bsize;
    const need = built ? FREE_FOR_RUNS : FREE_FOR_SETUP;
    if (free < need) {
      gaps.push({ what: `disk space in ${labRoot}`, fix: `${(free / 2 ** 30).toFixed(1)} GiB free, the lab needs ${(need / 2 ** 30).toFixed(1)} GiB` });
    }
  } catch (e) {
    gaps.push({ what: `writable ${labRoot}`, fix: (e as Error).message });
  }
  return gaps;
}

export function formatGaps(gaps: Gap[]): string {
  return `the lab cannot run on this machine:\n${gaps.map((g) => `  - ${g.what}: ${g.fix}`).join('\n')}`;
}
