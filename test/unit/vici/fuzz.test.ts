// Property-based fuzzing of every decoder: random bytes and mutations of the
// captured charon traffic may only ever yield a message or a
// ViciProtocolError, never another exception, never a hang. Plus the round
// trip: any tree encodes and decodes back to itself, and anything that
// decodes re-encodes to the same bytes (the encoding is canonical).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeMessage, encodeMessage } from '../../../src/vici/wire/elements.js';
import { ViciEncodeError, ViciProtocolError } from '../../../src/vici/wire/errors.js';
import { SegmentReader } from '../../../src/vici/wire/framing.js';
import { ViciMessage, type ViciValue } from '../../../src/vici/wire/message.js';
import { decodePacket } from '../../../src/vici/wire/packet.js';
import { MAX_SEGMENT_BYTES } from '../../../src/vici/wire/limits.js';
import { FIXTURES, fixture, packets, segments } from './fixtures.js';

/** Runs `f`; passes if it returns or throws ViciProtocolError, fails on anything else. */
function onlyProtocolErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof ViciProtocolError)) throw e;
  }
}

const capturedMessages: Buffer[] = FIXTURES.flatMap((n) => {
  const f = fixture(n);
  return [...packets(f.toCharon), ...packets(f.fromCharon)].flatMap((p) => (p.message && p.message.length ? [Buffer.from(p.message)] : []));
});
const capturedSegments: Buffer[] = FIXTURES.flatMap((n) => [...segments(fixture(n).toCharon), ...segments(fixture(n).fromCharon)].map((s) => Buffer.from(s)));

/**
 * Re-encoding what decoded gives the same bytes, except where a mutation put
 * a non-printable byte into a name: the decoder keeps such names (charon
 * could emit one it got from a non-VICI source), the encoder refuses them
 * (charon rejects them inbound).
 */
function reencodesIdentically(bytes: Buffer, m: ViciMessage): void {
  let again: Buffer;
  try {
    again = encodeMessage(m);
  } catch (e) {
    if (e instanceof ViciEncodeError && /non-printable/.test(e.message)) return;
    throw e;
  }
  expect(again).toEqual(bytes);
}

/** Mutations of a valid input: flips, truncation, insertion, deletion, duplication. */
function mutated(pool: Buffer[]): fc.Arbitrary<Buffer> {
  return fc
    .record({
      base: fc.constantFrom(...pool),
      ops: fc.array(
        fc.oneof(
          fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
          fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
          fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ maxLength: 8 }) }),
          fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
          fc.record({ kind: fc.constant('dup' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 32 }) }),
        ),
        { minLength: 1, maxLength: 4 },
      ),
    })
    .map(({ base, ops }) => {
      let b = Buffer.from(base);
      for (const op of ops) {
        const at = b.length ? op.at % b.length : 0;
        if (op.kind === 'flip' && b.length) b[at] = op.byte;
        else if (op.kind === 'cut') b = b.subarray(0, at);
        else if (op.kind === 'insert') b = Buffer.concat([b.subarray(0, at), op.bytes, b.subarray(at)]);
        else if (op.kind === 'delete') b = Buffer.concat([b.subarray(0, at), b.subarray(at + op.len)]);
        else if (op.kind === 'dup') b = Buffer.concat([b.subarray(0, at + op.len), b.subarray(at)]);
      }
      return b;
    });
}

describe('decoder fuzzing', () => {
  it('decodeMessage: random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => onlyProtocolErrors(() => decodeMessage(Buffer.from(bytes)))), { numRuns: 5000 });
  });

  it('decodeMessage: random sequences of well-formed-looking elements', () => {
    // Element-shaped input reaches the nesting rules far more often than noise.
    const element = fc.oneof(
      fc.tuple(fc.constant(1), fc.string({ maxLength: 3 })).map(([t, n]) => Buffer.concat([Buffer.from([t, n.length]), Buffer.from(n, 'latin1')])),
      fc.constant(Buffer.from([2])),
      fc.tuple(fc.string({ maxLength: 3 }), fc.uint8Array({ maxLength: 3 })).map(([n, v]) => Buffer.concat([Buffer.from([3, n.length]), Buffer.from(n, 'latin1'), Buffer.from([0, v.length]), v])),
      fc.string({ maxLength: 3 }).map((n) => Buffer.concat([Buffer.from([4, n.length]), Buffer.from(n, 'latin1')])),
      fc.uint8Array({ maxLength: 3 }).map((v) => Buffer.concat([Buffer.from([5, 0, v.length]), v])),
      fc.constant(Buffer.from([6])),
    );
    fc.assert(
      fc.property(fc.array(element, { maxLength: 30 }), (els) => {
        const bytes = Buffer.concat(els);
        onlyProtocolErrors(() => reencodesIdentically(bytes, decodeMessage(bytes)));
      }),
      { numRuns: 5000 },
    );
  });

  it('decodeMessage: mutations of captured charon messages; whatever decodes re-encodes identically', () => {
    fc.assert(
      fc.property(mutated(capturedMessages), (bytes) =>
        onlyProtocolErrors(() => {
          const m = decodeMessage(bytes);
          reencodesIdentically(bytes, m);
          m.toJSON();
        }),
      ),
      { numRuns: 5000 },
    );
  });

  it('decodePacket: random bytes and mutated captured segments', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => onlyProtocolErrors(() => decodePacket(Buffer.from(bytes)))), { numRuns: 3000 });
    fc.assert(
      fc.property(mutated(capturedSegments), (seg) =>
        onlyProtocolErrors(() => {
          const p = decodePacket(seg);
          if (p.message) decodeMessage(p.message);
        }),
      ),
      { numRuns: 3000 },
    );
  });

  it('SegmentReader + packets + messages: random streams in random chunks', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 20 }), (chunks) =>
        onlyProtocolErrors(() => {
          const r = new SegmentReader();
          for (const c of chunks) {
            for (const seg of r.push(Buffer.from(c))) {
              const p = decodePacket(seg);
              if (p.message) decodeMessage(p.message);
            }
          }
        }),
      ),
      { numRuns: 3000 },
    );
  });

  it('terminates quickly on the largest adversarial inputs (no loops, no quadratic blow-up)', () => {
    // ~512 KiB of distinct tiny key/values, one list of ~175k empty items, and the deepest nesting.
    const parts: Buffer[] = [];
    for (let i = 0; i < 65_000; i++) parts.push(Buffer.from([3, 4]), Buffer.from(i.toString(36).padStart(4, '0'), 'latin1'), Buffer.from([0, 0]));
    const manyKeys = Buffer.concat(parts);
    const list = Buffer.concat([Buffer.from([4, 1, 0x6c]), Buffer.alloc(3 * 174_000, 0), Buffer.from([6])]);
    for (let i = 3; i < list.length - 1; i += 3) list[i] = 5;
    const nested = Buffer.concat([...Array.from({ length: 64 }, () => Buffer.from([1, 0])), Buffer.alloc(64, 2)]);
    expect(manyKeys.length).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
    expect(list.length).toBeLessThanOrEqual(MAX_SEGMENT_BYTES);
    const start = performance.now();
    expect(decodeMessage(manyKeys).size).toBe(65_000);
    expect(decodeMessage(list).list('l')).toHaveLength(174_000);
    expect(decodeMessage(nested).size).toBe(1);
    expect(performance.now() - start).toBeLessThan(2000);
  });
});

// ---- round trip --------------------------------------------------------------

type Tree = Map<string, Buffer | Buffer[] | Tree>;

const key = fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 12 });
const bytesArb = fc.uint8Array({ maxLength: 24 }).map((u) => Buffer.from(u));
const { tree } = fc.letrec<{ tree: Tree; value: Buffer | Buffer[] | Tree }>((tie) => ({
  tree: fc.uniqueArray(fc.tuple(key, tie('value')), { selector: ([k]) => k, maxLength: 6 }).map((entries) => new Map(entries)),
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, bytesArb, fc.array(bytesArb, { maxLength: 4 }), tie('tree')),
}));

function normalize(v: ViciValue | Tree | Buffer[]): unknown {
  if (Buffer.isBuffer(v)) return v.toString('hex');
  if (Array.isArray(v)) return v.map((b) => b.toString('hex'));
  return [...(v as Iterable<[string, ViciValue | Tree]>)].map(([k, x]) => [k, normalize(x)]);
}

describe('round trip', () => {
  it('any tree encodes and decodes back to itself, order and bytes preserved', () => {
    fc.assert(
      fc.property(tree, (t) => {
        const wire = encodeMessage(t);
        const back = decodeMessage(wire);
        expect(normalize(back)).toEqual(normalize(t));
        expect(encodeMessage(back)).toEqual(wire);
        expect(normalize(ViciMessage.from(t))).toEqual(normalize(t));
      }),
      { numRuns: 2000 },
    );
  });
});
