import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_ERROR,
  encodeMessage,
  parseAck,
  parseDone,
  splitMessages,
} from '../../../src/netlink/message.js';
import { NetlinkDecodeError } from '../../../src/netlink/errors.js';
import { datagrams, loadCapture } from './fixtures.js';

describe('netlink framing against captured kernel bytes', () => {
  it('splits a real RTM_GETLINK dump into its messages and finds NLMSG_DONE', () => {
    const c = loadCapture('dump-links');
    const [multi, done] = datagrams(c, 'recv').slice(-2);
    const links = splitMessages(multi as Buffer);
    expect(links.length).toBe(3); // lo and the two ends of a veth
    expect(links.every((m) => m.type === 16)).toBe(true);
    const end = splitMessages(done as Buffer);
    expect(end).toHaveLength(1);
    expect(end[0]?.type).toBe(NLMSG_DONE);
    expect(parseDone(end[0]!).errno).toBe(0);
  });

  it("re-encodes iproute2's request byte for byte", () => {
    const c = loadCapture('error-unknown-kind');
    const sent = datagrams(c, 'send').at(-1) as Buffer;
    const [m] = splitMessages(sent);
    const again = encodeMessage({ type: m!.type, flags: m!.flags, payload: m!.payload }, m!.seq, m!.pid);
    expect(again.equals(sent)).toBe(true);
    expect(m!.flags).toBe(NLM_F_REQUEST | NLM_F_ACK | NLM_F_EXCL | NLM_F_CREATE);
  });

  it('parses an uncapped error with the echoed request and the extended-ack message', () => {
    const c = loadCapture('error-unknown-kind');
    const reply = datagrams(c, 'recv').at(-1) as Buffer;
    const [m] = splitMessages(reply);
    expect(m?.type).toBe(NLMSG_ERROR);
    const ack = parseAck(m!);
    expect(ack.errno).toBe(95); // EOPNOTSUPP
    expect(ack.extack).toBe('Unknown device type');
    expect(ack.request.type).toBe(16);
    expect(ack.offset).toBeUndefined();
  });

  it('an uncapped error whose echoed request length runs past the payload is a NetlinkDecodeError (lengths from 2^31 up included)', () => {
    // the real reply above, its echoed nlmsg_len rewritten (found by the fuzz below: a RangeError escaped)
    const reply = datagrams(loadCapture('error-unknown-kind'), 'recv').at(-1) as Buffer;
    for (const reqLen of [0xfffffff0, 0x80000000, 0x7ffffffd, reply.length]) {
      const [m] = splitMessages(Buffer.from(reply));
      m!.payload.writeUInt32LE(reqLen, 4);
      expect(() => parseAck(m!)).toThrow(NetlinkDecodeError);
      expect(() => parseAck(m!)).toThrow(/echoed request length \d+ runs past the \d+-byte payload/);
    }
  });

  it('parses a capped error with message, offending-attribute offset and policy', () => {
    const c = loadCapture('error-policy-capped');
    const [m] = splitMessages(datagrams(c, 'recv')[0] as Buffer);
    const ack = parseAck(m!);
    expect(ack.errno).toBe(34); // ERANGE: IFLA_MTU payload shorter than u32
    expect(ack.extack).toBe('Attribute failed policy validation');
    expect(ack.offset).toBe(40);
    // offset 40 of the request we sent is the IFLA_MTU attribute (type 4)
    const sent = datagrams(c, 'send')[0] as Buffer;
    expect(sent.readUInt16LE(40 + 2)).toBe(4);
  });

  it('an error without extended-ack TLVs parses to errno and request only', () => {
    // iproute2 6.1's first request here is a bare RTM_NEWLINK (ifinfomsg only),
    // which the kernel refuses with ENODEV and no TLVs.
    const c = loadCapture('error-unknown-kind');
    const first = splitMessages(datagrams(c, 'recv')[0] as Buffer)[0]!;
    const ack = parseAck(first);
    expect(ack.errno).toBe(19);
    expect(ack.request.type).toBe(16);
    expect(ack.request.length).toBe(32);
    expect(ack.extack).toBeUndefined();
  });
});

describe('netlink framing under fuzzing', () => {
  const onlyDecodeErrors = (f: () => unknown): void => {
    try {
      f();
    } catch (e) {
      if (!(e instanceof NetlinkDecodeError)) throw e;
    }
  };

  it('random bytes: splitMessages/parseAck throw only NetlinkDecodeError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        onlyDecodeErrors(() => {
          for (const m of splitMessages(Buffer.from(bytes))) {
            if (m.type === NLMSG_ERROR) parseAck(m);
            if (m.type === NLMSG_DONE) parseDone(m);
          }
        });
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated real replies: splitMessages/parseAck throw only NetlinkDecodeError', () => {
    const seeds = ['error-unknown-kind', 'error-policy-capped', 'dump-links'].flatMap((n) => datagrams(loadCapture(n), 'recv'));
    fc.assert(
      fc.property(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat(), (seed, flips, cut) => {
        const b = Buffer.from(seed);
        for (const [pos, val] of flips) b[pos % b.length] = val;
        const t = b.subarray(0, cut % (b.length + 1));
        onlyDecodeErrors(() => {
          for (const m of splitMessages(t)) {
            if (m.type === NLMSG_ERROR) parseAck(m);
            if (m.type === NLMSG_DONE) parseDone(m);
          }
        });
      }),
      { numRuns: 3000 },
    );
  });
});
