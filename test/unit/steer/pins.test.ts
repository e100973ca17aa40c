// Where an uplink's pins go. bpffs refuses names containing a dot (lab,
// Debian 6.1: mkdir /sys/fs/bpf/x/up0.300 -> EPERM), which VLAN devices have.
import { describe, expect, it } from 'vitest';
import { SteerPinError } from '../../../src/steer/errors.js';
import { pinDirFor } from '../../../src/steer/object.js';

describe('pinDirFor', () => {
  it('uses the device name, with dots and percent signs escaped', () => {
    expect(pinDirFor('/sys/fs/bpf/ipsec-offload', 'eth0')).toBe('/sys/fs/bpf/ipsec-offload/eth0');
    expect(pinDirFor('/p', 'eth0.100')).toBe('/p/eth0%2e100');
    expect(pinDirFor('/p', 'a%2e')).toBe('/p/a%252e');
    expect(pinDirFor('/p', 'a.b')).not.toBe(pinDirFor('/p', 'a%2eb'));
  });

  it('refuses what cannot be a device name', () => {
    for (const bad of ['', '.', '..', 'a/b', 'a b', 'sixteen-chars-xx']) expect(() => pinDirFor('/p', bad)).toThrow(SteerPinError);
  });
});
