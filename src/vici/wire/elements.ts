// Message elements: a type byte, then a u8-length name and/or a u16-length
// value as the table says. The decoder enforces charon's nesting rules
// (vici_verify_type in vici_message.c): sections balance, lists do not nest
// and hold only items, items appear only in lists; keys are unique per section.
import { ViciEncodeError, ViciProtocolError } from './errors.js';
import { MAX_NAME_BYTES, MAX_SECTION_DEPTH, MAX_VALUE_BYTES } from './limits.js';
import { ViciMessage, type ViciValue } from './message.js';
import { checkName } from './packet.js';
import { describeType, isScalar, isSectionInput, scalarBytes, sectionEntries, type ViciInputSection } from './values.js';

export const ElementType = {
  SECTION_START: 1,
  SECTION_END: 2,
  KEY_VALUE: 3,
  LIST_START: 4,
  LIST_ITEM: 5,
  LIST_END: 6,
} as const;
export type ElementType = (typeof ElementType)[keyof typeof ElementType];

interface ElementSpec {
  readonly label: string;
  /** a u8-length name follows the type byte */
  readonly named: boolean;
  /** a u16-length value follows (after the name, if any) */
  readonly valued: boolean;
}

/** Indexed by element type; 0 (VICI_START) and 7 (VICI_END) are internal to charon, never on the wire. */
export const ELEMENT_SPECS: readonly (ElementSpec | undefined)[] = [
  undefined,
  { label: 'SECTION_START', named: true, valued: false },
  { label: 'SECTION_END', named: false, valued: false },
  { label: 'KEY_VALUE', named: true, valued: true },
  { label: 'LIST_START', named: true, valued: false },
  { label: 'LIST_ITEM', named: false, valued: true },
  { label: 'LIST_END', named: false, valued: false },
];

// ---- decoder ----------------------------------------------------------------

function fail(reason: string, at: number): never {
  throw new ViciProtocolError('message', reason, at);
}

/** Decodes a message. Values are views into `buf`; buf must not be reused afterwards. */
export function decodeMessage(buf: Buffer, start = 0, end = buf.length): ViciMessage {
  let entries = new Map<string, ViciValue>();
  const root = new ViciMessage(entries);
  let section = root;
  const stack: [ViciMessage, Map<string, ViciValue>][] = [];
  let list: Buffer[] | null = null;
  let off = start;

  while (off < end) {
    const at = off - start;
    const type = buf[off++] as number;
    const spec = ELEMENT_SPECS[type];
    if (!spec) fail(`unknown element type ${type}`, at);

    const inList = list !== null;
    const listElement = type === ElementType.LIST_ITEM || type === ElementType.LIST_END;
    if (inList !== listElement) fail(`${spec.label} ${inList ? 'inside' : 'outside'} a list`, at);

    let name = '';
    if (spec.named) {
      if (off >= end) fail(`${spec.label} without a name length`, at);
      const len = buf[off] as number;
      if (off + 1 + len > end) fail(`${spec.label} name of ${len} bytes overruns the message`, at);
      name = buf.toString('latin1', off + 1, off + 1 + len);
      off += 1 + len;
      if (entries.has(name)) fail(`duplicate key "${name}" in section "${section.path}"`, at);
    }
    let value: Buffer = EMPTY;
    if (spec.valued) {
      if (off + 2 > end) fail(`${spec.label} without a value length`, at);
      const len = buf.readUInt16BE(off);
      if (off + 2 + len > end) fail(`${spec.label} value of ${len} bytes overruns the message`, at);
      value = buf.subarray(off + 2, off + 2 + len);
      off += 2 + len;
    }

    switch (type) {
      case ElementType.SECTION_START: {
        if (stack.length >= MAX_SECTION_DEPTH) fail(`sections nest deeper than ${MAX_SECTION_DEPTH}`, at);
        const inner = new Map<string, ViciValue>();
        const child = new ViciMessage(inner, section, name);
        entries.set(name, child);
        stack.push([section, entries]);
        section = child;
        entries = inner;
        break;
      }
      case ElementType.SECTION_END: {
        const outer = stack.pop();
        if (!outer) fail('SECTION_END without an open section', at);
        [section, entries] = outer;
        break;
      }
      case ElementType.KEY_VALUE:
        entries.set(name, value);
        break;
      case ElementType.LIST_START:
        list = [];
        entries.set(name, list);
        break;
      case ElementType.LIST_ITEM:
        list?.push(value);
        break;
      case ElementType.LIST_END:
        list = null;
        break;
    }
  }
  if (list !== null) fail('list not closed at the end of the message', end - start);
  if (stack.length) fail(`${stack.length} section(s) not closed at the end of the message`, end - start);
  return root;
}

const EMPTY: Buffer = Buffer.alloc(0);

// ---- encoder ----------------------------------------------------------------

/** Growable output buffer: one allocation per doubling, not per element. */
class Writer {
  buf = Buffer.allocUnsafe(256);
  len = 0;

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buf[this.len++] = b;
  }

  name(type: ElementType, name: string, path: string): void {
    checkName(name, path, true);
    this.ensure(2 + name.length);
    this.buf[this.len++] = type;
    this.buf[this.len++] = name.length;
    this.len += this.buf.write(name, this.len, 'latin1');
  }

  value(bytes: Uint8Array, path: string): void {
    if (bytes.length > MAX_VALUE_BYTES) throw new ViciEncodeError(path, `value of ${bytes.length} bytes exceeds ${MAX_VALUE_BYTES}`);
    this.ensure(2 + bytes.length);
    this.buf.writeUInt16BE(bytes.length, this.len);
    this.buf.set(bytes, this.len + 2);
    this.len += 2 + bytes.length;
  }
}

/**
 * Encodes a section input as a message. Names must be printable ASCII (charon
 * rejects others), up to 255 bytes; values up to 65535 bytes.
 */
export function encodeMessage(input: ViciInputSection): Buffer {
  const w = new Writer();
  writeSection(w, input, '', 0);
  return w.buf.subarray(0, w.len);
}

function writeSection(w: Writer, input: ViciInputSection, path: string, depth: number): void {
  for (const [key, v] of sectionEntries(input)) {
    if (v === undefined || v === null) continue;
    const p = path ? `${path}.${key}` : key;
    if (key.length > MAX_NAME_BYTES) throw new ViciEncodeError(p, `key of ${key.length} characters exceeds ${MAX_NAME_BYTES} bytes`);
    if (isScalar(v)) {
      w.name(ElementType.KEY_VALUE, key, p);
      w.value(scalarBytes(v, p), p);
    } else if (Array.isArray(v)) {
      w.name(ElementType.LIST_START, key, p);
      v.forEach((item: unknown, i) => {
        const ip = `${p}[${i}]`;
        if (!isScalar(item)) throw new ViciEncodeError(ip, `list items must be scalars, not ${describeType(item)} (lists cannot nest)`);
        w.byte(ElementType.LIST_ITEM);
        w.value(scalarBytes(item, ip), ip);
      });
      w.byte(ElementType.LIST_END);
    } else if (isSectionInput(v)) {
      if (depth >= MAX_SECTION_DEPTH) throw new ViciEncodeError(p, `sections nest deeper than ${MAX_SECTION_DEPTH}`);
      w.name(ElementType.SECTION_START, key, p);
      writeSection(w, v, p, depth + 1);
      w.byte(ElementType.SECTION_END);
    } else {
      throw new ViciEncodeError(p, `cannot encode ${describeType(v)}`);
    }
  }
}
