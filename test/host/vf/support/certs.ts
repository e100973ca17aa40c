// Test certificates, made at test time with the openssl CLI (nothing is
// committed): a CA, the PF's server certificate, client certificates signed
// by the CA, and one signed by a second CA the PF does not trust.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Cert {
  cert: string;
  key: string;
  /** SHA-256 fingerprint, 64 uppercase hex digits */
  fingerprint: string;
}

export interface TestPki {
  dir: string;
  ca: string;
  server: Cert;
  client(cn: string, opts?: { rogue?: boolean }): Cert;
  remove(): void;
}

const openssl = (dir: string, args: string[]): string => execFileSync('openssl', args, { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`]);
  return { cert, key };
}

function signed(dir: string, ca: { cert: string; key: string }, name: string, cn: string, ext: string): Cert {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.pem`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, `${ext}\n`);
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${cn}`]);
  openssl(dir, ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', extFile]);
  const fp = openssl(dir, ['x509', '-noout', '-fingerprint', '-sha256', '-in', cert]).trim().replace(/^.*=/, '').replace(/:/g, '');
  return { cert, key, fingerprint: fp };
}

export function makePki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'vf-pki-'));
  const ca = makeCa(dir, 'ca');
  const rogue = makeCa(dir, 'rogue-ca');
  const server = signed(dir, ca, 'server', 'pf.test', 'subjectAltName=DNS:pf.test,IP:127.0.0.1\nextendedKeyUsage=serverAuth');
  let n = 0;
  return {
    dir,
    ca: ca.cert,
    server,
    client: (cn, opts = {}) => signed(dir, opts.rogue ? rogue : ca, `client${++n}`, cn, 'extendedKeyUsage=clientAuth'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export const readText = (p: string): string => readFileSync(p, 'utf8');
