// Wiring: config, logger, kernel and charon connections, the offload
// service and the control socket; signals (TERM/INT stop, HUP reloads the
// config and reopens the log file, USR1 only reopens the log file).
import { existsSync, readFileSync } from 'node:fs';
import { XfrmClient } from '../xfrm/client.js';
import { XfrmMonitor } from '../xfrm/monitor.js';
import { LinkClient } from '../link/client.js';
import { LinkMonitor } from '../link/monitor.js';
import { EthtoolClient } from '../link/ethtool.js';
import { ViciClient } from '../vici/client/client.js';
import { createLogger, type EventLogger } from '../log/logger.js';
import { ConfigError, loadConfig, restartKeys } from './config.js';
import type { Config } from './config-schema.js';
import { OffloadService } from './offload-service.js';
import { ControlServer } from './control/server.js';
import { registerOffloadCommands } from './commands.js';
import { executorOptions, plannerConfig } from './planner-config.js';
import { MODULES, type DaemonModule } from './modules.js';
import { packageVersion } from './version.js';

export interface DaemonOptions {
  configPath: string;
  /** log to stderr as well */
  stderr?: boolean;
  /** stderr log as coloured text (a terminal) instead of JSON */
  prettyStderr?: boolean;
  /** an uncaught error is logged as daemon.crashed and ends the process (exit 70) */
  exitOnCrash?: boolean;
}

export interface RunningDaemon {
  stop(signal?: string): Promise<void>;
  readonly service: OffloadService;
  readonly config: Config;
}

export async function startDaemon(o: DaemonOptions): Promise<RunningDaemon> {
  let config = loadConfig(o.configPath);
  if (config.netns && !existsSync(`/run/netns/${config.netns}`)) {
    throw new ConfigError(o.configPath, [`netns: no network namespace named ${JSON.stringify(config.netns)} (ip netns list shows them)`]);
  }
  const log: EventLogger = createLogger({ file: config.log.file, stderr: o.stderr || config.log.stderr, prettyStderr: Boolean(o.prettyStderr), level: config.log.level });
  log.event('config.loaded', { path: o.configPath });
  const crashed = (e: unknown): void => {
    const err = e instanceof Error ? e : new Error(String(e));
    log.event('daemon.crashed', { error: err.message, ...(err.stack ? { stack: err.stack } : {}) }, 'error');
    log.flush();
    process.stderr.write(`ipsec-offload: daemon crashed: ${err.stack ?? err.message}\n`);
    process.exit(70);
  };
  if (o.exitOnCrash) {
    process.on('uncaughtException', crashed);
    process.on('unhandledRejection', crashed);
  }
  let viciError: string | undefined;
  const netns = config.netns ? { name: config.netns } : undefined;
  const nsOpt = netns ? { netns } : {};

  const xfrm = await XfrmClient.open(nsOpt);
  const xfrmMonitor = XfrmMonitor.open({ ...nsOpt, groups: ['sa', 'expire', 'aevents'] });
  const links = LinkClient.open(nsOpt);
  const linkMonitor = LinkMonitor.open({ ...nsOpt, addresses: true });
  const ethtool = await EthtoolClient.open(nsOpt);
  const vici = new ViciClient({ ...(config.vici.socket ? { socketPath: config.vici.socket } : {}), timeoutMs: config.vici.timeout });
  vici.on('connected', () => {
    viciError = undefined;
    log.event('vici.connected', { socket: vici.socketPath });
  });
  vici.on('disconnected', (reason) => {
    viciError = String((reason as { message?: string }).message ?? reason);
    log.event('vici.disconnected', { socket: vici.socketPath, error: viciError }, 'warn');
  });
  let reconnects = 0;
  vici.on('reconnected', () => log.event('vici.reconnected', { socket: vici.socketPath, attempt: ++reconnects }));
  vici.on('error', (e) => log.event('vici.error', { error: e.message }, 'warn'));

  const service = new OffloadService({
    xfrm,
    xfrmMonitor,
    links,
    linkMonitor,
    ethtool,
    vici,
    session: vici,
    log,
    planner: plannerConfig(config),
    executor: executorOptions(config),
    resyncIntervalMs: config.offload.resync_interval,
  });

  const control = new ControlServer({ path: config.control.socket, ...(config.control.group ? { gid: groupId(config.control.group) } : {}) }, log);
  registerOffloadCommands(control, service, () => config, {
    version: packageVersion(),
    configPath: o.configPath,
    vici,
    viciError: () => viciError,
    logFile: config.log.file,
    logLevel: () => config.log.level,
    netns: config.netns,
  });
  await control.listen();

  let modules: DaemonModule[] = [];
  const reopen = (signal: string): void => {
    log.reopen();
    if (log.file) log.event('log.reopened', { file: log.file, signal });
  };
  const reload = (): void => {
    reopen('SIGHUP');
    try {
      const next = loadConfig(o.configPath);
      for (const m of modules) m.reconfigure?.(next);
      const restartNeeded = restartKeys(config, next);
      config = next;
      log.setLevel(next.log.level);
      service.reconfigure(plannerConfig(next), executorOptions(next));
      log.event('config.reloaded', { path: o.configPath, ...(restartNeeded.length ? { restartNeeded } : {}) }, restartNeeded.length ? 'warn' : 'info');
    } catch (e) {
      const problems = e instanceof ConfigError ? e.problems : [(e as Error).message];
      log.event('config.invalid', { path: o.configPath, errors: problems, kept: 'previous' }, 'error');
    }
  };
  const onUsr1 = (): void => reopen('SIGUSR1');
  // Installed before waiting for charon: a SIGHUP then must not end the daemon.
  process.on('SIGHUP', reload);
  process.on('SIGUSR1', onUsr1);

  // charon may start after us: wait for it, saying where we look.
  for (let attempt = 1; ; attempt++) {
    try {
      // A short first try, so `status` can say why early on; then patient ones.
      await vici.connect({ timeoutMs: attempt === 1 ? 2000 : 10_000 });
      break;
    } catch (e) {
      viciError = (e as Error).message;
      log.event('vici.disconnected', { socket: vici.socketPath, error: `${viciError} (attempt ${attempt}; retrying)` }, 'warn');
    }
  }
  await service.start();
  modules = MODULES.map((make) =>
    make({ config: () => config, log, netns, vici, links, linkMonitor, xfrm, control, offload: service }),
  );
  for (const m of modules) await m.start();
  log.event('daemon.started', { version: packageVersion(), pid: process.pid, config: o.configPath, ...(config.netns ? { netns: config.netns } : {}) });

  let stopping = false;
  return {
    service,
    get config() {
      return config;
    },
    async stop(signal = 'stop') {
      if (stopping) return;
      stopping = true;
      log.event('daemon.stopping', { signal });
      process.off('SIGHUP', reload);
      process.off('SIGUSR1', onUsr1);
      process.off('uncaughtException', crashed);
      process.off('unhandledRejection', crashed);
      for (const m of [...modules].reverse()) await m.stop();
      service.stop();
      await control.close();
      xfrmMonitor.close();
      linkMonitor.close();
      xfrm.close();
      links.close();
      ethtool.close();
      await vici.close();
      log.flush();
    },
  };
}

function groupId(name: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  const line = readFileSync('/etc/group', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`));
  const gid = line?.split(':')[2];
  if (gid === undefined) throw new ConfigError('control.group', [`control.group: no group named ${JSON.stringify(name)} in /etc/group`]);
  return Number(gid);
}
