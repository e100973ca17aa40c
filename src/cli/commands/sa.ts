import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { Option } from 'commander';
import type { SaRow } from '../../daemon/views.js';
import { age, bytes, table } from '../format.js';

export function registerSa(program: Command, ctx: CliContext): void {
  const sa = program.command('sa').description('SAs managed by the daemon');

  function saTable(rows: SaRow[]): string {
    if (rows.length === 0) return 'no SAs';
    return table(
      ['CONN/CHILD', 'ID', 'DIR', 'SPI', 'PEER', 'DEV', 'STATE', 'REASON', 'ESN', 'BYTES', 'AGE'],
      rows.map((r) => [
        `${r.conn}/${r.child}`,
        String(r.uniqueid),
        r.dir,
        r.spi,
        r.dir === 'out' ? r.dst : r.src,
        r.dev ?? '-',
        r.state + (r.pin ? '*' : ''),
        r.reason,
        r.esn ? 'yes' : 'no',
        bytes(r.bytes),
        age(r.ageSeconds),
      ]),
    );
  }

  sa.command('list')
    .description('list SAs with their offload state and the reason')
    .option('--conn <pattern>', 'only these connections (conn, conn/child, globs with *)')
    .addOption(new Option('--state <state>', 'only SAs in this state').choices(['offloaded', 'software', 'pending', 'missing']))
    .addHelpText('after', '\nExamples:\n  ipsec-offload sa list\n  ipsec-offload sa list --conn "site-*" --state software\n  ipsec-offload sa list --json\n\n* after the state: pinned by an operator (sa promote/demote)')
    .action(async (o: { conn?: string; state?: string }) => {
      const rows = (await ctx.call('sa.list', o)) as SaRow[];
      ctx.out(rows, () => saTable(rows));
    });

  sa.command('show <ref>')
    .description('one SA or CHILD_SA in detail: SPI (0xc1a2b3c4), CHILD_SA uniqueid, or conn[/child]')
    .addHelpText('after', '\nExamples:\n  ipsec-offload sa show 0xc1a2b3c4\n  ipsec-offload sa show 12\n  ipsec-offload sa show lab/gcm')
    .action(async (ref: string) => {
      const rows = (await ctx.call('sa.show', { ref })) as SaRow[];
      ctx.out(rows, () => rows.map(detail).join('\n\n'));
    });

  function detail(r: SaRow): string {
    const lines = [
      `${r.conn}/${r.child} uniqueid ${r.uniqueid} reqid ${r.reqid}, ${r.dir}bound SA ${r.spi}`,
      `  ${r.src} -> ${r.dst}, ${r.aead ?? 'non-AEAD'}${r.esn ? ', ESN' : ''}${r.encap ? ', UDP-encapsulated' : ''}`,
      `  state ${r.state}${r.dev ? ` on ${r.dev}` : ''}: ${r.reason}${r.pin ? ` (pinned to ${r.pin})` : ''}`,
      `  ${bytes(r.bytes)}, ${r.packets} packets, ${r.rate} B/s, seen ${age(r.ageSeconds)} ago${r.reinstalled ? ', installed by ipsec-offload' : ''}`,
    ];
    if (r.failure) {
      lines.push(`  last offload failure on ${r.failure.dev} ${age(r.failure.secondsAgo)} ago: ${r.failure.reason}${r.failure.errno ? ` (errno ${r.failure.errno})` : ''}${r.failure.kernel ? `: "${r.failure.kernel}"` : ''}`);
    }
    return lines.join('\n');
  }

  for (const [name, mode, what] of [
    ['promote', 'offload', 'pin to hardware offload (kept there while the device can take it)'],
    ['demote', 'software', 'pin to software'],
    ['unpin', null, 'remove a pin: back to the configured policy'],
  ] as const) {
    sa.command(`${name} <ref>`)
      .description(`${what}; ref: SPI, CHILD_SA uniqueid, or conn[/child]`)
      .addHelpText('after', `\nExamples:\n  ipsec-offload sa ${name} 0xc1a2b3c4\n  ipsec-offload sa ${name} "site-*"`)
      .action(async (ref: string) => {
        const rows = (await ctx.call('sa.pin', { ref, mode })) as SaRow[];
        ctx.out(rows, () => saTable(rows));
      });
  }
}
