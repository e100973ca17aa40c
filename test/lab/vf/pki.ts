// Guest helper for vf.sh: the host tests' mailbox PKI (test/host/vf/support/certs.ts)
// with the files under fixed names in DIR: ca.pem, pf.pem/pf.key (server, pf.test)
// and t1.pem/t1.key (client, CN t1).
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePki } from '../../host/vf/support/certs.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: pki.ts DIR');
const pki = makePki();
try {
  const t1 = pki.client('t1');
  const files: [string, string][] = [
    [pki.ca, 'ca.pem'],
    [pki.server.cert, 'pf.pem'],
    [pki.server.key, 'pf.key'],
    [t1.cert, 't1.pem'],
    [t1.key, 't1.key'],
  ];
  for (const [from, to] of files) copyFileSync(from, join(dir, to));
} finally {
  pki.remove();
}
