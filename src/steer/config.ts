// The `steer:` section of the daemon's configuration, and how one uplink's
// configuration, the PF's VF list and the SA model's ESP exceptions combine
// into the desired state reconcile() takes. The daemon's config schema embeds
// steerConfigSchema; everything here is pure.
import { z } from 'zod';
import type { SteerDesired, SteerEspSpec, SteerFdbSpec, SteerPortSpec } from './desired.js';
import { DEFAULT_PIN_ROOT } from './object.js';
import { steeringFromVfs, type VfSkip, type VfSteeringInfo } from './vf.js';
import { isValid } from './validate.js';
import { normalizeMac } from './records.js';

const ifname = z.string().min(1).max(15, 'interface names have at most 15 characters').regex(/^[^\s/:]+$/, 'not a valid interface name');
const mac = z.string().refine(isValid, 'a MAC address like 02:00:00:00:01:01');
const vlan = z.number().int().min(0).max(4094);

const portSchema = z
  .object({
    device: ifname,
    /** source MAC the port must send from (anti-spoof); omit to leave it unchecked */
    mac: mac.optional(),
    /** access VLAN: popped toward the port, pushed toward the uplink; 0 = trunk */
    vlan: vlan.default(0),
  })
  .strict();

const fdbSchema = z
  .object({
    mac,
    vlan: vlan.default(0),
    port: ifname,
  })
  .strict();

export const steerUplinkSchema = z
  .object({
    device: ifname,
    /** XDP attach mode; auto = native, generic when the driver has none */
    mode: z.enum(['auto', 'native', 'generic']).default('auto'),
    /** VLAN RX offload on the uplink: warn, or turn it off */
    rx_vlan_offload: z.enum(['warn', 'disable']).default('warn'),
    ports: z.array(portSchema).default([]),
    fdb: z.array(fdbSchema).default([]),
    /** steer each VF's MAC + VLAN (as set on this PF) to a port: VF index -> port device */
    vf_ports: z.record(z.string().regex(/^\d+$/, 'a VF index'), ifname).default({}),
  })
  .strict();

export const steerConfigSchema = z
  .object({
    pin_root: z.string().startsWith('/').default(DEFAULT_PIN_ROOT),
    uplinks: z.array(steerUplinkSchema).default([]),
  })
  .strict();

export type SteerUplinkConfig = z.output<typeof steerUplinkSchema>;
export type SteerConfig = z.output<typeof steerConfigSchema>;

/**
 * Desired state of one uplink: its configured ports and entries, plus one
 * port and entry per VF mapped in vf_ports (from the PF's VF list), plus the
 * ESP exceptions of the SAs terminated here. A port or entry that the
 * configuration also names wins over the VF-derived one.
 */
export function desiredFromConfig(
  uplink: SteerUplinkConfig,
  vfs: readonly VfSteeringInfo[],
  esp: readonly SteerEspSpec[],
): { desired: SteerDesired; skipped: VfSkip[] } {
  const fromVfs = steeringFromVfs(
    vfs.filter((v) => uplink.vf_ports[String(v.vf)] !== undefined),
    (vf) => uplink.vf_ports[String(vf)],
  );
  const configured = new Set(uplink.ports.map((p) => p.device));
  const ports: SteerPortSpec[] = [...uplink.ports, ...fromVfs.ports.filter((p) => !configured.has(p.device))];
  const keys = new Set(uplink.fdb.map((f) => `${normalizeMac(f.mac)}/${f.vlan}`));
  const fdb: SteerFdbSpec[] = [
    ...uplink.fdb.map((f) => ({ ...f, origin: 'config' as const })),
    ...fromVfs.fdb.filter((f) => !keys.has(`${f.mac}/${f.vlan ?? 0}`)),
  ];
  return { desired: { ports, fdb, esp: [...esp] }, skipped: fromVfs.skipped };
}
