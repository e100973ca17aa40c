#!/usr/bin/env node
// Builds native/ (node-addon-api) with node-gyp against the Node headers that
// ship with Node itself (nodedir), so no header download is ever attempted.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { requireTools, which } from './toolchain.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (process.arch !== 'x64' && process.arch !== 'arm64') {
  console.error(`ipsec-offload: the native addon must be 64-bit (Debian kernels lack XFRM compat); this Node is ${process.arch}`);
  process.exit(1);
}

// nodedir: the project .npmrc says /usr; honour an override, else derive it
// from the running node (/usr/bin/node -> /usr).
const candidates = [process.env.npm_config_nodedir, join(dirname(process.execPath), '..')].filter(Boolean);
const nodedir = candidates.find((d) => existsSync(join(d, 'include', 'node', 'node_api.h')));

requireTools('native addon', [
  { cmd: 'make', packages: ['make'] },
  { cmd: 'g++', packages: ['g++'] },
  { cmd: 'python3', packages: ['python3'] },
  { file: '/usr/include/bpf/libbpf.h', packages: ['libbpf-dev'] },
  { file: nodedir ? join(nodedir, 'include', 'node', 'node_api.h') : '/usr/include/node/node_api.h', packages: ['nodejs (with its headers, /usr/include/node)'] },
]);

// npm hands lifecycle scripts its bundled node-gyp; run by hand, find npm's
// copy next to this node, else a node-gyp on PATH.
const bundled = [process.env.npm_config_node_gyp, join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')];
const gyp = bundled.find((p) => p && existsSync(p));
const [cmd, args] = gyp ? [process.execPath, [gyp]] : [which('node-gyp') ?? 'node-gyp', []];
const r = spawnSync(cmd, [...args, 'rebuild', `--nodedir=${nodedir}`, '--directory', join(root, 'native')], {
  stdio: 'inherit',
  env: { ...process.env, npm_config_nodedir: nodedir },
});
if (r.error) {
  console.error(`ipsec-offload: could not run node-gyp (${r.error.message}); run this through npm (npm ci / npm rebuild)`);
  process.exit(1);
}
process.exit(r.status ?? 1);
