// Property-based fuzzing of every XFRM decoder: random payloads for every
// message type, and mutations of every captured message, may only ever make
// the decoder throw NetlinkDecodeError — nothing else, and never hang. What
// decodes must also turn into an event without throwing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NetlinkDecodeError } from '../../../src/netlink/errors.js';
import { NLM_F_DUMP, NLM_F_REQUEST, type NetlinkMessage } from '../../../src/netlink/message.js';
import { eventFromMessage } from '../../../src/xfrm/events.js';
import { XFRM_MESSAGES, decodeAnyXfrm } from '../../../src/xfrm/messages.js';
import { captureNames, loadCapture, messages } from './fixtures.js';

const TYPES = [...new Set(Object.values(XFRM_MESSAGES).map((s) => s.type))];
// Generous: a GC pause must not fail the run; an endless loop still does.
const MAX_MS = 1000;

/** Decode + event; returns what went wrong, if anything other than a typed decode error. */
function decodeOnly(m: NetlinkMessage): void {
  const t0 = performance.now();
  try {
    const d = decodeAnyXfrm(m);
    if (d) eventFromMessage(d);
  } catch (e) {
    if (!(e instanceof NetlinkDecodeError)) throw e;
  }
  const ms = performance.now() - t0;
  if (ms > MAX_MS) throw new Error(`decoding took ${ms.toFixed(1)} ms`);
}

const valid: NetlinkMessage[] = [
  ...captureNames('iproute2').flatMap((n) => [...messages(loadCapture(n), 'sent'), ...messages(loadCapture(n), 'received')]),
  ...captureNames('lab').flatMap((n) => messages(loadCapture(n, 'lab'), 'received')),
].filter((m) => m.type >= 16);

const flagsArb = fc.constantFrom(0, NLM_F_REQUEST, NLM_F_REQUEST | NLM_F_DUMP, 0x2);

describe('XFRM decoders under fuzzing', () => {
  it('has valid messages of most types to mutate', () => {
    expect(new Set(valid.map((m) => m.type)).size).toBeGreaterThanOrEqual(15);
  });

  it('random payloads of every message type', () => {
    fc.assert(
      fc.property(fc.constantFrom(...TYPES), flagsArb, fc.uint8Array({ maxLength: 700 }), (type, flags, bytes) => {
        decodeOnly({ type, flags, seq: 1, pid: 0, payload: Buffer.from(bytes) });
      }),
      { numRuns: 4000 },
    );
  });

  it('random payloads behind a well-formed header: attribute soup', () => {
    const headerSizes = new Map(Object.values(XFRM_MESSAGES).map((s) => [s.type, (s.header.size + 3) & ~3]));
    const attr = fc
      .record({ type: fc.integer({ min: 0, max: 45 }), flags: fc.constantFrom(0, 0x8000, 0x4000), body: fc.uint8Array({ maxLength: 300 }) })
      .map(({ type, flags, body }) => {
        const b = Buffer.alloc(4 + ((body.length + 3) & ~3));
        b.writeUInt16LE(4 + body.length, 0);
        b.writeUInt16LE(type | flags, 2);
        b.set(body, 4);
        return b;
      });
    fc.assert(
      fc.property(fc.constantFrom(...TYPES), fc.uint8Array({ maxLength: 300 }), fc.array(attr, { maxLength: 8 }), (type, head, attrs) => {
        const header = Buffer.alloc(headerSizes.get(type) ?? 0);
        header.set(head.subarray(0, header.length));
        decodeOnly({ type, flags: 0, seq: 1, pid: 0, payload: Buffer.concat([header, ...attrs]) });
      }),
      { numRuns: 4000 },
    );
  });

  it('mutated captured messages: byte flips, truncations, splices, corrupted attribute lengths', () => {
    const mutation = fc.oneof(
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
      fc.record({ kind: fc.constant('u16' as const), at: fc.nat(), value: fc.constantFrom(0, 1, 3, 4, 5, 0xffff, 0x8000) }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.array(mutation, { minLength: 1, maxLength: 4 }), (m, muts) => {
        let p = Buffer.from(m.payload);
        for (const mu of muts) {
          const at = p.length ? mu.at % p.length : 0;
          if (mu.kind === 'flip' && p.length) p[at] = mu.value;
          else if (mu.kind === 'truncate') p = p.subarray(0, at);
          else if (mu.kind === 'insert') p = Buffer.concat([p.subarray(0, at), mu.bytes, p.subarray(at)]);
          else if (mu.kind === 'u16' && at + 2 <= p.length) p.writeUInt16LE(mu.value, at & ~1);
        }
        decodeOnly({ ...m, payload: p });
      }),
      { numRuns: 6000 },
    );
  });

  it('every captured message itself decodes', () => {
    for (const m of valid) expect(() => decodeAnyXfrm(m)).not.toThrow();
  });
});
