import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { Option } from 'commander';
import type { SaRow } from '../../daemon/views.js';
import type { StatusView } from '../../daemon/commands.js';
import { age, bytes, table } from '../format.js';

export function registerSa(program: Command, ctx: CliContext): void {
  const sa = program
    .command('sa')
    .description('SAs managed by the daemon: where each one is (offloaded or software) and why; manual pins')
    .addHelpText('after', '\nExamples:\n  ipsec-offload sa list\n  ipsec-offload sa show 0xc1a2b3c4\n  ipsec-offload sa demote site-a/bulk && ipsec-offload sa unpin site-a/bulk');

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
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  ipsec-offload sa list',
        '  ipsec-offload sa list --conn "site-*" --state software',
        '  ipsec-offload sa list --json | jq -r \'.[] | select(.state != "offloaded") | "\\(.spi) \\(.reason)"\'',
        '',
        'Columns: CONN/CHILD (IKE config/CHILD_SA name), ID (CHILD_SA uniqueid), DIR, SPI,',
        'PEER (remote address), DEV (device it is on, or would be on), STATE (offloaded,',
        'software, pending: a swap in flight, missing: lost by the kernel and being',
        'reinstalled; * = pinned with sa promote/demote), REASON (why it is where it is),',
        'ESN, BYTES, AGE (since the daemon first saw it).',
      ].join('\n'),
    )
    .action(async (o: { conn?: string; state?: string }) => {
      const rows = (await ctx.call('sa.list', o)) as SaRow[];
      const why = rows.length === 0 && !ctx.globals.json ? await emptyReason(Boolean(o.conn || o.state)) : '';
      ctx.out(rows, () => (rows.length === 0 ? why : saTable(rows)));
    });

  /** Why `sa list` is empty, for a person. */
  async function emptyReason(filtered: boolean): Promise<string> {
    const s = (await ctx.call('status')) as StatusView;
    if (!s.vici.connected) return `no SAs: charon is not connected on ${s.vici.socket}${s.vici.error ? ` (${s.vici.error})` : ''}; see ipsec-offload status`;
    if (filtered && s.sas.total > 0) return `no SAs match (${s.sas.total} SAs in all)`;
    if (s.children === 0) return 'no SAs: charon has no CHILD_SA installed (swanctl --list-sas; swanctl --initiate --child NAME)';
    return 'no SAs in the kernel for charon\'s CHILD_SAs yet (ipsec-offload wait, then list again)';
  }

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
      .addHelpText(
        'after',
        [
          '',
          'Examples:',
          `  ipsec-offload sa ${name} 0xc1a2b3c4`,
          `  ipsec-offload sa ${name} "site-*"`,
          '',
          'A pin holds for the SAs named now; a rekey makes new SAs, which follow the',
          'config (offload.rules in the config file is the lasting choice).',
        ].join('\n'),
      )
      .action(async (ref: string) => {
        const rows = (await ctx.call('sa.pin', { ref, mode })) as SaRow[];
        ctx.out(rows, () => saTable(rows));
      });
  }
}
