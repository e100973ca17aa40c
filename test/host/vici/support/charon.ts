// Real charon instances for the VICI host tests: each in its own network
// namespace with a private tmpfs /run (charon's pidfile is compiled in as
// /var/run/charon.pid), its own strongswan.conf (STRONGSWAN_CONF) and a VICI
// socket in a temp dir the test process can reach.
//
// Two datapaths: 'kernel' (kernel-netlink only: IKE works on this host, CHILD_SA
// installation fails for want of ESP) and 'libipsec' (kernel-libipsec: ESP in
// charon's userspace over a TUN device, so CHILD_SAs really install, carry
// traffic and rekey; libipsec has no ESN and no IPComp).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const CHARON = '/usr/lib/ipsec/charon';

export interface RunResult {
  status: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; allowFail?: boolean; timeoutMs?: number } = {}): RunResult {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...opts.env }, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`cannot run ${cmd}: ${r.error.message}`);
  const res = { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
  if (res.status !== 0 && !opts.allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${res.status}): ${(res.stderr || res.stdout).trim().split('\n').slice(-10).join('\n')}`);
  }
  return res;
}

export function uniqueSuffix(): string {
  return randomBytes(3).toString('hex');
}

export class Netns {
  private constructor(readonly name: string) {}

  static create(prefix: string): Netns {
    const ns = new Netns(`${prefix}${uniqueSuffix()}`);
    run('ip', ['netns', 'add', ns.name]);
    run('ip', ['-n', ns.name, 'link', 'set', 'lo', 'up']);
    return ns;
  }

  ip(...args: string[]): RunResult {
    return run('ip', ['-n', this.name, ...args]);
  }

  exec(cmd: string, args: readonly string[], opts: { allowFail?: boolean } = {}): RunResult {
    return run('ip', ['netns', 'exec', this.name, cmd, ...args], opts);
  }

  delete(): void {
    run('ip', ['netns', 'del', this.name], { allowFail: true });
  }
}

export type Datapath = 'kernel' | 'libipsec';

const BASE_PLUGINS = 'random nonce aes sha1 sha2 hmac kdf gmp gcm openssl x509 pubkey pem pkcs1';

export interface CharonOptions {
  name: string;
  netns: Netns;
  datapath: Datapath;
  /** swanctl.conf text */
  swanctlConf: string;
  /** extra lines inside charon { } */
  charonExtra?: string;
}

export class Charon {
  readonly name: string;
  readonly netns: Netns;
  readonly dir: string;
  readonly socketPath: string;
  readonly confPath: string;
  readonly logPath: string;
  #proc: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();

  constructor(opts: CharonOptions) {
    this.name = opts.name;
    this.netns = opts.netns;
    this.dir = mkdtempSync(join(tmpdir(), `vici-${opts.name}-`));
    this.socketPath = join(this.dir, 'charon.vici');
    this.confPath = join(this.dir, 'strongswan.conf');
    this.logPath = join(this.dir, 'charon.log');
    const swanctlDir = join(this.dir, 'swanctl');
    for (const d of ['x509', 'x509ca', 'x509ocsp', 'x509aa', 'x509ac', 'x509crl', 'pubkey', 'private', 'rsa', 'ecdsa', 'bliss', 'pkcs8', 'pkcs12']) {
      mkdirSync(join(swanctlDir, d), { recursive: true });
    }
    // kernel-libipsec must load before kernel-netlink to take the IPsec part.
    const kernel = opts.datapath === 'libipsec' ? 'kernel-libipsec kernel-netlink' : 'kernel-netlink';
    // No ';' separators: strongswan.conf takes one setting per line.
    writeFileSync(
      this.confPath,
      [
        'charon {',
        '  load_modular = no',
        `  load = ${BASE_PLUGINS} ${kernel} socket-default vici`,
        '  install_routes = no',
        ...(opts.charonExtra ? [opts.charonExtra] : []),
        '  filelog {',
        '    charon {',
        `      path = ${this.logPath}`,
        '      time_format = %T',
        '      flush_line = yes',
        '      default = 1',
        '    }',
        '  }',
        '  plugins {',
        '    vici {',
        `      socket = unix://${this.socketPath}`,
        '    }',
        '  }',
        '}',
        'swanctl {',
        `  socket = unix://${this.socketPath}`,
        '}',
        '',
      ].join('\n'),
    );
    writeFileSync(join(swanctlDir, 'swanctl.conf'), opts.swanctlConf);
  }

  get pid(): number | undefined {
    return this.#proc?.pid;
  }

  get running(): boolean {
    return this.#proc !== undefined && this.#proc.exitCode === null && this.#proc.signalCode === null;
  }

  /** Starts charon and waits until its VICI socket accepts connections. */
  async start(): Promise<void> {
    if (this.running) throw new Error(`charon ${this.name} already runs`);
    // ip netns exec gives a private mount namespace; a fresh tmpfs on /run
    // there keeps this instance's pidfile apart from every other charon's.
    const proc = spawn(
      'ip',
      ['netns', 'exec', this.netns.name, 'sh', '-c', `mount -t tmpfs tmpfs /run && exec env STRONGSWAN_CONF=${this.confPath} ${CHARON}`],
      { stdio: 'ignore' },
    );
    this.#proc = proc;
    this.#exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`charon ${this.name} exited during start; log:\n${this.logTail()}`);
      if (existsSync(this.socketPath) && (await canConnect(this.socketPath))) return;
      await sleep(50);
    }
    throw new Error(`charon ${this.name} did not open ${this.socketPath} within 15 s; log:\n${this.logTail()}`);
  }

  /** SIGTERM (clean shutdown: charon deletes its SAs and removes the socket), then waits for exit. */
  async stop(): Promise<void> {
    await this.#signal('SIGTERM');
  }

  /** SIGKILL: charon vanishes, its socket file stays behind. */
  async kill(): Promise<void> {
    await this.#signal('SIGKILL');
  }

  async #signal(sig: NodeJS.Signals): Promise<void> {
    if (!this.running) return;
    this.#proc?.kill(sig);
    const timeout = sleep(10_000).then(() => 'timeout' as const);
    if ((await Promise.race([this.#exited.then(() => 'exited' as const), timeout])) === 'timeout') {
      this.#proc?.kill('SIGKILL');
      await this.#exited;
    }
  }

  swanctl(args: readonly string[], opts: { allowFail?: boolean } = {}): RunResult {
    return run('swanctl', args, { env: { STRONGSWAN_CONF: this.confPath, SWANCTL_DIR: join(this.dir, 'swanctl') }, allowFail: opts.allowFail ?? false });
  }

  log(): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : '';
  }

  logTail(lines = 30): string {
    return this.log().trim().split('\n').slice(-lines).join('\n');
  }

  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function canConnect(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Polls `check` until it returns a value (not undefined) or the deadline passes. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
