// The VFs as the config declares them, resolved for use: the allowance
// sa.add is checked against, the identity rule a connection is matched with
// (configured namespace names turned into namespace identities, now), and the
// owner record the offload planner gets.
import type { ChildOwner } from '../../offload/types.js';
import { vfInterfaceName, type PfConfig, type PfVfConfig } from '../config.js';
import type { VfAllowance } from './host-child.js';
import type { IdentityRule } from './identity.js';
import { netnsPath, nsIdOf } from './peer.js';
import { parsePrefix, type Prefix } from './prefixes.js';

export interface VfSpec {
  name: string;
  cfg: PfVfConfig;
  allowance: VfAllowance;
  interface: string;
}

export function vfSpecs(c: PfConfig): VfSpec[] {
  return Object.entries(c.vfs)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, cfg]) => ({
      name,
      cfg,
      interface: vfInterfaceName(name, cfg),
      allowance: {
        name,
        ifId: cfg.if_id,
        addresses: cfg.addresses.map((a) => parsePrefix(a)).filter((p): p is Prefix => p !== undefined),
        maxSas: cfg.max_sas,
        ...(cfg.route_table !== undefined ? { routeTable: cfg.route_table } : {}),
      },
    }));
}

/** Identity rules with namespaces resolved now (a namespace created later is found on the next connection). */
export function identityRules(specs: readonly VfSpec[]): IdentityRule[] {
  return specs.map((s) => {
    const u = s.cfg.peer.unix;
    const t = s.cfg.peer.tls;
    return {
      vf: s.name,
      ...(u ? { unix: { netns: nsIdOf(u.netns_path ?? netnsPath(u.netns as string)), ...(u.uid !== undefined ? { uid: u.uid } : {}) } } : {}),
      ...(t ? { tls: { ...(t.fingerprint !== undefined ? { fingerprint: t.fingerprint } : {}), ...(t.cn !== undefined ? { cn: t.cn } : {}) } } : {}),
    };
  });
}

export function ownerOf(s: VfSpec, device: string, software?: 'spi-collision'): ChildOwner {
  return { vf: s.name, device, hwSlots: s.cfg.hw_slots, ...(software ? { software } : {}) };
}

/** The offload model's key of a VF CHILD_SA (never a charon uniqueid). */
export const childKey = (vf: string, uniqueid: number): string => `vf:${vf}:${uniqueid}`;
