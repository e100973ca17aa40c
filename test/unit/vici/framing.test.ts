// Segment framing: the u32 big-endian length prefix, the 512 KiB limit both
// ways, and reassembly from chunks split anywhere.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SegmentReader, frameSegment } from '../../../src/vici/wire/framing.js';
import { ViciEncodeError, ViciProtocolError } from '../../../src/vici/wire/errors.js';
import { MAX_SEGMENT_BYTES } from '../../../src/vici/wire/limits.js';
import { FIXTURES, fixture, segments } from './fixtures.js';

describe('frameSegment', () => {
  it('prefixes the payload with its length in network byte order', () => {
    // python vici Transport.send: struct.pack("!I", len(packet)) + packet
    expect(frameSegment(Buffer.from('foo')).toString('hex')).toBe('00000003666f6f');
    expect(frameSegment(Buffer.alloc(0)).toString('hex')).toBe('00000000');
  });

  it('accepts exactly 512 KiB and refuses one byte more (charon would disconnect us)', () => {
    expect(frameSegment(Buffer.alloc(MAX_SEGMENT_BYTES)).length).toBe(MAX_SEGMENT_BYTES + 4);
    expect(() => frameSegment(Buffer.alloc(MAX_SEGMENT_BYTES + 1))).toThrow(ViciEncodeError);
  });
});

describe('SegmentReader', () => {
  it('reads back what frameSegment wrote, several segments per chunk', () => {
    const r = new SegmentReader();
    const out = r.push(Buffer.concat([frameSegment(Buffer.from('a')), frameSegment(Buffer.alloc(0)), frameSegment(Buffer.from('bcd'))]));
    expect(out.map((b) => b.toString())).toEqual(['a', '', 'bcd']);
    expect(r.pendingBytes).toBe(0);
  });

  it('rejects a length above 512 KiB as soon as the header is complete, and stays failed', () => {
    const r = new SegmentReader();
    const hdr = Buffer.alloc(4);
    hdr.writeUInt32BE(MAX_SEGMENT_BYTES + 1);
    expect(r.push(hdr.subarray(0, 3))).toEqual([]);
    expect(() => r.push(hdr.subarray(3))).toThrow(ViciProtocolError);
    expect(() => r.push(frameSegment(Buffer.from('x')))).toThrow(ViciProtocolError);
  });

  it('accepts a 512 KiB segment split into 64 KiB chunks', () => {
    const payload = Buffer.alloc(MAX_SEGMENT_BYTES, 7);
    const wire = frameSegment(payload);
    const r = new SegmentReader();
    const out: Buffer[] = [];
    for (let off = 0; off < wire.length; off += 65536) out.push(...r.push(wire.subarray(off, off + 65536)));
    expect(out).toHaveLength(1);
    expect(out[0]?.equals(payload)).toBe(true);
  });

  // Every captured charon stream, split into two chunks at every byte boundary,
  // must give the same segments as the whole stream.
  for (const name of FIXTURES) {
    it(`splits the captured ${name} streams at every byte boundary`, () => {
      const f = fixture(name);
      for (const stream of [f.toCharon, f.fromCharon]) {
        const whole = segments(stream).map((b) => b.toString('hex'));
        for (let cut = 0; cut <= stream.length; cut++) {
          const r = new SegmentReader();
          const got = [...r.push(stream.subarray(0, cut)), ...r.push(stream.subarray(cut))].map((b) => b.toString('hex'));
          expect(got).toEqual(whole);
          expect(r.pendingBytes).toBe(0);
        }
      }
    });
  }

  it('reassembles any chunking of a captured stream (property)', () => {
    const stream = fixture('events').fromCharon;
    const whole = segments(stream).map((b) => b.toString('hex'));
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: stream.length - 1 }), { maxLength: 40 }), (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), stream.length];
        const r = new SegmentReader();
        const got: string[] = [];
        for (let i = 0; i + 1 < points.length; i++) got.push(...r.push(stream.subarray(points[i], points[i + 1])).map((b) => b.toString('hex')));
        expect(got).toEqual(whole);
      }),
    );
  });

  it('returns views into a chunk that holds whole segments (no copy)', () => {
    const chunk = Buffer.concat([frameSegment(Buffer.from('abc')), frameSegment(Buffer.from('de'))]);
    const [a] = new SegmentReader().push(chunk);
    expect(a?.buffer).toBe(chunk.buffer);
  });
});
