// Small checks shared by the planner and the manual commands.
import { parseMac } from '../netlink/codec/struct.js';

/** A VLAN id the datapath can key on: 0 (untagged) or 1..4094. */
export function validVlan(vlan: number): boolean {
  return Number.isInteger(vlan) && vlan >= 0 && vlan <= 4094;
}

/** Six hex octets separated by colons. */
export function isValid(mac: string): boolean {
  try {
    parseMac(mac);
    return true;
  } catch {
    return false;
  }
}

/** Group bit set (broadcast included): never an fdb key or a port's own MAC. */
export function isMulticast(mac: string): boolean {
  return ((parseMac(mac)[0] ?? 0) & 1) === 1;
}

export function isZero(mac: string): boolean {
  return parseMac(mac).every((b) => b === 0);
}
