// Control-socket commands of the offload service. Answers are built from the
// keyless model only; nothing here can reach the key store.
import type { ControlServer } from './control/server.js';
import { ControlCommandError } from './control/protocol.js';
import type { OffloadService } from './offload-service.js';
import type { Config } from './config-schema.js';
import { deviceRows, resolveSaRef, saRows, type SaFilter, type SaRow, type DeviceRow } from './views.js';
import { plannerConfig } from './planner-config.js';
import type { ViciSession } from '../vici/session/session.js';

export interface StatusView {
  version: string;
  pid: number;
  uptimeSeconds: number;
  config: string;
  /** the network namespace it manages; null: its own */
  netns: string | null;
  /** last connection error while charon is not connected */
  vici: { socket: string; connected: boolean; synced: boolean; error: string | null };
  log: { file: string | null; level: string };
  children: number;
  sas: { total: number; offloaded: number; software: number; pending: number; missing: number };
  devices: { total: number; offloadCapable: number };
}

const startedAt = Date.now();

export function registerOffloadCommands(
  control: ControlServer,
  service: OffloadService,
  config: () => Config,
  meta: {
    version: string;
    configPath: string;
    vici: ViciSession;
    viciError?: () => string | undefined;
    logFile?: string;
    logLevel?: () => string;
    netns?: string | undefined;
  },
): void {
  control.handle('status', (): StatusView => {
    const rows = saRows(service.state, service.plan);
    const count = (s: SaRow['state']): number => rows.filter((r) => r.state === s).length;
    return {
      version: meta.version,
      pid: process.pid,
      uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
      config: meta.configPath,
      netns: meta.netns ?? null,
      vici: {
        socket: meta.vici.socketPath,
        connected: meta.vici.connected,
        synced: service.state.charonSynced,
        error: meta.vici.connected ? null : (meta.viciError?.() ?? null),
      },
      log: { file: meta.logFile ?? null, level: meta.logLevel?.() ?? 'info' },
      children: [...service.state.children.values()].filter((c) => !c.gone).length,
      sas: { total: rows.length, offloaded: count('offloaded'), software: count('software'), pending: count('pending'), missing: count('missing') },
      devices: {
        total: service.state.devices.size,
        offloadCapable: [...service.state.devices.values()].filter((d) => d.espOffload).length,
      },
    };
  });

  control.handle('sa.list', (args): SaRow[] => saRows(service.state, service.plan, saFilter(args)));

  control.handle('sa.show', (args): SaRow[] => {
    const ref = stringArg(args, 'ref');
    const found = resolveSaRef(service.state, ref);
    if (found.length === 0) throw new ControlCommandError('ENOENT', `no SA matches ${JSON.stringify(ref)} (give an SPI like 0xc1a2b3c4, a CHILD_SA uniqueid, or conn[/child])`);
    return saRows(service.state, service.plan, {}, new Set(found.map((s) => s.key)));
  });

  control.handle('sa.pin', async (args): Promise<SaRow[]> => {
    const ref = stringArg(args, 'ref');
    const mode = (args as { mode?: unknown }).mode;
    if (mode !== 'offload' && mode !== 'software' && mode !== null) throw new ControlCommandError('EINVAL', 'mode must be "offload", "software" or null (unpin)');
    const found = resolveSaRef(service.state, ref);
    if (found.length === 0) throw new ControlCommandError('ENOENT', `no SA matches ${JSON.stringify(ref)}`);
    service.pin(
      found.map((s) => s.key),
      mode ?? undefined,
    );
    await service.idle();
    return saRows(service.state, service.plan, {}, new Set(found.map((s) => s.key)));
  });

  control.handle('device.list', (): DeviceRow[] => deviceRows(service.state, plannerConfig(config())));

  /** Waits until the plan/execute loop has nothing left to do (tests, `--wait`). */
  control.handle('idle', async (): Promise<{ idle: true }> => {
    service.schedule();
    await service.idle();
    return { idle: true };
  });

  control.handle('resync', async (): Promise<{ ok: true }> => {
    await service.resyncCharon('operator');
    await service.resyncKernel('operator');
    await service.idle();
    return { ok: true };
  });
}

function saFilter(args: unknown): SaFilter {
  const a = (args ?? {}) as { conn?: unknown; state?: unknown };
  const f: SaFilter = {};
  if (a.conn !== undefined) {
    if (typeof a.conn !== 'string') throw new ControlCommandError('EINVAL', 'conn must be a string');
    f.conn = a.conn;
  }
  if (a.state !== undefined) {
    if (a.state !== 'offloaded' && a.state !== 'software' && a.state !== 'pending' && a.state !== 'missing') {
      throw new ControlCommandError('EINVAL', 'state must be one of offloaded, software, pending, missing');
    }
    f.state = a.state;
  }
  return f;
}

function stringArg(args: unknown, key: string): string {
  const v = (args as Record<string, unknown> | null)?.[key];
  if (typeof v !== 'string' || v === '') throw new ControlCommandError('EINVAL', `${key} is required`);
  return v;
}
