// The control socket's line framing: complete lines out, any split of the
// input gives the same lines, and an over-long line is an overflow however it
// arrives (fast-check: random chunkings and random bytes).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LineFramer } from '../../../src/daemon/control/framing.js';

function feed(f: LineFramer, chunks: Buffer[]): { lines: string[]; overflow: boolean } {
  const lines: string[] = [];
  for (const c of chunks) {
    const r = f.push(c);
    lines.push(...r.lines);
    if (r.overflow) return { lines, overflow: true };
  }
  return { lines, overflow: false };
}

/** Splits `b` at the given cut points. */
function chunked(b: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (b.length + 1)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let at = 0;
  for (const p of points) {
    out.push(b.subarray(at, p));
    at = p;
  }
  out.push(b.subarray(at));
  return out;
}

describe('LineFramer', () => {
  it('splits lines, strips CR, keeps the unfinished tail', () => {
    const f = new LineFramer(100);
    expect(f.push(Buffer.from('{"a":1}\r\n{"b"'))).toEqual({ lines: ['{"a":1}'], overflow: false });
    expect(f.pending).toBe(4);
    expect(f.push(Buffer.from(':2}\n'))).toEqual({ lines: ['{"b":2}'], overflow: false });
    expect(f.pending).toBe(0);
  });

  it('decodes a UTF-8 character split across chunks', () => {
    const f = new LineFramer(100);
    const b = Buffer.from('"é"\n');
    expect(feed(f, [b.subarray(0, 2), b.subarray(2)]).lines).toEqual(['"é"']);
  });

  it('counts bytes, not characters: a line of multi-byte characters over the limit overflows', () => {
    const f = new LineFramer(10);
    expect(f.push(Buffer.from('ééééé\n')).overflow).toBe(false); // 10 bytes
    expect(f.push(Buffer.from('éééééé\n')).overflow).toBe(true); // 12 bytes
    expect(f.push(Buffer.from('ok\n'))).toEqual({ lines: [], overflow: true });
  });

  it('an unfinished tail over the limit overflows before its newline arrives', () => {
    const f = new LineFramer(8);
    expect(f.push(Buffer.from('12345')).overflow).toBe(false);
    expect(f.push(Buffer.from('6789')).overflow).toBe(true);
  });

  it('any chunking of the same bytes gives the same lines (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 30 }).map((s) => s.replace(/[\n\r]/g, '')), { maxLength: 10 }), fc.array(fc.nat(400), { maxLength: 8 }), (lines, cuts) => {
        const b = Buffer.from(lines.map((l) => `${l}\n`).join(''));
        const r = feed(new LineFramer(1000), chunked(b, cuts));
        expect(r).toEqual({ lines, overflow: false });
      }),
    );
  });

  it('random bytes never throw; overflow exactly when some line is longer than the limit (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.array(fc.nat(300), { maxLength: 6 }), fc.integer({ min: 1, max: 64 }), (bytes, cuts, limit) => {
        const b = Buffer.from(bytes);
        const r = feed(new LineFramer(limit), chunked(b, cuts));
        const parts = b.toString('latin1').split('\n');
        const complete = parts.slice(0, -1);
        const tooLong = complete.some((p) => p.length > limit) || (parts.at(-1) ?? '').length > limit;
        expect(r.overflow).toBe(tooLong);
        if (!tooLong) expect(r.lines.length).toBe(complete.length);
      }),
    );
  });
});
