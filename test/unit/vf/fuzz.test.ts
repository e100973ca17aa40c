// The mailbox decoder and framer under fuzzing: random bytes, attribute soup
// behind a valid header, and mutations of valid frames of every kind (bit
// flips, truncation, lengths rewritten, bytes spliced) may only ever make
// them throw MailboxDecodeError, never anything else, never hang. A tenant
// controls every byte that reaches them.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeFrame, encodeFrame, childInput } from '../../../src/vf/protocol/codec.js';
import { HEADER_SIZE, MAILBOX_MAGIC, MESSAGES } from '../../../src/vf/protocol/constants.js';
import { MailboxDecodeError } from '../../../src/vf/protocol/errors.js';
import { FrameReader } from '../../../src/vf/protocol/framer.js';
import { capturedState, child, ts } from './builders.js';

const MAX_MS = 1000;

// CPU time, not wall time: a decoder that spins burns CPU, while a machine
// busy with other work (lab VMs beside the tests) only stalls the wall clock
// (an empty frame once "took" 2.3 s of wall time here).
function decodeOnly(b: Buffer): void {
  const t0 = process.cpuUsage();
  try {
    decodeFrame(b);
  } catch (e) {
    if (!(e instanceof MailboxDecodeError)) throw e;
  }
  const d = process.cpuUsage(t0);
  const ms = (d.user + d.system) / 1000;
  if (ms > MAX_MS) throw new Error(`decoding took ${ms.toFixed(1)} ms of CPU`);
}

const valid: Buffer[] = [
  encodeFrame('hello', 1, { epoch: 0xdeadbeefn, agent: 'ipsec-offload 0.1.0' }),
  encodeFrame('sa.add', 2, { child: childInput(child()) }),
  encodeFrame('sa.add', 3, { child: childInput({ ...child({ esn: true, localTs: [ts('fd00::/64'), ts('10.1.0.0/16', { proto: 6, from: 80, to: 80 })] }), saIn: capturedState('state-add-aead-offload-in-esn-ifid'), saOut: capturedState('state-add-authtrunc-enc-encap-mark') }) }),
  encodeFrame('sa.del', 4, { uniqueid: 9 }),
  encodeFrame('heartbeat', 5),
  encodeFrame('bye', 6, { keep: true }),
  encodeFrame('sync', 7, { uniqueids: [1, 2, 3] }),
  encodeFrame('rekey', 0, { uniqueid: 3, rekeyReason: 1 }),
  encodeFrame('ok', 8, { vfName: 'tenant0', heartbeatMs: 5000, staleMs: 20000, hwSlots: 4, maxSas: 16, missing: [3] }),
  encodeFrame('error', 9, { reason: 4, message: 'not allowed' }),
];

const header = (type: number, length: number): Buffer => {
  const h = Buffer.alloc(HEADER_SIZE);
  h.writeUInt32LE(MAILBOX_MAGIC, 0);
  h.writeUInt16LE(1, 4);
  h.writeUInt8(type, 6);
  h.writeUInt32LE(length, 8);
  return h;
};

describe('mailbox decoder under fuzzing', () => {
  it('decodes every valid frame', () => {
    for (const f of valid) expect(() => decodeFrame(Buffer.from(f))).not.toThrow();
  });

  it('random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => decodeOnly(Buffer.from(bytes))), { numRuns: 5000 });
  });

  it('attribute soup behind a valid header of every type (nested child attributes too)', () => {
    const tlv = fc
      .record({ type: fc.integer({ min: 0, max: 20 }), flags: fc.constantFrom(0, 0x8000), body: fc.uint8Array({ maxLength: 400 }) })
      .map(({ type, flags, body }) => {
        const b = Buffer.alloc(4 + ((body.length + 3) & ~3));
        b.writeUInt16LE(4 + body.length, 0);
        b.writeUInt16LE(type | flags, 2);
        b.set(body, 4);
        return b;
      });
    const types = Object.values(MESSAGES).map((m) => m.type);
    fc.assert(
      fc.property(fc.constantFrom(...types), fc.array(tlv, { maxLength: 8 }), fc.boolean(), (type, attrs, nestInChild) => {
        let body = Buffer.concat(attrs);
        if (nestInChild) {
          const wrap = Buffer.alloc(4);
          wrap.writeUInt16LE(4 + body.length, 0);
          wrap.writeUInt16LE(8, 2);
          body = Buffer.concat([wrap, body, Buffer.alloc(((body.length + 3) & ~3) - body.length)]);
        }
        if (HEADER_SIZE + body.length > 0xffff) return;
        decodeOnly(Buffer.concat([header(type, HEADER_SIZE + body.length), body]));
      }),
      { numRuns: 4000 },
    );
  });

  it('mutations of valid frames: bit flips, overwritten bytes, truncation, rewritten lengths', () => {
    const mutation = fc.oneof(
      fc.record({ op: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ op: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ op: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ op: fc.constant('len16' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 0xffff }) }),
    );
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.array(mutation, { minLength: 1, maxLength: 6 }), (orig, muts) => {
        let b = Buffer.from(orig);
        for (const m of muts) {
          const at = m.at % Math.max(1, b.length);
          if (m.op === 'flip') b[at] = (b[at] ?? 0) ^ (1 << m.bit);
          else if (m.op === 'set') b[at] = m.value;
          else if (m.op === 'cut') b = b.subarray(0, at);
          else if (at + 2 <= b.length) b.writeUInt16LE(m.value, at);
        }
        // Keep the header length consistent half of the time, so the attributes are reached.
        if (b.length >= HEADER_SIZE && muts.length % 2 === 0) b.writeUInt32LE(b.length, 8);
        decodeOnly(b);
      }),
      { numRuns: 6000 },
    );
  });

  it('the framer: any chunking of a stream of valid frames yields them; garbage only ever throws MailboxDecodeError', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...valid), { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 20 }), (frames, sizes) => {
        const stream = Buffer.concat(frames);
        const r = new FrameReader();
        const out: Buffer[] = [];
        let off = 0;
        for (let i = 0; off < stream.length; i++) {
          const n = sizes[i % sizes.length] ?? 1;
          out.push(...r.push(Buffer.from(stream.subarray(off, off + n))));
          off += n;
        }
        expect(Buffer.concat(out).equals(stream)).toBe(true);
        expect(out).toHaveLength(frames.length);
      }),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 10 }), (chunks) => {
        const r = new FrameReader();
        try {
          for (const c of chunks) for (const f of r.push(Buffer.from(c))) decodeOnly(f);
        } catch (e) {
          if (!(e instanceof MailboxDecodeError)) throw e;
        }
      }),
      { numRuns: 3000 },
    );
  });
});
