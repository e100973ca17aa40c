// What callers may hand the encoder: plain objects, Maps or ViciMessages as
// sections, arrays as lists, and scalars that become value bytes. Scalars are
// written the way charon reads them: decimal numbers, booleans as yes/no.
import { SecretBytes } from '../../netlink/codec/secret.js';
import { ViciEncodeError } from './errors.js';
import type { ViciMessage } from './message.js';

/** Brand that ViciMessage carries, so this module can recognise one without importing it. */
export const VICI_MESSAGE_BRAND: unique symbol = Symbol('ViciMessage');

export function isViciMessage(v: unknown): v is ViciMessage {
  return typeof v === 'object' && v !== null && (v as { [VICI_MESSAGE_BRAND]?: unknown })[VICI_MESSAGE_BRAND] === true;
}

/** A value's bytes. SecretBytes is revealed only into the encoded packet. */
export type ViciScalar = string | number | bigint | boolean | Uint8Array | SecretBytes;

/** null/undefined entries are skipped, so optional settings can be written inline. */
export type ViciInputValue = ViciScalar | readonly ViciScalar[] | ViciInputSection | null | undefined;

export type ViciInputSection = ViciMessage | ReadonlyMap<string, ViciInputValue> | { readonly [key: string]: ViciInputValue };

export function isScalar(v: unknown): v is ViciScalar {
  return (
    typeof v === 'string' ||
    typeof v === 'number' ||
    typeof v === 'bigint' ||
    typeof v === 'boolean' ||
    v instanceof Uint8Array ||
    v instanceof SecretBytes
  );
}

/** The bytes of one scalar; `path` names it in errors (never the value itself). */
export function scalarBytes(v: ViciScalar, path: string): Buffer {
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v)) throw new ViciEncodeError(path, 'numbers must be safe integers (pass other values as strings)');
    return Buffer.from(String(v), 'latin1');
  }
  if (typeof v === 'bigint') return Buffer.from(v.toString(), 'latin1');
  if (typeof v === 'boolean') return Buffer.from(v ? 'yes' : 'no', 'latin1');
  if (v instanceof SecretBytes) return v.reveal();
  return Buffer.isBuffer(v) ? v : Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

/** Walks a section input's entries in their order. */
export function sectionEntries(section: ViciInputSection): Iterable<[string, unknown]> {
  if (section instanceof Map) return section.entries() as Iterable<[string, unknown]>;
  if (isViciMessage(section)) return section.entries();
  // Plain objects keep insertion order except for integer-like keys ("0", "1"),
  // which come first: pass a Map where that order matters.
  return Object.entries(section);
}

export function isSectionInput(v: unknown): v is ViciInputSection {
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v) || v instanceof Uint8Array || v instanceof SecretBytes) return false;
  if (v instanceof Map || isViciMessage(v)) return true;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

export function describeType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `an object of class ${(v as { constructor?: { name?: string } }).constructor?.name ?? 'unknown'}`;
  return `a ${typeof v}`;
}
