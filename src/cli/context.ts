// What every command needs: the global options, the control-socket call,
// output in the chosen format, and the exit codes.
import type { Command } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { controlCall } from '../daemon/control/client.js';
import { DEFAULT_CONTROL_SOCKET } from '../daemon/control/protocol.js';
import { json } from './format.js';

/** Exit codes (documented in README.md). */
export const EXIT = { ok: 0, error: 1, usage: 2, noDaemon: 3, notFound: 4, permission: 5, config: 6 } as const;

export interface Globals {
  socket?: string;
  json?: boolean;
}

/** The config file the CLI consults for defaults (control socket, log file). */
const DEFAULT_CONFIG_PATH = '/etc/ipsec-offload/config.yaml';

export function cliConfigPath(): string {
  return process.env.IPSEC_OFFLOAD_CONFIG || DEFAULT_CONFIG_PATH;
}

/** What the CLI takes from the config file: where the daemon listens and logs. */
export interface CliSettings {
  socket?: string;
  logFile?: string;
}

const configFiles = new Map<string, Promise<unknown>>();

/**
 * The config file at cliConfigPath() as plain YAML; undefined when it is
 * absent or unreadable. Not validated (the daemon does that). Read once per
 * process; yaml is loaded only when there is a file, so commands start fast.
 */
export function cliConfigFile(): Promise<unknown> {
  const path = cliConfigPath();
  let doc = configFiles.get(path);
  if (!doc) {
    doc = readYaml(path);
    configFiles.set(path, doc);
  }
  return doc;
}

async function readYaml(path: string): Promise<unknown> {
  try {
    if (!existsSync(path)) return undefined;
    const { parse } = await import('yaml');
    return parse(readFileSync(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** control.socket and log.file of the config file, when it has them. */
export async function cliSettings(): Promise<CliSettings> {
  const c = (await cliConfigFile()) as { control?: { socket?: unknown }; log?: { file?: unknown } } | null | undefined;
  return {
    ...(typeof c?.control?.socket === 'string' ? { socket: c.control.socket } : {}),
    ...(typeof c?.log?.file === 'string' ? { logFile: c.log.file } : {}),
  };
}

export class CliContext {
  constructor(private readonly program: Command) {}

  get globals(): Globals {
    return this.program.opts<Globals>();
  }

  /** --socket, else $IPSEC_OFFLOAD_SOCKET, else control.socket of the config file, else the default. */
  async socket(): Promise<string> {
    return this.globals.socket ?? (process.env.IPSEC_OFFLOAD_SOCKET || undefined) ?? (await cliSettings()).socket ?? DEFAULT_CONTROL_SOCKET;
  }

  async call(cmd: string, args: unknown = {}, opts: { timeoutMs?: number } = {}): Promise<unknown> {
    return controlCall(cmd, args, { socket: await this.socket(), ...opts });
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
