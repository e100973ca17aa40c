// Guest helper for vf.sh: the host tests' mailbox PKI (test/host/vf/support/certs.ts)
// with the files under fixed names in DIR: ca.pem, pf.pem/pf.key (server, pf.test),
// t1.pem/t1.key (client, CN t1), and two the PF must refuse: rogue.pem/rogue.key
// (CN t1, signed by another CA) and stranger.pem/stranger.key (CN stranger,
// signed by the PF's CA, a name no VF has).
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePki } from '../../host/vf/support/certs.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: pki.ts DIR');
const pki = makePki();
try {
  const t1 = pki.client('t1');
  const rogue = pki.client('t1', { rogue: true });
  const stranger = pki.client('stranger');
  const files: [string, string][] = [
    [pki.ca, 'ca.pem'],
    [pki.server.cert, 'pf.pem'],
    [pki.server.key, 'pf.key'],
    [t1.cert, 't1.pem'],
    [t1.key, 't1.key'],
    [rogue.cert, 'rogue.pem'],
    [rogue.key, 'rogue.key'],
    [stranger.cert, 'stranger.pem'],
    [stranger.key, 'stranger.key'],
  ];
  for (const [from, to] of files) copyFileSync(from, join(dir, to));
} finally {
  pki.remove();
}
