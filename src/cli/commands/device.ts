import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { DeviceRow } from '../../daemon/views.js';
import { table } from '../format.js';

export function registerDevice(program: Command, ctx: CliContext): void {
  program
    .command('device')
    .description('devices that can carry offloaded SAs')
    .addHelpText('after', '\nExamples:\n  ipsec-offload device list')
    .command('list')
    .description('ESP offload capability, ESN support, SA table size and use')
    .addHelpText('after', '\nExamples:\n  ipsec-offload device list\n  ipsec-offload device list --json')
    .action(async () => {
      const rows = ((await ctx.call('device.list')) as DeviceRow[]).filter((d) => ctx.globals.json || d.espOffload || d.offloaded > 0);
      ctx.out(rows, () =>
        rows.length === 0
          ? 'no device with ESP offload (ethtool -k DEV | grep esp-hw-offload)'
          : table(
              ['DEV', 'IFINDEX', 'LINK', 'ESP-OFFLOAD', 'ESN', 'SAS', 'CAPACITY', 'ADDRESSES'],
              rows.map((d) => [
                d.name,
                String(d.ifindex),
                d.up ? 'up' : 'down',
                d.silentFallback ? 'no (silent fallback)' : d.espOffload ? 'yes' : 'no',
                d.esn,
                String(d.offloaded),
                d.capacity === null ? '?' : `${d.capacity} (${d.capacitySource})`,
                d.addresses.join(',') || '-',
              ]),
            ),
      );
    });
}
