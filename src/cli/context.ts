// What every command needs: the global options, the control-socket call,
// output in the chosen format, and the exit codes.
import type { Command } from 'commander';
import { controlCall } from '../daemon/control/client.js';
import { json } from './format.js';

/** Exit codes: 0 ok, 1 error, 2 usage, 3 daemon not running, 4 not found, 5 permission, 6 bad config. */
export const EXIT = { ok: 0, error: 1, usage: 2, noDaemon: 3, notFound: 4, permission: 5, config: 6 } as const;

export interface Globals {
  socket: string;
  json?: boolean;
}

export class CliContext {
  constructor(private readonly program: Command) {}

  get globals(): Globals {
    return this.program.opts<Globals>();
  }

  call(cmd: string, args: unknown = {}): Promise<unknown> {
    return controlCall(cmd, args, { socket: this.globals.socket });
  }

  /** JSON with --json, else the human rendering. */
  out(value: unknown, human: () => string): void {
    process.stdout.write(`${this.globals.json ? json(value) : human()}\n`);
  }
}

export function fail(code: number, message: string): never {
  process.stderr.write(`ipsec-offload: ${message}\n`);
  process.exit(code);
}
