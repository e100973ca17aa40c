import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { XfrmiListView } from '../../xfrmi/commands.js';
import type { RouteRow, XfrmiRow } from '../../xfrmi/types.js';
import { table } from '../format.js';

export function registerXfrmi(program: Command, ctx: CliContext): void {
  program
    .command('xfrmi')
    .description('xfrm interfaces that follow the CHILD_SAs (if_id_in/if_id_out)')
    .command('list')
    .description('if_id, interface, underlying device, state, owning CHILD_SAs and routes; conflicts below the table')
    .addHelpText('after', '\nExamples:\n  ipsec-offload xfrmi list\n  ipsec-offload xfrmi list --json')
    .action(async () => {
      const view = (await ctx.call('xfrmi.list')) as XfrmiListView;
      ctx.out(view, () => render(view, Date.now()));
    });
}

function render(v: XfrmiListView, now: number): string {
  const lines: string[] = [];
  if (!v.synced) lines.push("charon's CHILD_SAs are not fully known (VICI down or resyncing): nothing is removed until they are");
  if (v.interfaces.length === 0) {
    lines.push('no xfrm interfaces: no CHILD_SA has an if_id (swanctl.conf if_id_in / if_id_out)');
    return lines.join('\n');
  }
  lines.push(
    table(
      ['IF_ID', 'NAME', 'IFINDEX', 'LINK', 'STATE', 'MTU', 'OWNER', 'CHILD_SAS', 'ROUTES'],
      v.interfaces.map((r) => [
        String(r.ifId),
        r.name,
        r.ifindex === null ? '-' : String(r.ifindex),
        r.link ?? '-',
        state(r, now),
        r.mtu === null ? '-' : String(r.mtu),
        r.owner ?? '-',
        r.conns.map((c) => `${c.conn}/${c.child}#${c.uniqueid}`).join(',') || '-',
        r.routes.map((x) => route(x, now)).join(', ') || '-',
      ]),
    ),
  );
  for (const r of v.interfaces) if (r.conflict) lines.push(`! if_id ${r.ifId}: ${r.conflict.kind}: ${r.conflict.message}`);
  for (const r of v.interfaces) if (r.error) lines.push(`! if_id ${r.ifId}: the kernel refused ${r.error} (retried)`);
  for (const r of v.interfaces) {
    for (const x of r.routes) if (x.state === 'conflict' && x.reason) lines.push(`! if_id ${r.ifId}: route ${x.dst}: ${x.reason}`);
  }
  return lines.join('\n');
}

function state(r: XfrmiRow, now: number): string {
  if (r.state === 'idle' && r.removeAt !== null) return `idle (goes in ${secondsLeft(r.removeAt, now)}s)`;
  return r.state;
}

function route(x: RouteRow, now: number): string {
  const where = `${x.dst}${x.table === 254 ? '' : ` table ${x.table}`}`;
  if (x.state === 'installed') return where;
  if (x.state === 'idle' && x.removeAt !== null) return `${where} (idle, goes in ${secondsLeft(x.removeAt, now)}s)`;
  if (x.state === 'skipped') return `${where} (skipped: ${x.reason ?? ''})`;
  return `${where} (${x.state})`;
}

function secondsLeft(at: number, now: number): number {
  return Math.max(0, Math.ceil((at - now) / 1000));
}
