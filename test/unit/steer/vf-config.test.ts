// Desired state from VF info and from the configuration, and the VLAN RX
// offload policy: pure functions, tables.
import { describe, expect, it } from 'vitest';
import { desiredFromConfig, steerConfigSchema } from '../../../src/steer/config.js';
import { steeringFromVfs } from '../../../src/steer/vf.js';
import { enforceVlanOffload, vlanOffloadAction, VlanOffloadError, type VlanOffloadControl } from '../../../src/steer/vlan-offload.js';
import type { FeatureState } from '../../../src/link/ethtool.js';

describe('steeringFromVfs', () => {
  it('one port (anti-spoof on the VF MAC, access VLAN) and one entry per usable VF', () => {
    const r = steeringFromVfs(
      [
        { vf: 0, mac: '02:00:00:00:0A:00', vlan: 100, vlanProto: 0x8100 },
        { vf: 1, mac: '00:00:00:00:00:00', vlan: 0 },
        { vf: 2, mac: '02:00:00:00:0a:02', vlan: 200, vlanProto: 0x88a8 },
        { vf: 3, mac: '02:00:00:00:0a:03', vlan: 0 },
        { vf: 4, mac: '03:00:00:00:0a:04', vlan: 0 },
        { vf: 5, mac: '02:00:00:00:0a:05', vlan: 0, vlanProto: 0x88a8 },
      ],
      (vf) => (vf === 3 ? undefined : `pf0vf${vf}`),
    );
    expect(r.ports).toEqual([
      { device: 'pf0vf0', mac: '02:00:00:00:0a:00', vlan: 100 },
      { device: 'pf0vf5', mac: '02:00:00:00:0a:05', vlan: 0 },
    ]);
    expect(r.fdb).toEqual([
      { mac: '02:00:00:00:0a:00', vlan: 100, port: 'pf0vf0', origin: 'vf' },
      { mac: '02:00:00:00:0a:05', vlan: 0, port: 'pf0vf5', origin: 'vf' },
    ]);
    expect(r.skipped).toEqual([
      { vf: 1, reason: 'no MAC set on the PF' },
      { vf: 2, reason: 'VLAN protocol 0x88a8 is not 802.1Q' },
      { vf: 3, reason: 'no port device for this VF' },
      { vf: 4, reason: '03:00:00:00:0a:04 is not a unicast MAC' },
    ]);
  });
});

describe('steer configuration', () => {
  it('defaults, and config wins over VF-derived ports and entries', () => {
    const cfg = steerConfigSchema.parse({
      uplinks: [
        {
          device: 'eth0',
          ports: [{ device: 'rep0', mac: '02:00:00:00:00:99', vlan: 100 }],
          fdb: [{ mac: '02:00:00:00:0A:00', vlan: 100, port: 'rep0' }],
          vf_ports: { '0': 'rep0', '1': 'rep1' },
        },
      ],
    });
    expect(cfg.pin_root).toBe('/sys/fs/bpf/ipsec-offload');
    const up = cfg.uplinks[0];
    if (!up) throw new Error('no uplink');
    expect(up).toMatchObject({ mode: 'auto', rx_vlan_offload: 'warn' });
    const { desired, skipped } = desiredFromConfig(
      up,
      [
        { vf: 0, mac: '02:00:00:00:0a:00', vlan: 100 },
        { vf: 1, mac: '02:00:00:00:0a:01', vlan: 0 },
        { vf: 2, mac: '02:00:00:00:0a:02', vlan: 0 },
      ],
      [{ daddr: '10.0.0.1', spi: 5 }],
    );
    expect(skipped).toEqual([]);
    expect(desired.ports).toEqual([
      { device: 'rep0', mac: '02:00:00:00:00:99', vlan: 100 },
      { device: 'rep1', mac: '02:00:00:00:0a:01', vlan: 0 },
    ]);
    expect(desired.fdb).toEqual([
      { mac: '02:00:00:00:0A:00', vlan: 100, port: 'rep0', origin: 'config' },
      { mac: '02:00:00:00:0a:01', vlan: 0, port: 'rep1', origin: 'vf' },
    ]);
    expect(desired.esp).toEqual([{ daddr: '10.0.0.1', spi: 5 }]);
  });

  it('rejects what cannot be steered, naming the key', () => {
    const r = steerConfigSchema.safeParse({ uplinks: [{ device: 'eth0', fdb: [{ mac: 'zz', vlan: 4095, port: 'x' }] }] });
    expect(r.success).toBe(false);
    const paths = r.error?.issues.map((i) => i.path.join('.'));
    expect(paths).toEqual(['uplinks.0.fdb.0.mac', 'uplinks.0.fdb.0.vlan']);
  });
});

describe('VLAN RX offload policy', () => {
  const st = (active: boolean, fixed = false): FeatureState => ({ active, fixed, requested: active });

  it('decides from the feature state and the policy', () => {
    expect(vlanOffloadAction(st(false), 'disable')).toBe('ok');
    expect(vlanOffloadAction(st(true), 'warn')).toBe('warn');
    expect(vlanOffloadAction(st(true), 'disable')).toBe('disable');
    expect(vlanOffloadAction(st(true, true), 'disable')).toBe('fixed');
  });

  it('turns it off and re-reads; a feature that stays on is an error', async () => {
    let on = true;
    const control: VlanOffloadControl = {
      rxVlanOffload: () => Promise.resolve(st(on)),
      setRxVlanOffload: (_dev, v) => {
        on = v;
        return Promise.resolve();
      },
    };
    await expect(enforceVlanOffload(control, 'eth0', 'warn')).resolves.toMatchObject({ action: 'warn' });
    await expect(enforceVlanOffload(control, 'eth0', 'disable')).resolves.toMatchObject({ action: 'disabled', after: { active: false } });
    const stuck: VlanOffloadControl = { rxVlanOffload: () => Promise.resolve(st(true)), setRxVlanOffload: () => Promise.resolve() };
    await expect(enforceVlanOffload(stuck, 'eth0', 'disable')).rejects.toBeInstanceOf(VlanOffloadError);
  });
});
