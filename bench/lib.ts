// Small pieces the benchmarks share: command-line numbers, the median of
// samples, and the wall time of a child process. Node built-ins only: the
// guest sides (run in the lab VM) import this too.
import { spawn } from 'node:child_process';

/** `--name N` from the command line, or `dflt` when absent. */
export function numArg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}

/** The median (the mean of the middle two for an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

/** Runs `cmd` to its exit: wall time from spawn to exit, and stdout. Rejects on a non-zero exit, with the end of stderr. */
export function timeProcess(cmd: string, argv: string[], extraEnv: NodeJS.ProcessEnv): Promise<{ ms: number; stdout: string }> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const p = spawn(cmd, argv, { env: { ...process.env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    p.on('error', rej);
    p.on('exit', (code) =>
      code === 0
        ? res({ ms: performance.now() - t0, stdout: Buffer.concat(out).toString() })
        : rej(new Error(`${cmd} ${argv.join(' ')} exited ${code}: ${Buffer.concat(err).toString().slice(-2000)}`)),
    );
  });
}
