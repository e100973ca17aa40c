// Running host commands for the lab build, with errors that say what ran.
import { spawn, spawnSync } from 'node:child_process';

export class LabSetupError extends Error {
  override readonly name = 'LabSetupError';
}

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; throws LabSetupError unless it exits 0 (or `allowFail`). */
export function run(cmd: string, args: readonly string[], opts: { cwd?: string; allowFail?: boolean; env?: NodeJS.ProcessEnv } = {}): RunResult {
  const r = spawnSync(cmd, args, {
    cwd: opts.cwd,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', ...opts.env },
  });
  if (r.error) throw new LabSetupError(`cannot run ${cmd}: ${r.error.message}`);
  const res = { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (res.status !== 0 && !opts.allowFail) {
    const tail = (res.stderr || res.stdout).trim().split('\n').slice(-15).join('\n');
    throw new LabSetupError(`${cmd} ${args.join(' ')} failed (exit ${res.status}):\n${tail}`);
  }
  return res;
}

/** Like run(), but streams output to ours (long builds and downloads). */
export function runVisible(cmd: string, args: readonly string[], opts: { cwd?: string } = {}): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const p = spawn(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    p.on('error', (e) => reject(new LabSetupError(`cannot run ${cmd}: ${e.message}`)));
    p.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new LabSetupError(`${cmd} ${args.join(' ')} failed (exit ${code})`))));
  });
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function packageInstalled(pkg: string): boolean {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Status}', pkg], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.includes('install ok installed');
}
