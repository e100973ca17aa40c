// Steering entries from SR-IOV VF info read on the PF: each VF's MAC + VLAN
// (as the PF configured them, never as the VF claims) steers to the VF's
// port (its switchdev representor, or whatever device the caller maps it
// to). Pure: the daemon passes the VF list it read over rtnetlink.
import type { SteerFdbSpec, SteerPortSpec } from './desired.js';
import { isMulticast, isValid, isZero } from './validate.js';
import { normalizeMac } from './records.js';

const ETH_P_8021Q = 0x8100;

/** The VF fields steering uses (a subset of src/link's VfInfo). */
export interface VfSteeringInfo {
  vf: number;
  mac: string;
  vlan: number;
  /** 0x8100 (802.1Q) or 0x88a8 (802.1ad); absent = 802.1Q */
  vlanProto?: number;
}

export interface VfSkip {
  vf: number;
  reason: string;
}

export interface VfSteering {
  ports: SteerPortSpec[];
  fdb: SteerFdbSpec[];
  /** VFs that cannot be steered, and why (unset MAC, 802.1ad, no port) */
  skipped: VfSkip[];
}

/**
 * One port and one fdb entry per usable VF: port = portOf(vf), anti-spoof on
 * the VF's MAC, access VLAN = the VF's VLAN (0 = untagged).
 */
export function steeringFromVfs(vfs: readonly VfSteeringInfo[], portOf: (vf: number) => string | undefined): VfSteering {
  const out: VfSteering = { ports: [], fdb: [], skipped: [] };
  for (const v of vfs) {
    const skip = (reason: string): void => void out.skipped.push({ vf: v.vf, reason });
    if (!isValid(v.mac) || isZero(v.mac)) {
      skip('no MAC set on the PF');
      continue;
    }
    const mac = normalizeMac(v.mac);
    if (isMulticast(mac)) {
      skip(`${mac} is not a unicast MAC`);
      continue;
    }
    if (v.vlan !== 0 && (v.vlanProto ?? ETH_P_8021Q) !== ETH_P_8021Q) {
      skip(`VLAN protocol 0x${(v.vlanProto ?? 0).toString(16)} is not 802.1Q`);
      continue;
    }
    const port = portOf(v.vf);
    if (port === undefined) {
      skip('no port device for this VF');
      continue;
    }
    out.ports.push({ device: port, mac, vlan: v.vlan });
    out.fdb.push({ mac, vlan: v.vlan, port, origin: 'vf' });
  }
  return out;
}
