// Control-socket commands of the xfrm interface module.
import type { ControlServer } from '../daemon/control/server.js';
import type { XfrmiService } from './service.js';
import type { XfrmiRow } from './types.js';

export interface XfrmiListView {
  /** charon's CHILD_SAs are known completely (removals happen only then) */
  synced: boolean;
  interfaces: XfrmiRow[];
}

export function registerXfrmiCommands(control: ControlServer, service: XfrmiService): void {
  // Answers after any pass in progress, so a script sees the outcome of what it just did.
  control.handle('xfrmi.list', async (): Promise<XfrmiListView> => {
    service.schedule();
    await service.idle();
    return { synced: service.synced, interfaces: service.rows };
  });
}
