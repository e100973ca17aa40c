// One "daemon lifetime" for the restart tests, run as its own process:
// open steering (reusing pins), attach, reconcile the desired state, print
// what happened as JSON, and exit without detaching - as the daemon does on
// a restart. Usage: node --import tsx daemon-run.ts '<json options>'
import { Steering, type SteeringOptions } from '../../../src/steer/steering.js';
import type { SteerDesired } from '../../../src/steer/desired.js';

const opts = JSON.parse(process.argv[2] ?? '{}') as SteeringOptions & { desired: SteerDesired };
const s = Steering.open(opts);
const attach = s.attach();
const reconcile = s.reconcile(opts.desired);
process.stdout.write(JSON.stringify({ attach, reconcile, list: s.list() }));
s.close();
