#!/usr/bin/env node
// ipsec-offload: the daemon and the operator CLI, one binary. Each command
// group lives in commands/<group>.ts and registers itself here.
import { Command } from 'commander';
import { ControlClientError } from '../daemon/control/client.js';
import { DEFAULT_CONTROL_SOCKET } from '../daemon/control/protocol.js';
import { ConfigError } from '../daemon/config.js';
import { packageVersion } from '../daemon/daemon.js';
import { CliContext, EXIT, fail } from './context.js';
import { registerDaemon } from './commands/daemon.js';
import { registerStatus } from './commands/status.js';
import { registerSa } from './commands/sa.js';
import { registerWait } from './commands/wait.js';
import { registerDevice } from './commands/device.js';

const program = new Command();
program
  .name('ipsec-offload')
  .description('IPsec hardware offload beside strongSwan charon: the daemon and its CLI')
  .version(packageVersion())
  .option('--socket <path>', 'control socket of the daemon', DEFAULT_CONTROL_SOCKET)
  .option('--json', 'machine-readable output (stable field names)')
  .showHelpAfterError();

const ctx = new CliContext(program);
for (const register of [registerDaemon, registerStatus, registerSa, registerWait, registerDevice]) register(program, ctx);

program.parseAsync(process.argv).catch((e: unknown) => {
  if (e instanceof ControlClientError) {
    const code = e.code === 'ENODAEMON' ? EXIT.noDaemon : e.code === 'ENOENT' ? EXIT.notFound : e.code === 'EACCES' ? EXIT.permission : e.code === 'EINVAL' ? EXIT.usage : EXIT.error;
    fail(code, e.message);
  }
  if (e instanceof ConfigError) fail(EXIT.config, e.message);
  fail(EXIT.error, (e as Error).message);
});
