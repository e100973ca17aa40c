// The daemon module: wires the xfrm interface service to the daemon's shared
// connections (rtnetlink and the VICI session in the configured namespace)
// and to the control socket.
import type { DaemonContext, DaemonModule, ModuleFactory } from '../daemon/modules.js';
import { registerXfrmiCommands } from './commands.js';
import { XfrmiService } from './service.js';

export const xfrmiModule: ModuleFactory = (ctx: DaemonContext): DaemonModule => {
  const service = new XfrmiService({
    links: ctx.links,
    linkMonitor: ctx.linkMonitor,
    vici: ctx.vici,
    log: ctx.log,
    config: ctx.config().xfrmi,
  });
  registerXfrmiCommands(ctx.control, service);
  return {
    name: 'xfrmi',
    start: () => service.start(),
    stop: () => service.stop(),
    reconfigure: (config) => service.reconfigure(config.xfrmi),
  };
};
