// Control-socket commands of the VF proxy (documented in docs/vf.md):
//   vf.list  {}          -> VfListResult (pf role: every VF; vf role: the agent)
//   vf.reset {vf}        -> {vf, removed}    (pf role: NAME or SR-IOV index)
// Answers come from the keyless ownership model and the agent's state only.
import { ControlCommandError } from '../daemon/control/protocol.js';
import type { ControlServer } from '../daemon/control/server.js';
import type { AgentView } from './agent/agent.js';
import { VfNotFoundError, type PfService, type VfListView } from './pf/service.js';

export type VfListResult = ({ role: 'pf' } & VfListView) | { role: 'vf'; agent: AgentView };

export function registerPfCommands(control: ControlServer, service: PfService): void {
  control.handle('vf.list', (): VfListResult => ({ role: 'pf', ...service.list() }));
  control.handle('vf.reset', async (args): Promise<{ vf: string; removed: number }> => {
    const ref = (args as { vf?: unknown } | undefined)?.vf;
    if (typeof ref !== 'string' && typeof ref !== 'number') throw new ControlCommandError('EINVAL', 'vf must be a VF name or an SR-IOV VF index');
    try {
      return await service.reset(String(ref));
    } catch (e) {
      if (e instanceof VfNotFoundError) throw new ControlCommandError('ENOENT', e.message);
      throw e;
    }
  });
}

export function registerAgentCommands(control: ControlServer, view: () => AgentView): void {
  control.handle('vf.list', (): VfListResult => ({ role: 'vf', agent: view() }));
  control.handle('vf.reset', () => {
    throw new ControlCommandError('EINVAL', 'vf reset is a PF command (this daemon runs role vf)');
  });
}
