// The real daemon (the CLI's `daemon` command under tsx) for host tests,
// and its JSON log read back by event name.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { waitFor } from '../../vici/support/charon.js';

export const ROOT = resolve(import.meta.dirname, '../../../..');
export const CLI = join(ROOT, 'src/cli/main.ts');

export function cli(args: string[], timeoutMs = 60_000): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: timeoutMs });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export type LogLine = Record<string, unknown> & { event: string };

export function events(file: string, name?: string): LogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine)
    .filter((e) => name === undefined || e.event === name);
}

export class TestDaemon {
  #proc: ChildProcess | undefined;
  stderr = '';
  constructor(
    readonly config: string,
    readonly log: string,
  ) {}

  async start(opts: { netns?: string } = {}): Promise<void> {
    const argv = [process.execPath, '--import', 'tsx', CLI, 'daemon', '--config', this.config];
    const [cmd, ...args] = opts.netns ? ['ip', 'netns', 'exec', opts.netns, ...argv] : argv;
    const started = events(this.log, 'daemon.started').length;
    const p = spawn(cmd as string, args, { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    this.#proc = p;
    p.stderr?.on('data', (b: Buffer) => (this.stderr += b.toString()));
    await waitFor('the daemon to start', () => (events(this.log, 'daemon.started').length > started ? true : p.exitCode !== null ? Promise.reject(new Error(`daemon exited: ${this.stderr}`)) : undefined), 90_000, 200);
  }

  get running(): boolean {
    return this.#proc !== undefined && this.#proc.exitCode === null && this.#proc.signalCode === null;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.#proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await exited;
  }
}

/** Runs the scripted peer (test/host/vf/support/peer.ts), in a netns if given; its JSON lines. */
export function peer(script: unknown, netns?: string): Record<string, unknown>[] {
  const argv = [process.execPath, '--import', 'tsx', join(ROOT, 'test/host/vf/support/peer.ts'), JSON.stringify(script)];
  const [cmd, ...args] = netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
  const r = spawnSync(cmd as string, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`peer failed (${r.status}): ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
