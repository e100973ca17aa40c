// Daemon modules beside the offload service (xfrm interfaces, steering, the
// VF proxy). Each gets the shared connections and registers its own control
// commands; add a module by adding its factory to MODULES.
import type { Config } from './config-schema.js';
import type { EventLogger } from '../log/logger.js';
import type { NetnsSpec } from '../netlink/netns.js';
import type { ViciClient } from '../vici/client/client.js';
import type { LinkClient } from '../link/client.js';
import type { LinkMonitor } from '../link/monitor.js';
import type { XfrmClient } from '../xfrm/client.js';
import type { ControlServer } from './control/server.js';
import type { OffloadService } from './offload-service.js';
import { pfModule, vfModule } from '../vf/module.js';
import { xfrmiModule } from '../xfrmi/module.js';
import { steerModule } from '../steer/daemon/module.js';

export interface DaemonContext {
  /** the config in force (changes on SIGHUP reload) */
  config(): Config;
  log: EventLogger;
  netns: NetnsSpec | undefined;
  vici: ViciClient;
  links: LinkClient;
  linkMonitor: LinkMonitor;
  xfrm: XfrmClient;
  control: ControlServer;
  offload: OffloadService;
}

export interface DaemonModule {
  readonly name: string;
  /** after the offload service has synced with charon and the kernel */
  start(): Promise<void>;
  stop(): Promise<void> | void;
  /** a new config was loaded (SIGHUP); the module may refuse it by throwing */
  reconfigure?(config: Config): void;
}

export type ModuleFactory = (ctx: DaemonContext) => DaemonModule;

export const MODULES: ModuleFactory[] = [xfrmiModule, steerModule, pfModule, vfModule];
