// The views are tables: each maps a VICI key to the view field it fills and
// how to read it. One walker goes over a section's entries once and applies
// the table; keys the table does not know stay in `raw`. Required fields throw
// a ViciFieldError that names the path; optional ones stay undefined.
import { ViciFieldError } from '../wire/errors.js';
import { ViciMessage, type ViciValue } from '../wire/message.js';
import { decimalBigint, decimalNumber, hexNumber } from '../wire/integers.js';

/** Where a value sits, for error messages (the path is built only on error). */
export interface FieldAt {
  sec: ViciMessage;
  key: string;
}

export function pathOf(at: FieldAt): string {
  const p = at.sec.path;
  return p ? `${p}.${at.key}` : at.key;
}

function fail(at: FieldAt, expected: string, v: ViciValue): never {
  const found = Buffer.isBuffer(v) ? `${v.length} bytes that are not` : v instanceof ViciMessage ? 'a section' : 'a list';
  throw new ViciFieldError(pathOf(at), expected, `found ${found}`);
}

function value(v: ViciValue, at: FieldAt, expected: string): Buffer {
  if (!Buffer.isBuffer(v)) fail(at, expected, v);
  return v;
}

// ---- converters: a VICI value -> a view field value --------------------------

export type Converter<T> = (v: ViciValue, at: FieldAt) => T;

export const text: Converter<string> = (v, at) => value(v, at, 'a value').toString('utf8');

export const decimal: Converter<number> = (v, at) => decimalNumber(value(v, at, 'a decimal integer')) ?? fail(at, 'a decimal integer', v);

export const hex: Converter<number> = (v, at) => hexNumber(value(v, at, 'hex digits')) ?? fail(at, 'hex digits', v);

export const counter: Converter<bigint> = (v, at) => decimalBigint(value(v, at, 'a decimal counter')) ?? fail(at, 'a decimal counter', v);

/** charon writes flags as "yes" (and esn as "1"); they are absent when false. */
export const flag: Converter<boolean> = (v, at) => {
  const s = value(v, at, 'yes/no').toString('latin1');
  if (s === 'yes' || s === '1' || s === 'true') return true;
  if (s === 'no' || s === '0' || s === 'false') return false;
  return fail(at, 'yes/no', v);
};

export const texts: Converter<string[]> = (v, at) => {
  if (!Array.isArray(v)) fail(at, 'a list', v);
  return v.map((b) => b.toString('utf8'));
};

// ---- tables -------------------------------------------------------------------

/** What one key does to the view under construction. */
export type FieldRule<T> = (out: T, v: ViciValue, at: FieldAt) => void;

/** key -> rule; built once per view kind. */
export type FieldTable<T> = ReadonlyMap<string, FieldRule<T>>;

/** A rule that stores the converted value in field `field`. */
export function into<T, K extends keyof T>(field: K, conv: Converter<T[K]>): FieldRule<T> {
  return (out, v, at) => {
    out[field] = conv(v, at);
  };
}

/** Applies `table` to every entry of `sec` (one pass), filling `out`. */
export function readFields<T>(sec: ViciMessage, table: FieldTable<T>, out: T): T {
  const at: FieldAt = { sec, key: '' };
  for (const [key, v] of sec) {
    const rule = table.get(key);
    if (!rule) continue;
    at.key = key;
    rule(out, v, at);
  }
  return out;
}

/** Throws for each of `keys` that the section lacks. */
export function requireKeys(sec: ViciMessage, keys: readonly string[], expected = 'a value'): void {
  for (const key of keys) if (!sec.has(key)) throw new ViciFieldError(pathOf({ sec, key }), expected, 'it is missing');
}

export function required<T>(msg: ViciMessage, key: string, v: T | undefined, expected: string): T {
  if (v === undefined) throw new ViciFieldError(pathOf({ sec: msg, key }), expected, 'it is missing');
  return v;
}

export function requiredSection(msg: ViciMessage, key: string): ViciMessage {
  return required(msg, key, msg.section(key), 'a section');
}

/** The one sub-section an IKE event carries (named after the IKE config). */
export function onlySection(msg: ViciMessage, what: string): [string, ViciMessage] {
  const first = msg.sections()[0];
  if (!first) throw new ViciFieldError(msg.path || '(message)', `the ${what} section`, 'there is none');
  return first;
}

/** ake1..ake7 (RFC 9370 additional key exchanges, charon 6.0+), in order. */
export interface AdditionalKeyExchange {
  index: number;
  method: string;
}

/** Table rules for ake1..ake7, appending to the view's `ake` list. */
export function akeRules<T extends { ake: AdditionalKeyExchange[] }>(): [string, FieldRule<T>][] {
  return Array.from({ length: 7 }, (_, i): [string, FieldRule<T>] => [
    `ake${i + 1}`,
    (out, v, at) => {
      out.ake.push({ index: i + 1, method: text(v, at) });
    },
  ]);
}
