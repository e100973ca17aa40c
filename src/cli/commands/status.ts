import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { StatusView } from '../../daemon/commands.js';
import { age } from '../format.js';

export function registerStatus(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .description('daemon, charon connection, SA and device counts, where it logs')
    .addHelpText('after', '\nExamples:\n  ipsec-offload status\n  ipsec-offload status --json | jq .sas')
    .action(async () => {
      const s = (await ctx.call('status')) as StatusView;
      ctx.out(s, () => statusText(s));
    });
}

export function statusText(s: StatusView): string {
  const charon = s.vici.connected
    ? `connected on ${s.vici.socket}${s.vici.synced ? '' : ' (resync pending)'}`
    : [
        `NOT connected on ${s.vici.socket}${s.vici.error ? `: ${s.vici.error}` : ''}`,
        '         is charon running with the vici plugin? Its socket is charon.plugins.vici.socket in strongswan.conf;',
        '         set vici.socket in the config file if it is not the default. Nothing is changed until charon is reached.',
      ].join('\n');
  return [
    `ipsec-offload ${s.version}, pid ${s.pid}, up ${age(s.uptimeSeconds)}, config ${s.config}${s.netns ? `, netns ${s.netns}` : ''}`,
    `charon:  ${charon}`,
    `SAs:     ${s.sas.total} (${s.sas.offloaded} offloaded, ${s.sas.software} software, ${s.sas.pending} pending, ${s.sas.missing} missing) in ${s.children} CHILD_SAs`,
    `devices: ${s.devices.total} (${s.devices.offloadCapable} with ESP offload)`,
    `log:     ${s.log.file ?? 'stderr'} (level ${s.log.level}; follow it with: ipsec-offload logs -f)`,
  ].join('\n');
}
