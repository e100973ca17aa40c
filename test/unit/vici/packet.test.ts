// Packet layer: type byte, optional u8-length name, optional message.
// Byte vectors are the ones of strongSwan's python client test suite
// (src/libcharon/plugins/vici/python/test/test_protocol.py, class TestPacket,
// strongswan commit 3b902ea59b86), framed with the 4-byte length.
import { describe, expect, it } from 'vitest';
import { decodePacket, encodePacket, PacketType } from '../../../src/vici/wire/packet.js';
import { ViciEncodeError, ViciProtocolError } from '../../../src/vici/wire/errors.js';
import { MAX_SEGMENT_BYTES } from '../../../src/vici/wire/limits.js';
import { FIXTURES, fixture, packets, segments } from './fixtures.js';

const bytes = (...parts: (string | number[])[]): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
const unframed = (seg: Buffer): Buffer => seg.subarray(4);

describe('python client vectors (test_protocol.py TestPacket)', () => {
  it('encodes outgoing packets', () => {
    // cmd_request = b"\x00\x0c" b"command_type"
    expect(unframed(encodePacket({ type: PacketType.CMD_REQUEST, name: 'command_type' }))).toEqual(bytes([0x00, 0x0c], 'command_type'));
    // cmd_request_msg = b"\x00\x07" b"command" b"payload"
    expect(unframed(encodePacket({ type: PacketType.CMD_REQUEST, name: 'command', message: Buffer.from('payload') }))).toEqual(bytes([0x00, 0x07], 'command', 'payload'));
    // event_register = b"\x03\x0a" b"event_type"; event_unregister = b"\x04\x0a" b"event_type"
    expect(unframed(encodePacket({ type: PacketType.EVENT_REGISTER, name: 'event_type' }))).toEqual(bytes([0x03, 0x0a], 'event_type'));
    expect(unframed(encodePacket({ type: PacketType.EVENT_UNREGISTER, name: 'event_type' }))).toEqual(bytes([0x04, 0x0a], 'event_type'));
  });

  it('decodes incoming packets', () => {
    // cmd_response = b"\x01" b"reply"
    expect(decodePacket(bytes([0x01], 'reply'))).toEqual({ type: PacketType.CMD_RESPONSE, message: Buffer.from('reply') });
    // cmd_unknown = b"\x02", event_confirm = b"\x05", event_unknown = b"\x06"
    expect(decodePacket(bytes([0x02]))).toEqual({ type: PacketType.CMD_UNKNOWN });
    expect(decodePacket(bytes([0x05]))).toEqual({ type: PacketType.EVENT_CONFIRM });
    expect(decodePacket(bytes([0x06]))).toEqual({ type: PacketType.EVENT_UNKNOWN });
    // event = b"\x07\x03" b"log" b"message"
    expect(decodePacket(bytes([0x07, 0x03], 'log', 'message'))).toEqual({ type: PacketType.EVENT, name: 'log', message: Buffer.from('message') });
  });

  it('writes the length prefix', () => {
    expect(encodePacket({ type: PacketType.EVENT_REGISTER, name: 'log' }).toString('hex')).toBe('0000000503036c6f67');
  });
});

describe('captured packets', () => {
  for (const name of FIXTURES) {
    it(`${name}: every packet decodes and re-encodes to the same bytes`, () => {
      const f = fixture(name);
      for (const stream of [f.toCharon, f.fromCharon]) {
        for (const seg of segments(stream)) {
          const p = decodePacket(seg);
          expect(unframed(encodePacket(p))).toEqual(seg);
        }
      }
    });
  }

  it('charon answers an unknown command with a bare CMD_UNKNOWN and an unknown event with EVENT_UNKNOWN', () => {
    const f = fixture('unknown-and-log');
    expect(packets(f.toCharon).map((p) => [p.type, p.name])).toEqual([
      [PacketType.CMD_REQUEST, 'no-such-command'],
      [PacketType.EVENT_REGISTER, 'no-such-event'],
      [PacketType.EVENT_REGISTER, 'log'],
    ]);
    const replies = packets(f.fromCharon);
    expect(replies.slice(0, 3)).toEqual([{ type: PacketType.CMD_UNKNOWN }, { type: PacketType.EVENT_UNKNOWN }, { type: PacketType.EVENT_CONFIRM }]);
    expect(replies[3]?.type).toBe(PacketType.EVENT);
    expect(replies[3]?.name).toBe('log');
  });
});

describe('validation before sending (charon silently ignores bad names)', () => {
  it('refuses non-printable, non-ASCII, empty and over-long names', () => {
    for (const name of ['list sas\n', 'caf\u00e9', '', 'x'.repeat(256), '\u0000']) {
      expect(() => encodePacket({ type: PacketType.CMD_REQUEST, name })).toThrow(ViciEncodeError);
      expect(() => encodePacket({ type: PacketType.EVENT_REGISTER, name })).toThrow(ViciEncodeError);
    }
    expect(unframed(encodePacket({ type: PacketType.CMD_REQUEST, name: 'x'.repeat(255) }))[1]).toBe(255);
    expect(unframed(encodePacket({ type: PacketType.CMD_REQUEST, name: ' ~' }))).toEqual(bytes([0, 2], ' ~'));
  });

  it('refuses a name on unnamed types, a message on types without one, a missing name, unknown types', () => {
    expect(() => encodePacket({ type: PacketType.CMD_RESPONSE, name: 'x' })).toThrow(ViciEncodeError);
    expect(() => encodePacket({ type: PacketType.EVENT_REGISTER, name: 'x', message: Buffer.from('m') })).toThrow(ViciEncodeError);
    expect(() => encodePacket({ type: PacketType.CMD_REQUEST })).toThrow(ViciEncodeError);
    expect(() => encodePacket({ type: 8 as PacketType })).toThrow(ViciEncodeError);
  });

  it('refuses a request whose segment would exceed 512 KiB', () => {
    const name = 'load-conn';
    const fits = MAX_SEGMENT_BYTES - 2 - name.length;
    expect(encodePacket({ type: PacketType.CMD_REQUEST, name, message: Buffer.alloc(fits) }).length).toBe(MAX_SEGMENT_BYTES + 4);
    expect(() => encodePacket({ type: PacketType.CMD_REQUEST, name, message: Buffer.alloc(fits + 1) })).toThrow(ViciEncodeError);
  });
});

describe('decode errors', () => {
  it('rejects empty segments, unknown types, overrunning names and trailing bytes', () => {
    const bad = [bytes([]), bytes([8]), bytes([0xff]), bytes([7]), bytes([7, 5], 'log'), bytes([0, 1]), bytes([2, 0]), bytes([5], 'x')];
    for (const seg of bad) expect(() => decodePacket(seg)).toThrow(ViciProtocolError);
  });

  it('accepts a named packet with an empty message', () => {
    expect(decodePacket(bytes([0, 4], 'test'))).toEqual({ type: PacketType.CMD_REQUEST, name: 'test', message: Buffer.alloc(0) });
  });
});
