// The host suite drives this machine's kernel (netns, XFRM policies, XDP) and
// charon: it needs root. In CI a missing prerequisite is an error, never a skip.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const needs: { what: string; ok: () => boolean; fix: string }[] = [
  { what: 'root', ok: () => process.getuid?.() === 0, fix: 'run as root (sudo npm test)' },
  { what: 'iproute2 (ip)', ok: () => has('ip'), fix: 'apt-get install iproute2' },
  { what: 'strongSwan charon', ok: () => existsSync('/usr/lib/ipsec/charon'), fix: 'apt-get install strongswan-charon strongswan-swanctl libstrongswan-standard-plugins' },
  { what: 'native addon', ok: () => existsSync('native/build/Release/ipsec_offload.node'), fix: 'npm ci' },
];

function has(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export default function setup(): void {
  const missing = needs.filter((n) => !n.ok());
  if (missing.length) {
    throw new Error(`host suite prerequisites missing:\n${missing.map((m) => `  - ${m.what}: ${m.fix}`).join('\n')}`);
  }
}
