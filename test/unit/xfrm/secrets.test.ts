// No key byte ever renders: not through String(), JSON, or util.inspect of a
// state, an event, a decoded message, or any error the codec raises.
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { NetlinkError } from '../../../src/netlink/errors.js';
import { parseAck } from '../../../src/netlink/message.js';
import { SecretBytes } from '../../../src/netlink/codec/secret.js';
import { eventFromMessage } from '../../../src/xfrm/events.js';
import { decodeAnyXfrm, decodeXfrm, encodeXfrm } from '../../../src/xfrm/messages.js';
import { makeState, stateFromWire, stateToWire } from '../../../src/xfrm/state.js';
import { loadCapture, messages, sentMessage, toJson } from './fixtures.js';

// The fixtures' AEAD key is ASCII "1234567890123456dcba"; the auth/enc keys are 00..1f and 20..2f.
const KEY_HEX = '3132333435363738393031323334353664636261';
const KEY_ASCII = '1234567890123456dcba';
const AUTH_HEX = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';

const renderings = (v: unknown): string[] => [
  String(v),
  toJson(v),
  inspect(v, { depth: Infinity, showHidden: true }),
  inspect(v, { depth: Infinity, colors: false, getters: true }),
];

function expectNoKey(v: unknown): void {
  for (const text of renderings(v)) {
    const needles = [KEY_HEX, KEY_ASCII, AUTH_HEX, Buffer.from(KEY_HEX, 'hex').toString('base64'), '31 32 33 34 35 36', '49,50,51,52,53', '49, 50, 51, 52', '00 01 02 03 04 05'];
    for (const needle of needles) {
      expect(text.includes(needle), `rendered key material: ${text.slice(0, 200)}`).toBe(false);
    }
  }
}

describe('key material never renders', () => {
  it('(the check itself catches raw key bytes in any rendering)', () => {
    const leaky = { key: Buffer.from(KEY_HEX, 'hex') };
    // String() of a plain object is "[object Object]"; JSON and inspect must both give it away
    for (const text of renderings(leaky).slice(1)) expect([KEY_HEX, KEY_ASCII, '31 32 33 34 35 36', '49,50,51,52,53'].some((n) => text.includes(n))).toBe(true);
  });

  it('decoded states (AEAD, auth-trunc + enc) and their keys', () => {
    for (const name of ['state-add-aead-offload-out', 'state-add-authtrunc-enc-encap-mark']) {
      const d = decodeXfrm('NEWSA', sentMessage(loadCapture(name)));
      const s = stateFromWire(d.header, d.attrs);
      expectNoKey(s);
      expectNoKey(s.aead ?? s.auth);
      expectNoKey(d);
      expect(s.aead?.key.reveal().toString('hex') ?? s.auth?.key.reveal().toString('hex')).toMatch(new RegExp(`^(${KEY_HEX}|${AUTH_HEX})$`));
    }
  });

  it('events built from notifications that carry keys', () => {
    const m = sentMessage(loadCapture('state-add-authtrunc-enc-encap-mark'));
    const d = decodeAnyXfrm(m);
    if (!d) throw new Error('undecodable');
    expectNoKey(eventFromMessage(d));
  });

  it('encode errors about a keyed attribute give lengths only', () => {
    const key = SecretBytes.copyOf(Buffer.from(KEY_HEX, 'hex'));
    const s = makeState({ saddr: '10.0.0.1', daddr: '10.0.0.2', spi: 1, proto: 'esp', mode: 'tunnel', reqid: 1, aead: { name: 'rfc4106(gcm(aes))', key, icvBits: 128, keyBits: 8 } });
    let err: unknown;
    try {
      encodeXfrm('NEWSA', stateToWire(s));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expectNoKey(err);
    expectNoKey(s);
  });

  it('decode errors of a keyed message name where, not what', () => {
    const m = sentMessage(loadCapture('state-add-aead-offload-out'));
    const cut = { ...m, payload: Buffer.from(m.payload.subarray(0, m.payload.length - 20)) };
    let err: unknown;
    try {
      decodeXfrm('NEWSA', cut);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(Error);
    expectNoKey(err);
  });

  it('the kernel\'s refusal of a keyed NEWSA, as the requester turns it into a NetlinkError', () => {
    // iproute2 does not set NETLINK_CAP_ACK, so this error ack echoes the whole request, key included.
    // The error built from it carries errno, text and names only.
    const [reply] = messages(loadCapture('state-add-aead-offload-out'), 'received');
    const ack = parseAck(reply as NonNullable<typeof reply>);
    const err = new NetlinkError({ errno: ack.errno, request: 'XFRM_MSG_NEWSA', seq: ack.request.seq, ...(ack.extack ? { extack: ack.extack } : {}) });
    expect(String(err)).toContain('Requested AEAD algorithm not found');
    expectNoKey(err);
  });

  it('a wiped key stays unreadable', () => {
    const d = decodeXfrm('NEWSA', sentMessage(loadCapture('state-add-aead-offload-out')));
    const s = stateFromWire(d.header, d.attrs);
    s.aead?.key.wipe();
    expect(() => s.aead?.key.reveal()).toThrow();
    expectNoKey(s);
  });
});
