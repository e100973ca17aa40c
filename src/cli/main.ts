#!/usr/bin/env node
// ipsec-offload: the daemon and the operator CLI, one binary. Each command
// group lives in commands/<group>.ts and registers itself here.
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Command, CommanderError } from 'commander';
import { ControlClientError } from '../daemon/control/client.js';
import { ConfigError } from '../daemon/config-error.js';
import { packageVersion } from '../daemon/version.js';
import { LogFilterError } from '../log/filter.js';
import { CliContext, EXIT, fail } from './context.js';
import { registerDaemon } from './commands/daemon.js';
import { registerStatus } from './commands/status.js';
import { registerSa } from './commands/sa.js';
import { registerWait } from './commands/wait.js';
import { registerDevice } from './commands/device.js';
import { registerVf } from './commands/vf.js';
import { registerXfrmi } from './commands/xfrmi.js';
import { registerSteer } from './commands/steer.js';
import { registerLogs } from './commands/logs.js';
import { registerConfig } from './commands/config.js';

export type Register = (program: Command, ctx: CliContext) => void;

/** The command groups, in the order `--help` lists them. */
const COMMANDS: Register[] = [
  registerDaemon,
  registerStatus,
  registerSa,
  registerDevice,
  registerXfrmi,
  registerVf,
  registerSteer,
  registerLogs,
  registerWait,
  registerConfig,
];

/** The whole CLI, without running it (the docs generator and tests walk it). */
export function buildProgram(): { program: Command; ctx: CliContext } {
  const program = new Command();
  program
    .name('ipsec-offload')
    .description('IPsec hardware offload beside strongSwan charon: the daemon and its CLI')
    .version(packageVersion())
    .option('--socket <path>', 'control socket of the daemon (default: $IPSEC_OFFLOAD_SOCKET, control.socket in the config file, /run/ipsec-offload/control.sock)')
    .option('--json', 'machine-readable output (stable field names, see README.md)')
    .showHelpAfterError()
    // Usage errors exit 2 (help and --version 0); set before the commands so they inherit it.
    .exitOverride((e: CommanderError) => {
      throw e;
    });
  const ctx = new CliContext(program);
  for (const register of COMMANDS) register(program, ctx);
  return { program, ctx };
}

/** The exit code and the message (none for usage errors: commander printed them) for any error. */
export function exitCodeOf(e: unknown): { code: number; message?: string } {
  if (e instanceof CommanderError) return { code: e.exitCode === 0 ? EXIT.ok : EXIT.usage };
  if (e instanceof ControlClientError) {
    const code = e.code === 'ENODAEMON' ? EXIT.noDaemon : e.code === 'ENOENT' ? EXIT.notFound : e.code === 'EACCES' ? EXIT.permission : e.code === 'EINVAL' ? EXIT.usage : EXIT.error;
    return { code, message: e.message };
  }
  if (e instanceof ConfigError) return { code: EXIT.config, message: e.message };
  if (e instanceof LogFilterError) return { code: EXIT.usage, message: e.message };
  return { code: EXIT.error, message: e instanceof Error ? e.message : String(e) };
}

function exitFor(e: unknown): never {
  const { code, message } = exitCodeOf(e);
  if (message === undefined) process.exit(code);
  fail(code, message);
}

function isEntry(): boolean {
  const argv1 = process.argv[1];
  if (!argv1) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(argv1)).href;
  } catch {
    return false;
  }
}

if (isEntry()) {
  // `ipsec-offload logs | head` closes stdout early: that is not an error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(EXIT.ok);
    throw e;
  });
  buildProgram().program.parseAsync(process.argv).catch(exitFor);
}
