// One list-sas from a fresh process, for bench/vici-list-sas.ts and
// bench/vici-lab.ts to time the way swanctl is timed (process start, connect,
// list, exit). Prints the number of CHILD_SAs listed. With `version` as the
// second argument it asks for the version instead (the counterpart of
// `swanctl --stats`: start-up and connect, no listing) and prints 0.
// No deadline, like swanctl: in the lab charon needs 15-50 s for 1000
// CHILD_SAs, longer than the session's default 30 s.
import { ViciClient } from '../src/vici/index.js';

const client = new ViciClient({ socketPath: process.argv[2] as string, reconnect: false, timeoutMs: Infinity });
if (process.argv[3] === 'version') {
  await client.version();
  process.stdout.write('0\n');
} else {
  const sas = await client.listSas();
  process.stdout.write(`${sas.reduce((n, s) => n + s.childSas.length, 0)}\n`);
}
await client.close();
