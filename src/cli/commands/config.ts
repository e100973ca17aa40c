import type { Command } from 'commander';
import { resolve } from 'node:path';
import type { CliContext } from '../context.js';
import { cliConfigPath } from '../context.js';

export function registerConfig(program: Command, ctx: CliContext): void {
  const config = program.command('config').description('the config file').addHelpText('after', '\nExamples:\n  ipsec-offload config check');
  config
    .command('check')
    .description('validate a config file as the daemon would (at start and on reload); print the effective settings')
    .option('-c, --config <file>', 'config file (default: $IPSEC_OFFLOAD_CONFIG or /etc/ipsec-offload/config.yaml)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  ipsec-offload config check',
        '  ipsec-offload config check --config ./config.yaml --json   # with every default filled in',
        '  ipsec-offload config check && systemctl reload ipsec-offload',
        '',
        'Exit status 6 and one line per problem (key path: reason) when the file is invalid.',
      ].join('\n'),
    )
    .action(async (o: { config?: string }) => {
      const path = resolve(o.config ?? cliConfigPath());
      const { loadConfig } = await import('../../daemon/config.js');
      const c = loadConfig(path);
      ctx.out(c, () =>
        [
          `${path}: valid`,
          `  charon VICI socket: ${c.vici.socket ?? 'default (/var/run/charon.vici, else /run/strongswan/charon.vici)'}`,
          `  network namespace:  ${c.netns ?? "the daemon's own"}`,
          `  control socket:     ${c.control.socket}${c.control.group ? ` (root and group ${c.control.group})` : ' (root only)'}`,
          `  log:                ${c.log.file} (level ${c.log.level}${c.log.stderr ? ', also stderr' : ''})`,
          `  offload:            ${c.offload.default ? 'on' : 'off'} by default, ${c.offload.rules.length} rule(s), ${Object.keys(c.offload.devices).length} device override(s)`,
        ].join('\n'),
      );
    });
}
