// A decoded VICI message (or section): an ordered map of keys to values, lists
// and sub-sections. Values stay bytes; the accessors parse them on demand,
// because charon sends numbers as text and some values are binary (DER).
import { inspect } from 'node:util';
import { ViciEncodeError, ViciFieldError } from './errors.js';
import { SecretBytes } from '../../netlink/codec/secret.js';
import {
  VICI_MESSAGE_BRAND,
  describeType,
  isScalar,
  isSectionInput,
  scalarBytes,
  sectionEntries,
  type ViciInputSection,
} from './values.js';
import { MAX_SECTION_DEPTH } from './limits.js';
import { decimalBigint, decimalNumber, hexBigint, hexNumber } from './integers.js';

export type ViciList = Buffer[];
export type ViciValue = Buffer | ViciList | ViciMessage;

export class ViciMessage implements Iterable<[string, ViciValue]> {
  /** A prototype getter, so the brand shows up in no inspect or JSON output. */
  get [VICI_MESSAGE_BRAND](): true {
    return true;
  }

  readonly #entries: Map<string, ViciValue>;
  readonly #parent: ViciMessage | undefined;
  readonly #name: string;

  /**
   * Wraps `entries` (not copied). The decoder builds the map; callers use from().
   * `parent` and `name` place a section in its message, for error messages.
   */
  constructor(entries: Map<string, ViciValue> = new Map(), parent?: ViciMessage, name = '') {
    this.#entries = entries;
    this.#parent = parent;
    this.#name = name;
  }

  /** Key path of this section inside its message ("" for a whole message). */
  get path(): string {
    const up = this.#parent?.path;
    return up ? `${up}.${this.#name}` : this.#name;
  }

  /** Builds a message from plain input (objects, Maps, arrays, scalars) as the encoder would. */
  static from(input: ViciInputSection): ViciMessage {
    return build(input, undefined, '', 0);
  }

  get size(): number {
    return this.#entries.size;
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }

  get(key: string): ViciValue | undefined {
    return this.#entries.get(key);
  }

  keys(): IterableIterator<string> {
    return this.#entries.keys();
  }

  entries(): IterableIterator<[string, ViciValue]> {
    return this.#entries.entries();
  }

  [Symbol.iterator](): IterableIterator<[string, ViciValue]> {
    return this.#entries.entries();
  }

  /** The sub-sections of this section, in order (e.g. the IKE_SAs of a list-sa event). */
  sections(): [string, ViciMessage][] {
    const out: [string, ViciMessage][] = [];
    for (const [k, v] of this.#entries) if (v instanceof ViciMessage) out.push([k, v]);
    return out;
  }

  /** The raw bytes of a key/value; undefined when absent. */
  value(key: string): Buffer | undefined {
    const v = this.#entries.get(key);
    if (v === undefined || Buffer.isBuffer(v)) return v;
    throw new ViciFieldError(this.#path(key), 'a value', `found ${kindOf(v)}`);
  }

  /** A value as UTF-8 text. */
  string(key: string): string | undefined {
    return this.value(key)?.toString('utf8');
  }

  /**
   * A value as an integer (decimal, or hex digits without "0x" for radix 16,
   * as charon prints SPIs, marks and interface IDs). Throws ViciFieldError for
   * text that is not such an integer or does not fit a safe JS number.
   */
  number(key: string, radix: 10 | 16 = 10): number | undefined {
    const raw = this.value(key);
    if (raw === undefined) return undefined;
    const n = radix === 10 ? decimalNumber(raw) : hexNumber(raw);
    if (n === undefined) throw this.#notInteger(key, raw, radix, 'a safe JS number (use bigint() for 64-bit values)');
    return n;
  }

  /** A value as a bigint (for 64-bit counters). */
  bigint(key: string, radix: 10 | 16 = 10): bigint | undefined {
    const raw = this.value(key);
    if (raw === undefined) return undefined;
    const n = radix === 10 ? decimalBigint(raw) : hexBigint(raw);
    if (n === undefined) throw this.#notInteger(key, raw, radix, 'an integer');
    return n;
  }

  /**
   * A flag: charon writes "yes" (and "1" for `esn`), other clients "no"/"0";
   * absent is undefined. Anything else throws ViciFieldError.
   */
  bool(key: string): boolean | undefined {
    const text = this.value(key)?.toString('latin1');
    if (text === undefined) return undefined;
    if (text === 'yes' || text === '1' || text === 'true') return true;
    if (text === 'no' || text === '0' || text === 'false') return false;
    throw new ViciFieldError(this.#path(key), 'yes/no', `found ${text.length} other bytes`);
  }

  section(key: string): ViciMessage | undefined {
    const v = this.#entries.get(key);
    if (v === undefined || v instanceof ViciMessage) return v;
    throw new ViciFieldError(this.#path(key), 'a section', `found ${kindOf(v)}`);
  }

  list(key: string): ViciList | undefined {
    const v = this.#entries.get(key);
    if (v === undefined || Array.isArray(v)) return v;
    throw new ViciFieldError(this.#path(key), 'a list', `found ${kindOf(v)}`);
  }

  /** A list's items as UTF-8 text. */
  strings(key: string): string[] | undefined {
    return this.list(key)?.map((b) => b.toString('utf8'));
  }

  /** Plain JSON form for logs and debugging: values and list items as UTF-8 text. */
  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [k, v] of this.#entries) {
      out[k] = v instanceof ViciMessage ? v.toJSON() : Array.isArray(v) ? v.map((b) => b.toString('utf8')) : v.toString('utf8');
    }
    return out;
  }

  [inspect.custom](depth: number, options: { stylize?: unknown }, inspectFn: typeof inspect = inspect): string {
    return `ViciMessage ${inspectFn(this.toJSON(), { ...options, depth: depth < 0 ? null : depth })}`;
  }

  #path(key: string): string {
    return this.path ? `${this.path}.${key}` : key;
  }

  #notInteger(key: string, raw: Buffer, radix: 10 | 16, fits: string): ViciFieldError {
    const form = radix === 10 ? 'a decimal integer' : 'hex digits';
    return new ViciFieldError(this.#path(key), `${form} that fits ${fits}`, `found ${raw.length} bytes that are not`);
  }
}

function kindOf(v: ViciValue): string {
  return v instanceof ViciMessage ? 'a section' : Array.isArray(v) ? 'a list' : 'a value';
}

function build(input: ViciInputSection, parent: ViciMessage | undefined, name: string, depth: number): ViciMessage {
  const map = new Map<string, ViciValue>();
  const msg = new ViciMessage(map, parent, name);
  const path = msg.path;
  if (depth > MAX_SECTION_DEPTH) throw new ViciEncodeError(path, `sections nest deeper than ${MAX_SECTION_DEPTH}`);
  for (const [key, v] of sectionEntries(input)) {
    const p = path ? `${path}.${key}` : key;
    if (v === undefined || v === null) continue;
    if (v instanceof SecretBytes) throw new ViciEncodeError(p, 'secrets go straight to the encoder (encodeMessage), they are not kept in a ViciMessage');
    if (isScalar(v)) map.set(key, Buffer.from(scalarBytes(v, p)));
    else if (Array.isArray(v)) {
      map.set(
        key,
        v.map((item: unknown, i) => {
          if (item instanceof SecretBytes) throw new ViciEncodeError(`${p}[${i}]`, 'secrets are not kept in a ViciMessage');
          if (!isScalar(item)) throw new ViciEncodeError(`${p}[${i}]`, `list items must be scalars, not ${describeType(item)} (lists cannot nest)`);
          return Buffer.from(scalarBytes(item, `${p}[${i}]`));
        }),
      );
    } else if (isSectionInput(v)) map.set(key, build(v, msg, key, depth + 1));
    else throw new ViciEncodeError(p, `cannot encode ${describeType(v)}`);
  }
  return msg;
}
