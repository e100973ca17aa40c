import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { CliContext } from '../context.js';
import type { RunningDaemon } from '../../daemon/daemon.js';
import { EXIT, cliConfigPath, fail } from '../context.js';

export function registerDaemon(program: Command, _ctx: CliContext): void {
  program
    .command('daemon')
    .description('run the daemon; it stays in the foreground (never forks), as systemd expects')
    .option('-c, --config <file>', 'config file (default: $IPSEC_OFFLOAD_CONFIG, else /etc/ipsec-offload/config.yaml)')
    .option('-f, --foreground', 'also log to stderr (coloured text on a terminal, JSON otherwise): for running it by hand')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  ipsec-offload daemon                                   # as the systemd unit runs it',
        '  ipsec-offload daemon --config ./config.yaml --foreground',
        '',
        'Signals: TERM/INT stop (SAs stay in the kernel as they are), HUP reloads the',
        'config (an invalid one is refused and the running config kept) and reopens',
        'the log file, USR1 only reopens the log file (logrotate).',
      ].join('\n'),
    )
    .action(async (o: { config?: string; foreground?: boolean }) => {
      if (process.getuid?.() !== 0) fail(EXIT.permission, 'the daemon needs root (CAP_NET_ADMIN for XFRM and rtnetlink, setns for netns, the control socket under /run)');
      // A signal before the daemon is up (waiting for charon) ends it at once:
      // nothing has been changed in the kernel yet.
      const running: { d?: RunningDaemon } = {};
      const stop = (sig: string): void => {
        const d = running.d;
        if (!d) {
          process.stderr.write(`ipsec-offload: ${sig} before the daemon was up; exiting\n`);
          process.exit(EXIT.ok);
        }
        void d.stop(sig).then(() => process.exit(EXIT.ok));
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
      // Loaded here: the other commands start faster without the daemon's modules.
      const { startDaemon } = await import('../../daemon/daemon.js');
      running.d = await startDaemon({
        configPath: resolve(o.config ?? cliConfigPath()),
        stderr: Boolean(o.foreground),
        prettyStderr: Boolean(o.foreground) && process.stderr.isTTY === true && !process.env.NO_COLOR,
        exitOnCrash: true,
      });
    });
}
