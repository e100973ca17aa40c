// Checks that the programs a build step needs are present and, when one is
// missing, names the Debian packages that provide it: one clear error instead
// of a compiler backtrace three screens long.
import { accessSync, constants, existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';

export function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/**
 * @param {string} what   the build step, e.g. "native addon"
 * @param {{cmd?: string, file?: string, packages: string[]}[]} needs
 */
export function requireTools(what, needs) {
  const missing = needs.filter((n) => (n.cmd ? !which(n.cmd) : !existsSync(n.file)));
  if (missing.length === 0) return;
  const names = missing.map((n) => n.cmd ?? n.file).join(', ');
  const pkgs = [...new Set(missing.flatMap((n) => n.packages))].join(' ');
  const msg =
    `ipsec-offload: cannot build the ${what}: missing ${names}.\n` +
    `  Install with: apt-get install -y --no-install-recommends ${pkgs}`;
  console.error(msg);
  process.exit(1);
}
