import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { VfListResult } from '../../vf/commands.js';
import type { VfRow } from '../../vf/pf/service.js';
import type { AgentView } from '../../vf/agent/agent.js';
import { table } from '../format.js';

export function registerVf(program: Command, ctx: CliContext): void {
  const vf = program
    .command('vf')
    .description('the VF proxy: VF agents and the SAs the PF terminates for them (role pf), or this agent (role vf)')
    .addHelpText('after', '\nExamples:\n  ipsec-offload vf list\n  ipsec-offload vf reset tenant0');
  vf.command('list')
    .description('per VF: PF settings, agent, epoch, last heartbeat, CHILD_SAs and SAs, hardware slots used/quota, last cleanup')
    .addHelpText('after', '\nExamples:\n  ipsec-offload vf list\n  ipsec-offload vf list --json')
    .action(async () => {
      const v = (await ctx.call('vf.list')) as VfListResult;
      ctx.out(v, () => (v.role === 'pf' ? renderPf(v) : renderAgent(v.agent)));
    });
  vf.command('reset')
    .description("remove everything of a VF now (SAs, policies, routes, interface) and drop its agent, which reconnects and starts afresh")
    .argument('<vf>', 'VF name (pf.vfs) or SR-IOV VF index')
    .addHelpText('after', '\nExamples:\n  ipsec-offload vf reset tenant0\n  ipsec-offload vf reset 3')
    .action(async (ref: string) => {
      const r = (await ctx.call('vf.reset', { vf: ref }, { timeoutMs: 60_000 })) as { vf: string; removed: number };
      ctx.out(r, () => `VF ${r.vf}: ${r.removed} SA${r.removed === 1 ? '' : 's'} removed`);
    });
}

const ms = (n: number | null): string => (n === null ? '-' : n < 1000 ? `${n}ms` : `${(n / 1000).toFixed(1)}s`);

function renderPf(v: VfListResult & { role: 'pf' }): string {
  const lines = [`PF ${v.device}; agents on ${[v.listening.unix, v.listening.tls].filter(Boolean).join(' and ') || '-'}`];
  if (v.vfs.length === 0) {
    lines.push('no VFs configured (pf.vfs)');
    return lines.join('\n');
  }
  lines.push(
    table(
      ['VF', 'INDEX', 'MAC', 'VLAN', 'IF_ID', 'INTERFACE', 'STATE', 'EPOCH', 'HEARTBEAT', 'CHILD_SAS', 'SAS', 'HW SLOTS', 'LAST CLEANUP'],
      v.vfs.map((r) => [
        r.name,
        r.vf === null ? '-' : String(r.vf),
        r.present ? (r.mac ?? '-') : 'absent',
        r.vlan === null ? '-' : String(r.vlan),
        String(r.ifId),
        r.ifindex === null ? `${r.interface} (none)` : r.interface,
        state(r),
        r.epoch ?? '-',
        r.lastSeenMs === null ? '-' : `${ms(r.lastSeenMs)} ago`,
        String(r.children),
        `${r.sas}/${r.maxSas}`,
        `${r.hwSlots.used}/${r.hwSlots.quota}`,
        r.lastCleanup ? `${r.lastCleanup.reason} (${r.lastCleanup.count}, ${ms(r.lastCleanup.msAgo)} ago)` : '-',
      ]),
    ),
  );
  for (const r of v.vfs) if (r.peer) lines.push(`${r.name}: ${r.state === 'connected' ? '' : 'last '}peer ${r.peer}`);
  for (const r of v.vfs) if (r.lastRefusal) lines.push(`! ${r.name}: ${r.refusals} refused, last ${r.lastRefusal.request}: ${r.lastRefusal.reason}: ${r.lastRefusal.message}`);
  for (const r of v.vfs) if (r.error) lines.push(`! ${r.name}: ${r.error}`);
  return lines.join('\n');
}

function state(r: VfRow): string {
  if (r.state === 'restoring' && r.graceLeftMs !== null) return `restoring (${ms(r.graceLeftMs)} left)`;
  return r.state;
}

function renderAgent(a: AgentView): string {
  return [
    `agent: ${a.state} to the PF at ${a.pf}${a.vf ? ` as VF ${a.vf}` : ''}`,
    `epoch ${a.epoch ?? '-'}, heartbeat every ${ms(a.heartbeatMs)}, ${a.children} CHILD_SA${a.children === 1 ? '' : 's'} at the PF, ${a.refused} refused`,
    ...(a.lastError ? [`last error: ${a.lastError}`] : []),
  ].join('\n');
}
