// The lab as vitest sees it: a scenario is a bash script (which may call
// TypeScript through lab_node) run in a fresh VM; the test asserts on the
// structured results the script leaves in $LAB_RESULTS.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ensureLab, type LabInfo } from './setup.js';
import { runVm, type VmOptions, type VmResult } from './vm.js';

/** What the guest helper `capture NAME CMD...` (test/lab/guest/lib.sh) stores: exit code and output. */
export interface Captured {
  rc: number;
  out: string;
}

let lab: LabInfo | undefined;

/** Per log file and per line, in a failure's message. */
const LOG_TAIL_LINES = 25;
const LOG_LINE_CHARS = 320;

/** The prepared lab (built on first use in this process; cached on disk). */
export function labInfo(): LabInfo {
  lab ??= ensureLab();
  return lab;
}

export class LabScenarioError extends Error {
  override readonly name = 'LabScenarioError';
}

export class LabRun {
  constructor(
    readonly name: string,
    private readonly r: VmResult,
  ) {}

  get exitCode(): number | null {
    return this.r.exitCode;
  }
  get timedOut(): boolean {
    return this.r.timedOut;
  }
  get output(): string {
    return this.r.output;
  }
  get runDir(): string {
    return this.r.runDir;
  }
  get durationMs(): number {
    return this.r.durationMs;
  }

  /** A file the guest wrote under $LAB_RUN (e.g. "logs/charon-A.log"). */
  file(rel: string): string {
    const p = join(this.r.runDir, rel);
    if (!existsSync(p)) throw new LabScenarioError(`${this.name}: the guest wrote no ${rel}${this.context()}`);
    return readFileSync(p, 'utf8');
  }

  has(rel: string): boolean {
    return existsSync(join(this.r.runDir, rel));
  }

  /** $LAB_RESULTS/<name>.json, parsed. */
  json<T = unknown>(name: string): T {
    const text = this.file(`results/${name}.json`);
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new LabScenarioError(`${this.name}: results/${name}.json is not JSON (${(e as Error).message}): ${text.slice(0, 200)}${this.context()}`);
    }
  }

  /** $LAB_RESULTS/<name>.txt */
  text(name: string): string {
    return this.file(`results/${name}.txt`);
  }

  results(): string[] {
    const dir = join(this.r.runDir, 'results');
    return existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : [];
  }

  /** Throws with the script's output and the console tail unless it exited 0. */
  expectSuccess(): this {
    if (this.r.exitCode !== 0) {
      const why = this.r.timedOut ? 'timed out' : this.r.exitCode === null ? 'ended without an exit status' : `exited ${this.r.exitCode}`;
      throw new LabScenarioError(`lab scenario ${this.name} ${why}${this.context()}`);
    }
    return this;
  }

  private context(): string {
    const out = this.r.output.split('\n').slice(-60).join('\n');
    return `\n--- output (tail) ---\n${out}${this.logTails()}\n--- console (tail) ---\n${this.r.consoleTail}\n--- run dir: ${this.r.runDir}`;
  }

  /**
   * The last lines of every log the guest wrote (daemons, charons): CI keeps
   * no run directory, so a failure has to carry what explains it. Keys never
   * reach these logs (the key audit of each scenario checks that).
   */
  private logTails(): string {
    const dir = join(this.r.runDir, 'logs');
    if (!existsSync(dir)) return '';
    return readdirSync(dir)
      .filter((f) => /\.log(\.\d+)?$/.test(f))
      .sort()
      .map((f) => {
        const lines = readFileSync(join(dir, f), 'utf8').trimEnd().split('\n').slice(-LOG_TAIL_LINES);
        return `\n--- logs/${f} (tail) ---\n${lines.map((l) => (l.length > LOG_LINE_CHARS ? `${l.slice(0, LOG_LINE_CHARS)}…` : l)).join('\n')}`;
      })
      .join('');
  }
}

export type ScenarioOptions = Partial<Pick<VmOptions, 'timeoutMs' | 'memMiB' | 'cpus' | 'onOutput'>>;

export async function runInLab(name: string, script: string, opts: ScenarioOptions = {}): Promise<LabRun> {
  const r = await runVm({ lab: labInfo(), name, script, ...opts });
  return new LabRun(name, r);
}

/** Reads a guest script that sits beside the test file (`import.meta.url`). */
export function scenarioScript(testFileUrl: string, file: string): string {
  return readFileSync(new URL(file, testFileUrl), 'utf8');
}
