// VLAN RX offload on the uplink. A NIC that strips 802.1Q tags before XDP
// runs hides the VLAN from steer_ingress (kernels before 6.8 cannot read a
// stripped tag from XDP at all), so every tagged frame would be keyed as
// untagged. At attach time the daemon checks the feature and either warns or,
// when the configuration says so, turns it off.
import type { FeatureState } from '../link/ethtool.js';

export type VlanOffloadPolicy = 'warn' | 'disable';

/**
 * What steering needs from ethtool. `rxVlanOffload` is EthtoolClient's
 * (src/link/ethtool.ts); `setRxVlanOffload` is ETHTOOL_MSG_FEATURES_SET of
 * "rx-vlan-hw-parse".
 */
export interface VlanOffloadControl {
  rxVlanOffload(dev: string): Promise<FeatureState>;
  setRxVlanOffload(dev: string, on: boolean): Promise<void>;
}

export type VlanOffloadAction =
  /** offload is off: tags reach XDP */
  | 'ok'
  /** offload is on; policy says warn */
  | 'warn'
  /** offload was on and has been turned off */
  | 'disabled'
  /** offload is on and cannot be turned off (fixed) */
  | 'fixed';

/** Pure: what to do about a feature state under a policy. */
export function vlanOffloadAction(state: FeatureState, policy: VlanOffloadPolicy): 'ok' | 'warn' | 'disable' | 'fixed' {
  if (!state.active) return 'ok';
  if (policy === 'warn') return 'warn';
  return state.fixed ? 'fixed' : 'disable';
}

export interface VlanOffloadReport {
  device: string;
  action: VlanOffloadAction;
  before: FeatureState;
  /** re-read after turning it off */
  after?: FeatureState;
  /** for the log when action is not 'ok' */
  message?: string;
}

/** The feature did not turn off although the kernel accepted the request. */
export class VlanOffloadError extends Error {
  override readonly name = 'VlanOffloadError';
  constructor(
    readonly device: string,
    readonly state: FeatureState,
  ) {
    super(`${device}: rx-vlan-offload is still on after turning it off`);
  }
}

export async function enforceVlanOffload(control: VlanOffloadControl, device: string, policy: VlanOffloadPolicy): Promise<VlanOffloadReport> {
  const before = await control.rxVlanOffload(device);
  const step = vlanOffloadAction(before, policy);
  const hidden = 'VLAN-tagged frames reach XDP without their tag and are not steered by VLAN';
  switch (step) {
    case 'ok':
      return { device, action: 'ok', before };
    case 'warn':
      return { device, action: 'warn', before, message: `${device}: rx-vlan-offload is on: ${hidden} (set rx_vlan_offload: disable for this uplink, or ethtool -K ${device} rxvlan off)` };
    case 'fixed':
      return { device, action: 'fixed', before, message: `${device}: rx-vlan-offload is on and fixed: ${hidden}` };
    case 'disable': {
      await control.setRxVlanOffload(device, false);
      const after = await control.rxVlanOffload(device);
      if (after.active) throw new VlanOffloadError(device, after);
      return { device, action: 'disabled', before, after, message: `${device}: rx-vlan-offload turned off for XDP VLAN steering` };
    }
  }
}
