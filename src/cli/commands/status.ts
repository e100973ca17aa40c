import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { StatusView } from '../../daemon/commands.js';
import { age } from '../format.js';

export function registerStatus(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('daemon, charon connection and SA counts')
    .addHelpText('after', '\nExamples:\n  ipsec-offload status\n  ipsec-offload status --json')
    .action(async () => {
      const s = (await ctx.call('status')) as StatusView;
      ctx.out(s, () =>
        [
          `ipsec-offload ${s.version}, pid ${s.pid}, up ${age(s.uptimeSeconds)}, config ${s.config}`,
          `charon:  ${s.vici.connected ? 'connected' : 'NOT connected'} on ${s.vici.socket}${s.vici.synced ? '' : ' (resync pending)'}`,
          `SAs:     ${s.sas.total} (${s.sas.offloaded} offloaded, ${s.sas.software} software, ${s.sas.pending} pending, ${s.sas.missing} missing) in ${s.children} CHILD_SAs`,
          `devices: ${s.devices.total} (${s.devices.offloadCapable} with ESP offload)`,
        ].join('\n'),
      );
    });
}
