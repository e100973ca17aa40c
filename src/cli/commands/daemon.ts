import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { DEFAULT_CONFIG_PATH } from '../../daemon/config.js';
import { startDaemon } from '../../daemon/daemon.js';
import { EXIT, fail } from '../context.js';

export function registerDaemon(program: Command, _ctx: CliContext): void {
  program
    .command('daemon')
    .description('run the daemon (in the foreground, as systemd expects)')
    .option('-c, --config <file>', 'config file', DEFAULT_CONFIG_PATH)
    .option('-f, --foreground', 'also log to stderr')
    .addHelpText('after', '\nExample:\n  ipsec-offload daemon --config /etc/ipsec-offload/config.yaml --foreground')
    .action(async (o: { config: string; foreground?: boolean }) => {
      if (process.getuid?.() !== 0) fail(EXIT.permission, 'the daemon needs root (CAP_NET_ADMIN for XFRM, rtnetlink and the control socket)');
      const d = await startDaemon({ configPath: o.config, stderr: Boolean(o.foreground) });
      const stop = (sig: string): void => {
        void d.stop(sig).then(() => process.exit(0));
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}
