// The daemon modules of the VF proxy: `pfModule` in role pf, `vfModule` in
// role vf; each is inert in the other roles. The role itself changes only
// with a restart (a reload that changes it is refused).
import type { DaemonContext, DaemonModule, ModuleFactory } from '../daemon/modules.js';
import { XfrmMonitor } from '../xfrm/monitor.js';
import { VfAgent } from './agent/agent.js';
import { registerAgentCommands, registerPfCommands } from './commands.js';
import type { VfAgentConfig } from './config.js';
import { PfService } from './pf/service.js';

const inert = (name: string, role: string, ctx: DaemonContext): DaemonModule => ({
  name,
  start: () => Promise.resolve(),
  stop: () => undefined,
  reconfigure: (c) => {
    if (c.role === role && ctx.config().role !== role) throw new Error(`role ${role} needs a restart of the daemon`);
  },
});

export const pfModule: ModuleFactory = (ctx: DaemonContext): DaemonModule => {
  const cfg = ctx.config();
  if (cfg.role !== 'pf' || !cfg.pf) return inert('vf-pf', 'pf', ctx);
  let monitor: XfrmMonitor | undefined;
  let service: PfService | undefined;
  return {
    name: 'vf-pf',
    async start() {
      monitor = XfrmMonitor.open({ ...(ctx.netns ? { netns: ctx.netns } : {}), groups: ['expire'], keepAlive: false });
      monitor.on('error', (e) => ctx.log.event('daemon.error', { what: 'vf expire monitor', error: e.message }, 'error'));
      service = new PfService({
        config: cfg.pf as NonNullable<typeof cfg.pf>,
        links: ctx.links,
        linkMonitor: ctx.linkMonitor,
        xfrm: ctx.xfrm,
        xfrmMonitor: monitor,
        offload: ctx.offload,
        log: ctx.log,
        seqRekeyAt: cfg.offload.seq_rekey_at,
      });
      registerPfCommands(ctx.control, service);
      await service.start();
    },
    async stop() {
      await service?.stop();
      monitor?.close();
    },
    reconfigure(next) {
      if (next.role !== 'pf' || !next.pf) throw new Error('role pf: changing the role needs a restart of the daemon');
      service?.reconfigure(next.pf);
    },
  };
};

export const vfModule: ModuleFactory = (ctx: DaemonContext): DaemonModule => {
  const cfg = ctx.config();
  if (cfg.role !== 'vf' || !cfg.vf) return inert('vf-agent', 'vf', ctx);
  const agent = new VfAgent({ vici: ctx.vici, xfrm: ctx.xfrm, log: ctx.log, config: () => ctx.config().vf as VfAgentConfig });
  registerAgentCommands(ctx.control, () => agent.view());
  return {
    name: 'vf-agent',
    start: () => agent.start(),
    stop: () => agent.stop(),
    reconfigure(next) {
      if (next.role !== 'vf' || !next.vf) throw new Error('role vf: changing the role needs a restart of the daemon');
    },
  };
};
