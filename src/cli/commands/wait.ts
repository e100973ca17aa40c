import type { Command } from 'commander';
import type { CliContext } from '../context.js';

export function registerWait(program: Command, ctx: CliContext): void {
  program
    .command('wait')
    .description('wait until the daemon has acted on everything it knows (for scripts)')
    .option('--resync', 're-read charon and the kernel first')
    .addHelpText('after', '\nExamples:\n  swanctl --initiate --child gcm && ipsec-offload wait && ipsec-offload sa list')
    .action(async (o: { resync?: boolean }) => {
      const r = await ctx.call(o.resync ? 'resync' : 'idle');
      ctx.out(r, () => 'idle');
    });
}
