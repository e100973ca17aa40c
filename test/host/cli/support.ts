// The real daemon on this host, for the CLI tests: charon (kernel-netlink, IKE
// only: this kernel has no ESP) in a throwaway netns, the daemon managing that
// netns from the root namespace, its control socket, config and log in a temp
// dir. The CLI runs as its own process (from source, through tsx), exactly as
// a user runs it; control-socket tests also talk to the socket directly.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Charon, Netns, sleep, waitFor } from '../vici/support/charon.js';
import { controlCall } from '../../../src/daemon/control/client.js';

export const ROOT = new URL('../../../', import.meta.url).pathname;
const MAIN = join(ROOT, 'src/cli/main.ts');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI (from source) and waits for it. `as` runs it as another uid/gid (setpriv). */
export function cli(args: readonly string[], o: { as?: { uid: number; gid: number }; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): CliResult {
  const node = ['node', '--import', 'tsx', MAIN, ...args];
  const cmd = o.as ? ['setpriv', `--reuid=${o.as.uid}`, `--regid=${o.as.gid}`, '--clear-groups', '--', ...node] : node;
  const r = spawnSync(cmd[0] as string, cmd.slice(1), {
    cwd: ROOT,
    encoding: 'utf8',
    // No config file of the host leaks into a test.
    env: { ...cleanEnv(), NO_COLOR: '1', ...o.env },
    timeout: o.timeoutMs ?? 90_000,
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** This process's environment without the CLI's own variables: no config of the host leaks into a test. */
function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, IPSEC_OFFLOAD_CONFIG: '/nonexistent/ipsec-offload.yaml' };
  delete env.IPSEC_OFFLOAD_SOCKET;
  return env;
}

export interface DaemonOptions {
  /** YAML appended to the generated config */
  extra?: string;
  /** VICI socket to use instead of charon's */
  viciSocket?: string;
  /** start no charon */
  noCharon?: boolean;
  /** control.group */
  group?: string;
}

export class TestDaemon {
  readonly dir: string;
  readonly config: string;
  readonly socket: string;
  readonly logFile: string;
  proc: ChildProcess | undefined;
  stderr = '';
  #exited: Promise<number | null> = Promise.resolve(null);

  private constructor(
    readonly netns: Netns,
    readonly charon: Charon | undefined,
    o: DaemonOptions,
  ) {
    // 0755 so a non-root process can reach the socket and be refused by the socket itself.
    this.dir = mkdtempSync(join(tmpdir(), 'ipsec-offload-cli-'));
    chmodSync(this.dir, 0o755);
    this.config = join(this.dir, 'config.yaml');
    this.socket = join(this.dir, 'run', 'control.sock');
    this.logFile = join(this.dir, 'log', 'offload.log');
    this.writeConfig(o);
  }

  writeConfig(o: DaemonOptions, extra = o.extra ?? ''): void {
    const vici = o.viciSocket ?? this.charon?.socketPath ?? join(this.dir, 'no-charon.vici');
    writeFileSync(
      this.config,
      [
        `netns: ${this.netns.name}`,
        'vici:',
        `  socket: ${vici}`,
        'control:',
        `  socket: ${this.socket}`,
        ...(o.group ? [`  group: "${o.group}"`] : []),
        'log:',
        `  file: ${this.logFile}`,
        extra,
      ].join('\n') + '\n',
    );
  }

  static async start(o: DaemonOptions = {}): Promise<TestDaemon> {
    const netns = Netns.create('clih');
    let charon: Charon | undefined;
    if (!o.noCharon) {
      charon = new Charon({ name: 'cli', netns, datapath: 'kernel', swanctlConf: 'connections {\n}\n' });
      await charon.start();
    }
    const d = new TestDaemon(netns, charon, o);
    await d.spawn();
    return d;
  }

  /** Starts the daemon process and waits until its control socket answers. */
  async spawn(): Promise<void> {
    this.stderr = '';
    const p = spawn('node', ['--import', 'tsx', MAIN, 'daemon', '--config', this.config], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    this.proc = p;
    p.stderr?.setEncoding('utf8').on('data', (s: string) => (this.stderr += s));
    this.#exited = new Promise((r) => p.once('exit', (code) => r(code)));
    await waitFor(
      'the daemon to answer on its control socket',
      async () => {
        if (p.exitCode !== null) throw new Error(`daemon exited ${p.exitCode}: ${this.stderr}`);
        try {
          await controlCall('status', {}, { socket: this.socket, timeoutMs: 2000 });
          return true;
        } catch {
          return undefined;
        }
      },
      60_000,
      200,
    );
  }

  call(cmd: string, args: unknown = {}): Promise<unknown> {
    return controlCall(cmd, args, { socket: this.socket });
  }

  cli(args: readonly string[], o: Parameters<typeof cli>[1] = {}): CliResult {
    return cli(['--socket', this.socket, ...args], o);
  }

  signal(sig: NodeJS.Signals): void {
    this.proc?.kill(sig);
  }

  logLines(): Record<string, unknown>[] {
    if (!existsSync(this.logFile)) return [];
    return readFileSync(this.logFile, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  /** Waits for a log line with this event (and matching fields), after `after` lines. */
  waitForEvent(event: string, after = 0, match: (l: Record<string, unknown>) => boolean = () => true, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    return waitFor(`log event ${event}`, () => this.logLines().slice(after).find((l) => l.event === event && match(l)), timeoutMs, 100);
  }

  /** SIGTERM and wait; resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.proc && this.proc.exitCode === null) this.proc.kill('SIGTERM');
    const code = await Promise.race([this.#exited, sleep(20_000).then(() => 'timeout' as const)]);
    if (code === 'timeout') {
      this.proc?.kill('SIGKILL');
      return this.#exited;
    }
    return code;
  }

  async destroy(): Promise<void> {
    await this.stop();
    await this.charon?.destroy();
    this.netns.delete();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
