// Control-socket commands of steering (documented in docs/steer.md):
//   steer.status {uplink?}                -> SteerUplinkStatus[]
//   steer.list   {uplink?}                -> SteerListView[] (per-entry counters)
//   steer.add    {uplink?, mac, vlan?, port} -> {uplink, entry: SteerFdbView}
//   steer.del    {uplink?, mac, vlan?}     -> {uplink, deleted}
//   steer.detach {uplink}                 -> SteerDetachReport
// Steering's typed errors become control errors with a code the CLI maps to
// an exit status; an invalid request lists one issue per line.
import { ControlCommandError } from '../../daemon/control/protocol.js';
import type { ControlServer } from '../../daemon/control/server.js';
import { SteerBpfError, SteerConflictError, SteerDeviceError, SteerInvalidError, SteerNotFoundError, SteerPinError } from '../errors.js';
import { SteerUsageError } from '../steering.js';
import type { SteerListView } from '../views.js';
import { SteerNotManagedError, type SteerService } from './service.js';
import { uplinkListings, uplinkNames, uplinkStatuses, type SteerUplinkStatus } from './views.js';

/** The message of an invalid request: one issue per line (the CLI prints it as it is). */
export function issuesMessage(e: SteerInvalidError): string {
  return ['invalid steering request:', ...e.issues.map((i) => `  - ${i.at}: ${i.message}`)].join('\n');
}

/** Steering's typed errors -> control errors (ENOENT: exit 4, EINVAL: exit 2 in the CLI). */
export function steerControlError(e: unknown): unknown {
  if (e instanceof SteerInvalidError) return new ControlCommandError('EINVAL', issuesMessage(e));
  if (e instanceof SteerNotFoundError || e instanceof SteerNotManagedError) return new ControlCommandError('ENOENT', e.message);
  if (e instanceof SteerConflictError) return new ControlCommandError('EBUSY', e.message);
  if (e instanceof SteerDeviceError) return new ControlCommandError('ENODEV', e.message);
  if (e instanceof SteerUsageError) return new ControlCommandError('EAGAIN', e.message);
  if (e instanceof SteerPinError) return new ControlCommandError('EIO', e.message);
  if (e instanceof SteerBpfError) return new ControlCommandError(e.code, e.message);
  return e;
}

async function mapped<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw steerControlError(e);
  }
}

type Args = Record<string, unknown>;

function args(a: unknown): Args {
  if (a === null || typeof a !== 'object' || Array.isArray(a)) throw new ControlCommandError('EINVAL', 'arguments must be an object');
  return a as Args;
}

function optString(a: Args, key: string): string | undefined {
  const v = a[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string' || v === '') throw new ControlCommandError('EINVAL', `${key} must be a non-empty string`);
  return v;
}

function reqString(a: Args, key: string): string {
  const v = optString(a, key);
  if (v === undefined) throw new ControlCommandError('EINVAL', `${key} is required`);
  return v;
}

function optVlan(a: Args): number | undefined {
  const v = a.vlan;
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 4094) throw new ControlCommandError('EINVAL', 'vlan must be an integer 0..4094 (0 = untagged)');
  return v;
}

export function registerSteerCommands(control: ControlServer, service: SteerService): void {
  const base = (): { pinRoot: string; netns?: NonNullable<SteerService['netns']> } => ({
    pinRoot: service.pinRoot,
    ...(service.netns ? { netns: service.netns } : {}),
  });
  const daemonOf = (uplink: string): ReturnType<SteerService['daemonView']> => service.daemonView(uplink) ?? service.unmanagedView();

  // Reads answer after what is queued (a pass, an add) has run, so a script sees what it just did.
  control.handle('steer.status', async (raw): Promise<SteerUplinkStatus[]> => {
    const only = optString(args(raw), 'uplink');
    await service.idle();
    return mapped(() => uplinkStatuses(uplinkNames(service.configured, base(), only), base(), daemonOf, (u) => service.reader(u), only !== undefined));
  });

  control.handle('steer.list', async (raw): Promise<SteerListView[]> => {
    const only = optString(args(raw), 'uplink');
    await service.idle();
    return mapped(() => uplinkListings(uplinkNames(service.configured, base(), only), base(), (u) => service.reader(u), only !== undefined));
  });

  control.handle('steer.add', (raw) => {
    const a = args(raw);
    const uplink = optString(a, 'uplink');
    const vlan = optVlan(a);
    const entry = { mac: reqString(a, 'mac'), port: reqString(a, 'port'), ...(uplink !== undefined ? { uplink } : {}), ...(vlan !== undefined ? { vlan } : {}) };
    return mapped(() => service.add(entry));
  });

  control.handle('steer.del', (raw) => {
    const a = args(raw);
    const uplink = optString(a, 'uplink');
    const vlan = optVlan(a);
    const key = { mac: reqString(a, 'mac'), ...(uplink !== undefined ? { uplink } : {}), ...(vlan !== undefined ? { vlan } : {}) };
    return mapped(() => service.del(key));
  });

  control.handle('steer.detach', (raw) => {
    const uplink = reqString(args(raw), 'uplink');
    return mapped(() => service.detach(uplink));
  });
}
