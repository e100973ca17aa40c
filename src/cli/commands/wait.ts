import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { ControlClientError } from '../../daemon/control/client.js';
import { EXIT, fail } from '../context.js';

export function registerWait(program: Command, ctx: CliContext): void {
  program
    .command('wait')
    .description('wait until the daemon has acted on everything it knows (for scripts), or with --ready until it answers')
    .option('--resync', 're-read charon and the kernel first')
    .option('--ready', 'only wait until the daemon answers on its control socket (systemd ExecStartPost)')
    .option('--timeout <seconds>', 'give up after this long (exit 3 with --ready)', '60')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  swanctl --initiate --child gcm && ipsec-offload wait && ipsec-offload sa list',
        '  ipsec-offload wait --ready --timeout 30',
      ].join('\n'),
    )
    .action(async (o: { resync?: boolean; ready?: boolean; timeout: string }) => {
      const seconds = Number(o.timeout);
      if (!Number.isFinite(seconds) || seconds <= 0) fail(EXIT.usage, `--timeout: ${JSON.stringify(o.timeout)} is not a number of seconds`);
      const deadline = Date.now() + seconds * 1000;
      if (o.ready) {
        for (;;) {
          try {
            await ctx.call('status', {}, { timeoutMs: Math.max(1000, deadline - Date.now()) });
            ctx.out({ ready: true }, () => 'ready');
            return;
          } catch (e) {
            if (!(e instanceof ControlClientError && e.code === 'ENODAEMON') || Date.now() > deadline) throw e;
          }
          await new Promise((r) => setTimeout(r, 200));
        }
      }
      const r = await ctx.call(o.resync ? 'resync' : 'idle', {}, { timeoutMs: seconds * 1000 });
      ctx.out(r, () => 'idle');
    });
}
