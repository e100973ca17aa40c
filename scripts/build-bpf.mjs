#!/usr/bin/env node
// Compiles bpf/*.bpf.c into dist/bpf/*.o, the objects the runtime loads.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTools } from './toolchain.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'bpf');
const out = join(root, 'dist', 'bpf');

// -target bpf does not search the multiarch include directory, where Debian
// keeps <asm/types.h>; pass it explicitly.
const triple = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' }[process.arch] ?? `${process.arch}-linux-gnu`;
const multiarch = `/usr/include/${triple}`;

requireTools('BPF programs', [
  { cmd: 'clang', packages: ['clang', 'llvm'] },
  { file: '/usr/include/bpf/bpf_helpers.h', packages: ['libbpf-dev'] },
  { file: `${multiarch}/asm/types.h`, packages: ['linux-libc-dev'] },
]);

mkdirSync(out, { recursive: true });
const headers = readdirSync(src).filter((f) => f.endsWith('.h')).map((f) => statSync(join(src, f)).mtimeMs);
const newestHeader = Math.max(0, ...headers);
let failed = false;
for (const file of readdirSync(src).filter((f) => f.endsWith('.bpf.c'))) {
  const obj = join(out, file.replace(/\.bpf\.c$/, '.o'));
  let fresh = false;
  try {
    const o = statSync(obj).mtimeMs;
    fresh = o > statSync(join(src, file)).mtimeMs && o > newestHeader;
  } catch {
    fresh = false;
  }
  if (fresh) continue;
  const r = spawnSync('clang', ['-O2', '-g', '-Wall', '-Werror', '-target', 'bpf', `-I${src}`, `-I${multiarch}`, '-c', join(src, file), '-o', obj], {
    stdio: 'inherit',
  });
  if (r.status !== 0) {
    console.error(`ipsec-offload: clang failed on bpf/${file}`);
    failed = true;
  }
}
process.exit(failed ? 1 : 0);
