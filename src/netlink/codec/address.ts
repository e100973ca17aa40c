// IP addresses as the kernel stores them (16-byte xfrm_address_t, 4/16-byte
// IFA/RTA addresses) and as people write them.
import ipaddr from 'ipaddr.js';

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;

export type Family = typeof AF_INET | typeof AF_INET6;

export function familyOf(address: string): Family {
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) return AF_INET;
  if (ipaddr.IPv6.isValid(address)) return AF_INET6;
  throw new TypeError(`not an IPv4 or IPv6 address: ${JSON.stringify(address)}`);
}

/** Address text -> 4 (IPv4) or 16 (IPv6) bytes. */
export function addressToBytes(address: string): Buffer {
  const family = familyOf(address);
  return Buffer.from(family === AF_INET ? ipaddr.IPv4.parse(address).toByteArray() : ipaddr.IPv6.parse(address).toByteArray());
}

/** 4 or 16 bytes (or the first 4/16 of a longer field) -> canonical text. */
export function bytesToAddress(bytes: Uint8Array, family: number): string {
  if (family === AF_INET) {
    return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  }
  if (family === AF_INET6) {
    return ipaddr.fromByteArray(Array.from(bytes.subarray(0, 16))).toString();
  }
  // Family unknown (AF_UNSPEC selector, zeroed field): only all-zero is meaningful.
  return bytes.subarray(0, 16).every((b) => b === 0) ? '' : `<family ${family}>`;
}

/** Canonical form of a user-supplied address, for comparisons. */
export function normalizeAddress(address: string): string {
  const family = familyOf(address);
  return bytesToAddress(addressToBytes(address), family);
}
