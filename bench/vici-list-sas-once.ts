// One list-sas from a fresh process, for bench/vici-list-sas.ts to time the
// way swanctl is timed (process start, connect, list, exit). Prints the
// number of CHILD_SAs listed.
import { ViciClient } from '../src/vici/index.js';

const client = new ViciClient({ socketPath: process.argv[2] as string, reconnect: false });
const sas = await client.listSas();
process.stdout.write(`${sas.reduce((n, s) => n + s.childSas.length, 0)}\n`);
await client.close();
