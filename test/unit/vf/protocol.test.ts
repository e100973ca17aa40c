// The mailbox codec: the frame layout of docs/vf.md, every message type
// through the one encoder and the one decoder, SAs carried as the exact
// NEWSA payload iproute2 6.1 sends (captures of the XFRM tests), and the
// refusals a decoder owes a peer (bad magic, version, length, missing
// attributes).
import { describe, expect, it, vi } from 'vitest';
import { SecretBytes } from '../../../src/netlink/codec/secret.js';
import { mailboxAttrs } from '../../../src/vf/protocol/attributes.js';
import { decodeFrame, encodeFrame, childInput, readHeader } from '../../../src/vf/protocol/codec.js';
import { HEADER_SIZE, MAILBOX_VERSION, MAX_FRAME, MESSAGES, REASONS, reasonName } from '../../../src/vf/protocol/constants.js';
import { MailboxDecodeError, MailboxEncodeError } from '../../../src/vf/protocol/errors.js';
import { FrameReader } from '../../../src/vf/protocol/framer.js';
import { KEY_HEX, capturedNewsaPayload, capturedState, child, ts } from './builders.js';

/** Walks the top-level TLVs of a frame: [type, payload]. */
function tlvs(frame: Buffer, start = HEADER_SIZE): [number, Buffer][] {
  const out: [number, Buffer][] = [];
  for (let off = start; off + 4 <= frame.length; ) {
    const len = frame.readUInt16LE(off);
    out.push([frame.readUInt16LE(off + 2), frame.subarray(off + 4, off + len)]);
    off += (len + 3) & ~3;
  }
  return out;
}

describe('frame layout (docs/vf.md)', () => {
  it('heartbeat: the bare 16-byte header, little-endian, magic "IPVF"', () => {
    const f = encodeFrame('heartbeat', 0x01020304);
    expect(f.toString('hex')).toBe(['49505646', '0100', '04', '00', '10000000', '04030201'].join(''));
    expect(readHeader(f)).toEqual({ version: 1, type: 4, length: 16, id: 0x01020304 });
  });

  it('hello: epoch as a u64 attribute (type 1), agent name as a NUL-terminated string (type 2)', () => {
    const f = encodeFrame('hello', 7, { epoch: 0x1122334455667788n, agent: 'ab' });
    expect(f.subarray(HEADER_SIZE).toString('hex')).toBe(['0c00', '0100', '8877665544332211', '0700', '0200', '616200', '00'].join(''));
    expect(f.readUInt32LE(8)).toBe(f.length);
  });

  it('error: reason u16 (type 12) and message (type 13)', () => {
    const f = encodeFrame('error', 9, { reason: REASONS.quota, message: 'x' });
    expect(tlvs(f).map(([t, p]) => [t, p.toString('hex')])).toEqual([
      [12, '0600'],
      [13, '7800'],
    ]);
    expect(reasonName(6)).toBe('quota');
    expect(reasonName(999)).toBe('reason 999');
  });

  it('every message type has its own number, requests below 128, answers from 128', () => {
    const types = Object.values(MESSAGES).map((m) => m.type);
    expect(new Set(types).size).toBe(types.length);
    for (const m of Object.values(MESSAGES)) expect(m.type >= 128).toBe(m.role === 'reply');
  });
});

describe('an SA crosses the mailbox as the NEWSA payload iproute2 sends', () => {
  for (const capture of ['state-add-aead-offload-out', 'state-add-aead-offload-in-esn-ifid']) {
    it(`${capture}: the SA attribute holds iproute2's bytes exactly, and decodes back to the same state`, () => {
      const sa = capturedState(capture);
      const other = capturedState(capture);
      const f = encodeFrame('sa.add', 3, { child: childInput({ ...child(), saIn: sa, saOut: other }) });
      const [[type, childPayload] = [0, Buffer.alloc(0)]] = tlvs(f);
      expect(type).toBe(8);
      const inner = tlvs(childPayload, 0);
      const saIn = inner.find(([t]) => t === 5)?.[1];
      expect(saIn?.toString('hex')).toBe(capturedNewsaPayload(capture).toString('hex'));
      const back = decodeFrame(f);
      expect(back.kind).toBe('sa.add');
      expect(back.child?.saIn.aead?.key.reveal().toString('hex')).toBe(KEY_HEX);
      expect({ ...back.child?.saIn, aead: undefined }).toEqual({ ...sa, aead: undefined });
    });
  }
});

describe('round trips', () => {
  it('sa.add keeps the CHILD_SA: ids, mode, both SAs with keys, selectors with ports', () => {
    const c = child({ uniqueid: 77, esn: true, localTs: [ts('10.10.0.5/32', { proto: 17, from: 500, to: 500 })], remoteTs: [ts('fd00::/64'), ts('10.20.0.0/16')] });
    const back = decodeFrame(encodeFrame('sa.add', 1, { child: childInput(c) }));
    expect(back.child).toMatchObject({ uniqueid: 77, name: 'net', ike: 'tenant', reqid: 1, mode: 1, localTs: c.localTs, remoteTs: c.remoteTs });
    expect(back.child?.saOut).toMatchObject({ spi: 0xc1000001, daddr: '192.168.20.2', flags: ['esn'], esn: { replayWindow: 128 } });
    expect(back.child?.saOut.aead?.key).toBeInstanceOf(SecretBytes);
  });

  it('every message kind', () => {
    const cases = [
      ['hello', { epoch: 5n }],
      ['sa.del', { uniqueid: 4 }],
      ['heartbeat', {}],
      ['bye', { keep: true }],
      ['sync', { uniqueids: [1, 2, 3] }],
      ['rekey', { uniqueid: 3, rekeyReason: 2 }],
      ['ok', { vfName: 't0', heartbeatMs: 5000, staleMs: 20000, hwSlots: 4, maxSas: 16, missing: [2], removed: 3, present: true }],
      ['error', { reason: 11, message: 'retired' }],
    ] as const;
    for (const [kind, attrs] of cases) {
      const back = decodeFrame(encodeFrame(kind, 42, attrs));
      expect(back).toEqual({ kind, id: 42, attrs });
    }
  });

  it('the encoder refuses a message without its required attributes', () => {
    expect(() => encodeFrame('hello', 1, {})).toThrow(MailboxEncodeError);
    expect(() => encodeFrame('error', 1, { message: 'no reason' })).toThrow(/reason is required/);
  });
});

describe('refusals', () => {
  const expectDecodeError = (f: Buffer, pattern: RegExp, problem: 'malformed' | 'version' = 'malformed'): void => {
    let err: unknown;
    try {
      decodeFrame(f);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MailboxDecodeError);
    expect((err as MailboxDecodeError).message).toMatch(pattern);
    expect((err as MailboxDecodeError).problem).toBe(problem);
  };

  it('bad magic, length, version, reserved flags, unknown type', () => {
    const ok = encodeFrame('heartbeat', 1);
    const m = (at: number, write: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(ok);
      write(b);
      return b;
    };
    expectDecodeError(m(0, (b) => b.write('HTTP', 0)), /bad magic/);
    expectDecodeError(m(8, (b) => b.writeUInt32LE(15, 8)), /length 15 is outside/);
    expectDecodeError(m(8, (b) => b.writeUInt32LE(MAX_FRAME + 1, 8)), /outside/);
    expectDecodeError(m(8, (b) => b.writeUInt32LE(20, 8)), /length 20 but the frame has 16 bytes/);
    expectDecodeError(m(4, (b) => b.writeUInt16LE(MAILBOX_VERSION + 1, 4)), /version 2/, 'version');
    expectDecodeError(m(7, (b) => b.writeUInt8(1, 7)), /reserved/);
    expectDecodeError(m(6, (b) => b.writeUInt8(99, 6)), /unknown message type 99/);
    expectDecodeError(ok.subarray(0, 10), /needs 16 bytes/);
  });

  it('a missing required attribute, and a CHILD_SA without its SAs', () => {
    const hdr = encodeFrame('heartbeat', 1);
    hdr.writeUInt8(MESSAGES.hello.type, 6);
    expectDecodeError(hdr, /attribute epoch is missing/);
    const partial = mailboxAttrs.encode({ child: { uniqueid: 1, reqid: 1, mode: 1, localTs: [ts('10.0.0.0/8')], remoteTs: [ts('0.0.0.0/0')] } });
    const f = Buffer.concat([Buffer.alloc(HEADER_SIZE), partial]);
    encodeFrame('heartbeat', 1).copy(f, 0);
    f.writeUInt8(MESSAGES['sa.add'].type, 6);
    f.writeUInt32LE(f.length, 8);
    expectDecodeError(f, /saIn is missing/);
  });

  it('selectors the kernel could not hold', () => {
    const bad = child({ localTs: [{ ...ts('10.0.0.0/8'), prefixlen: 33 }] });
    expectDecodeError(encodeFrame('sa.add', 1, { child: childInput(bad) }), /prefix length 33/);
    const range = child({ remoteTs: [{ ...ts('10.0.0.0/8'), fromPort: 9, toPort: 1 }] });
    expectDecodeError(encodeFrame('sa.add', 1, { child: childInput(range) }), /port range 9..1/);
  });

  it('a refused CHILD_SA has its decoded keys wiped at once, and the error names no key byte', () => {
    const bad = child({ localTs: [{ ...ts('10.0.0.0/8'), prefixlen: 40 }] });
    const f = encodeFrame('sa.add', 1, { child: childInput(bad) });
    const wipe = vi.spyOn(SecretBytes.prototype, 'wipe');
    try {
      expect(() => decodeFrame(f)).toThrow(/prefix length 40/);
      expect(wipe).toHaveBeenCalledTimes(2);
    } finally {
      wipe.mockRestore();
    }
    try {
      decodeFrame(f);
    } catch (e) {
      expect((e as Error).message).not.toMatch(/3132|313233|64636261/);
    }
  });
});

describe('FrameReader', () => {
  it('frames split anywhere and glued together come out whole, and every chunk is zeroed', () => {
    const frames = [encodeFrame('hello', 1, { epoch: 9n }), encodeFrame('sa.add', 2, { child: childInput(child()) }), encodeFrame('heartbeat', 3)];
    const stream = Buffer.concat(frames);
    for (const cut of [1, 7, 16, 17, 100, stream.length - 1]) {
      const r = new FrameReader();
      const a = Buffer.from(stream.subarray(0, cut));
      const b = Buffer.from(stream.subarray(cut));
      const out = [...r.push(a), ...r.push(b)];
      expect(out.map((f) => f.toString('hex'))).toEqual(frames.map((f) => f.toString('hex')));
      expect(a.every((x) => x === 0) && b.every((x) => x === 0)).toBe(true);
      expect(r.pending).toBe(0);
    }
  });

  it('garbage ends the stream with a MailboxDecodeError', () => {
    expect(() => new FrameReader().push(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toThrow(MailboxDecodeError);
  });
});
