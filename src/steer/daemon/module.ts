// The daemon module: steering beside the offload service. Wires the steering
// service to the daemon's rtnetlink connection and link monitor (in the
// configured namespace), an ethtool socket there, the offload model's SAs
// (for ESP exceptions) and the control socket.
import type { DaemonContext, DaemonModule, ModuleFactory } from '../../daemon/modules.js';
import { EthtoolClient } from '../../link/ethtool.js';
import type { VlanOffloadControl } from '../vlan-offload.js';
import { registerSteerCommands } from './commands.js';
import { SteerService } from './service.js';

export const steerModule: ModuleFactory = (ctx: DaemonContext): DaemonModule => {
  // Opened on first use (an uplink's attach): a daemon without steering, or
  // a kernel without ethtool netlink, never needs it; a failed open is retried.
  let ethtool: Promise<EthtoolClient> | undefined;
  const client = (): Promise<EthtoolClient> => {
    if (!ethtool) {
      const p = EthtoolClient.open(ctx.netns ? { netns: ctx.netns } : {});
      ethtool = p;
      p.catch(() => {
        if (ethtool === p) ethtool = undefined;
      });
    }
    return ethtool;
  };
  const vlanControl: VlanOffloadControl = {
    rxVlanOffload: async (dev) => (await client()).rxVlanOffload(dev),
    setRxVlanOffload: async (dev, on) => (await client()).setRxVlanOffload(dev, on),
  };
  const service = new SteerService({
    links: ctx.links,
    linkMonitor: ctx.linkMonitor,
    ethtool: vlanControl,
    log: ctx.log,
    netns: ctx.netns,
    config: ctx.config().steer,
    model: () => ctx.offload.state,
  });
  registerSteerCommands(ctx.control, service);
  return {
    name: 'steer',
    start: () => service.start(),
    async stop() {
      // Programs and maps stay attached and pinned: a restart keeps traffic flowing.
      await service.stop();
      if (ethtool) (await ethtool.catch(() => undefined))?.close();
    },
    reconfigure: (next) => service.reconfigure(next.steer),
  };
};
