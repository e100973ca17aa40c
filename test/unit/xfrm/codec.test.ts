// Round trips through the one encoder and the one decoder, model validation,
// feature gating, and the describer the requester uses for errors.
import { describe, expect, it } from 'vitest';
import { NetlinkDecodeError, NetlinkEncodeError } from '../../../src/netlink/errors.js';
import { SecretBytes } from '../../../src/netlink/codec/secret.js';
import { encodeMessage, NLM_F_REPLACE, type NetlinkMessage } from '../../../src/netlink/message.js';
import { aeUpdateToWire } from '../../../src/xfrm/ae.js';
import { xfrmAttrs } from '../../../src/xfrm/attributes.js';
import { XFRM_INF } from '../../../src/xfrm/constants.js';
import { XfrmModelError, XfrmUnsupportedError } from '../../../src/xfrm/errors.js';
import {
  PROBE_ATTRIBUTE_OFFSET,
  featuresFromVersion,
  parseKernelRelease,
  probeRequestPayload,
  type KernelFeatures,
} from '../../../src/xfrm/features.js';
import { decodeXfrm, encodeXfrm, xfrmDescriber, type XfrmMessageKind } from '../../../src/xfrm/messages.js';
import { NO_LIMITS, selector } from '../../../src/xfrm/model.js';
import { makePolicy, policyFromWire, policyToWire, template, type XfrmPolicy } from '../../../src/xfrm/policy.js';
import { makeState, stateFromWire, stateToWire, wipeStateKeys, type XfrmState } from '../../../src/xfrm/state.js';

const key = (n: number, fill: number): SecretBytes => SecretBytes.copyOf(Buffer.alloc(n, fill));

/** What went on the wire, read back as the kernel would hand it to us. */
function asReceived<K extends XfrmMessageKind>(kind: K, input: Parameters<typeof encodeXfrm<K>>[1], features?: KernelFeatures): NetlinkMessage {
  const m = encodeXfrm(kind, input, features ? { features } : {});
  const payload = Buffer.concat(m.payload);
  return { type: m.type, flags: m.flags ?? 0, seq: 1, pid: 0, payload };
}

/** Keys compared by value (SecretBytes never render, so toEqual would see only markers). */
const revealKeys = (s: XfrmState): unknown => ({
  ...s,
  aead: s.aead && { ...s.aead, key: s.aead.key.reveal().toString('hex') },
  auth: s.auth && { ...s.auth, key: s.auth.key.reveal().toString('hex') },
  crypt: s.crypt && { ...s.crypt, key: s.crypt.key.reveal().toString('hex') },
});

const everything = (): XfrmState =>
  makeState({
    saddr: '2001:db8::1',
    daddr: '2001:db8::2',
    spi: 0xc0ffee01,
    proto: 'esp',
    mode: 'tunnel',
    reqid: 77,
    flags: ['noecn', 'esn'],
    selector: selector('2001:db8:a::/48', '2001:db8:b::/48', { proto: 6, dport: 443 }),
    lifetime: { ...NO_LIMITS, softByteLimit: 1n << 40n, hardAddExpiresSeconds: 3600n },
    current: { bytes: 123456789n, packets: 4242n, addTime: 1795268721n, useTime: 1795268722n },
    stats: { replayWindow: 0, replay: 1, integrityFailed: 2 },
    auth: { name: 'hmac(sha512)', key: key(64, 0xa5), truncBits: 256 },
    crypt: { name: 'cbc(aes)', key: key(32, 0x5a) },
    encap: { type: 'espinudp', sport: 4500, dport: 4501, oa: '2001:db8::99' },
    mark: { value: 0x100, mask: 0xf00 },
    setMark: { value: 7, mask: 0xff },
    ifId: 9,
    offload: { ifindex: 4, dir: 'in', packet: true },
    esn: { oseq: 1, seq: 0xfffffff0, oseqHi: 2, seqHi: 3, replayWindow: 256, bmpLen: 8, bitmap: [1, 2, 3, 4, 5, 6, 7, 0xffffffff] },
    extraFlags: ['oseq-may-wrap'],
    saDir: 'in',
    tfcpad: 32,
    replayThresh: 10,
    etimerThresh: 20,
    mtimerThresh: 30,
    natKeepaliveInterval: 20,
    pcpu: 1,
    secCtx: { ctxAlg: 1, ctxDoi: 1, context: 'system_u:object_r:ipsec_spd_t:s0' },
  });

describe('the XFRMA table', () => {
  it('declares every attribute type 1..35 exactly once, under the kernel\'s names', () => {
    const types = Object.values(xfrmAttrs.spec).map((s) => s.type).sort((a, b) => a - b);
    expect(types).toEqual(Array.from({ length: 35 }, (_, i) => i + 1));
    expect([1, 18, 20, 23, 28, 29, 31, 33, 35].map((t) => xfrmAttrs.nameOf(t))).toEqual([
      'XFRMA_ALG_AUTH',
      'XFRMA_ALG_AEAD',
      'XFRMA_ALG_AUTH_TRUNC',
      'XFRMA_REPLAY_ESN_VAL',
      'XFRMA_OFFLOAD_DEV',
      'XFRMA_SET_MARK',
      'XFRMA_IF_ID',
      'XFRMA_SA_DIR',
      'XFRMA_SA_PCPU',
    ]);
  });
});

describe('state round trip: model -> NEWSA -> model', () => {
  it('keeps every field of a state that uses every attribute', () => {
    const s = everything();
    const d = decodeXfrm('NEWSA', asReceived('NEWSA', stateToWire(s)));
    const back = stateFromWire(d.header, d.attrs, d.unknown.map((u) => u.type));
    expect(revealKeys(back)).toEqual(revealKeys({ ...s, auth: { ...s.auth!, keyBits: 512 }, crypt: { ...s.crypt!, keyBits: 256 } }));
    expect(d.unknown).toEqual([]);
  });

  it('sends the full REPLAY_ESN_VAL (with bitmap) when the model has one, the 24-byte form when not', () => {
    const full = decodeXfrm('NEWSA', asReceived('NEWSA', stateToWire(everything())));
    expect(full.attrs.replayEsnVal?.bmp).toHaveLength(8);
    const short = makeState({ ...everything(), esn: { oseq: 0, seq: 0, oseqHi: 0, seqHi: 0, replayWindow: 128, bmpLen: 4, bitmap: [] } });
    const m = asReceived('NEWSA', stateToWire(short));
    expect(decodeXfrm('NEWSA', m).attrs.replayEsnVal).toMatchObject({ bmpLen: 4, bmp: [] });
  });

  it('carries counters as XFRMA_LTIME_VAL and sets the header window to 0 under ESN', () => {
    const { header, attrs } = stateToWire({ ...everything(), replayWindow: 64 });
    expect(attrs.ltimeVal).toEqual(everything().current);
    expect(header.replayWindow).toBe(0);
  });

  it('auth without truncation goes as XFRMA_ALG_AUTH; with it as ALG_AUTH_TRUNC only', () => {
    const base = makeState({ saddr: '10.0.0.1', daddr: '10.0.0.2', spi: 1, proto: 'ah', mode: 'transport', reqid: 1, auth: { name: 'hmac(sha1)', key: key(20, 1) } });
    expect(Object.keys(stateToWire(base).attrs)).toEqual(['algAuth']);
    expect(Object.keys(stateToWire({ ...base, auth: { ...base.auth!, truncBits: 96 } }).attrs)).toEqual(['algAuthTrunc']);
  });
});

describe('model validation (before the kernel sees anything)', () => {
  const ok = makeState({ saddr: '10.0.0.1', daddr: '10.0.0.2', spi: 1, proto: 'esp', mode: 'tunnel', reqid: 1, aead: { name: 'rfc4106(gcm(aes))', key: key(20, 1), icvBits: 128 } });
  it.each<[string, Partial<XfrmState>, RegExp]>([
    ['esn flag without an ESN replay state', { flags: ['esn'] }, /esn needs an esn replay state/],
    ['legacy replay and ESN together', { replay: { oseq: 0, seq: 0, bitmap: 0 }, esn: { oseq: 0, seq: 0, oseqHi: 0, seqHi: 0, replayWindow: 32, bmpLen: 1, bitmap: [] } }, /either replay/],
    ['counters with add time 0 (would expire at once)', { current: { bytes: 0n, packets: 0n, addTime: 0n, useTime: 0n } }, /addTime/],
    ['mixed address families', { saddr: '2001:db8::1' }, /not all ipv4/],
    ['a legacy window beyond the u8 field', { replayWindow: 300 }, /u8/],
  ])('refuses %s', (_what, change, message) => {
    expect(() => stateToWire({ ...ok, ...change })).toThrow(XfrmModelError);
    expect(() => stateToWire({ ...ok, ...change })).toThrow(message);
  });

  it('refuses an ESN bitmap that does not fit and a key whose bit length disagrees', () => {
    const esn = { oseq: 0, seq: 0, oseqHi: 0, seqHi: 0, replayWindow: 256, bmpLen: 4, bitmap: [] };
    expect(() => encodeXfrm('NEWSA', stateToWire({ ...ok, flags: ['esn'], esn }))).toThrow(NetlinkEncodeError);
    expect(() => encodeXfrm('NEWSA', stateToWire({ ...ok, aead: { ...ok.aead!, keyBits: 128 } }))).toThrow(/key_len of 128 bits does not match a 20-byte key/);
  });
});

describe('policy round trip', () => {
  it('keeps templates, mark, if_id, type, security context and policy offload', () => {
    const p: XfrmPolicy = makePolicy({
      selector: selector('10.1.0.0/24', '10.2.0.0/24', { proto: 17, sport: 500 }),
      dir: 'out',
      action: 'allow',
      priority: 1,
      index: 17,
      flags: ['localok'],
      templates: [
        template({ saddr: '10.0.0.1', daddr: '10.0.0.2', proto: 'esp', mode: 'tunnel', reqid: 3, spi: 0x99 }),
        template({ proto: 'comp', mode: 'transport', optional: true }),
      ],
      mark: { value: 1, mask: 3 },
      ifId: 12,
      type: 'sub',
      offload: { ifindex: 3 },
      secCtx: { ctxAlg: 1, ctxDoi: 1, context: 'ctx' },
    });
    const d = decodeXfrm('NEWPOLICY', asReceived('NEWPOLICY', policyToWire(p)));
    // a template without addresses reads back with the policy's family
    expect(policyFromWire(d.header, d.attrs)).toEqual({ ...p, templates: [p.templates[0], { ...p.templates[1], saddr: '0.0.0.0', daddr: '0.0.0.0' }] });
  });
});

describe('NEWAE (set) payload', () => {
  it('always sends the full ESN form with bmpLen words and needs NLM_F_REPLACE from the caller', () => {
    const u = aeUpdateToWire({
      id: { daddr: '10.0.0.2', spi: 5, proto: 'esp' },
      esn: { oseq: 100, seq: 90, oseqHi: 1, seqHi: 1, replayWindow: 128, bmpLen: 4, bitmap: [] },
    });
    const m = encodeXfrm('NEWAE', { ...u, flags: NLM_F_REPLACE });
    expect(m.flags).toBe(NLM_F_REPLACE);
    const d = decodeXfrm('NEWAE', { type: m.type, flags: 0, seq: 0, pid: 0, payload: Buffer.concat(m.payload) });
    expect(d.attrs.replayEsnVal).toEqual({ bmpLen: 4, oseq: 100, seq: 90, oseqHi: 1, seqHi: 1, replayWindow: 128, bmp: [0, 0, 0, 0] });
    expect(() => aeUpdateToWire({ id: { daddr: '10.0.0.2', spi: 5, proto: 'esp' } })).toThrow(/nothing to set/);
  });
});

describe('kernel features', () => {
  it('reads versions from Debian and custom release strings', () => {
    expect(parseKernelRelease('6.1.0-56-amd64')).toEqual({ major: 6, minor: 1, patch: 0 });
    expect(parseKernelRelease('6.18.44-fc-v595')).toEqual({ major: 6, minor: 18, patch: 44 });
    expect(parseKernelRelease('5.15')).toEqual({ major: 5, minor: 15, patch: 0 });
    expect(() => parseKernelRelease('linux')).toThrow(TypeError);
  });

  it('by version: 5.15 lacks MTIMER_THRESH, 6.1 lacks SA_DIR and packet offload, 6.12 lacks SA_PCPU', () => {
    expect(featuresFromVersion('5.15.0-91-generic').capabilities).toEqual({ mtimerThresh: false, offloadPacket: false, saDir: false, natKeepalive: false, saPcpu: false });
    expect(featuresFromVersion('6.1.0-56-amd64').capabilities).toEqual({ mtimerThresh: true, offloadPacket: false, saDir: false, natKeepalive: false, saPcpu: false });
    expect(featuresFromVersion('6.12.57+deb13-amd64').capabilities).toEqual({ mtimerThresh: true, offloadPacket: true, saDir: true, natKeepalive: true, saPcpu: false });
  });

  it('refuses, naming attribute and kernel, what the kernel would silently ignore', () => {
    const f61 = featuresFromVersion('6.1.0-56-amd64');
    const s = makeState({ saddr: '10.0.0.1', daddr: '10.0.0.2', spi: 1, proto: 'esp', mode: 'tunnel', reqid: 1, aead: { name: 'rfc4106(gcm(aes))', key: key(20, 1), icvBits: 128 } });
    let err: unknown;
    try {
      encodeXfrm('NEWSA', stateToWire({ ...s, saDir: 'out' }), { features: f61 });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(XfrmUnsupportedError);
    expect(err).toMatchObject({ attribute: 'XFRMA_SA_DIR', kernel: '6.1.0-56-amd64', since: '6.10', evidence: 'version' });
    expect(() => encodeXfrm('NEWSA', stateToWire({ ...s, offload: { ifindex: 2, dir: 'out', packet: true } }), { features: f61 })).toThrow(/XFRM_OFFLOAD_PACKET/);
    expect(() => encodeXfrm('NEWSA', stateToWire({ ...s, pcpu: 0 }), { features: featuresFromVersion('6.12.57') })).toThrow(/XFRMA_SA_PCPU/);
    // crypto offload and everything of 6.1 pass
    expect(() => encodeXfrm('NEWSA', stateToWire({ ...s, offload: { ifindex: 2, dir: 'in', packet: false }, mtimerThresh: 5 }), { features: f61 })).not.toThrow();
  });

  it('a probe result overrides the version (Debian 6.12 has SA_PCPU)', () => {
    const base = featuresFromVersion('6.12.57+deb13-amd64');
    const debian: KernelFeatures = { ...base, capabilities: { ...base.capabilities, saPcpu: true }, evidence: { ...base.evidence, saPcpu: 'probe' } };
    const s = makeState({ saddr: '10.0.0.1', daddr: '10.0.0.2', spi: 1, proto: 'esp', mode: 'tunnel', reqid: 1, pcpu: 0 });
    expect(() => encodeXfrm('NEWSA', stateToWire(s), { features: debian })).not.toThrow();
  });

  it('the probe is a GETSA for spi 0 with one attribute flagged NLA_F_NESTED at a known offset', () => {
    const p = probeRequestPayload(33, Buffer.from([1]));
    expect(p.length).toBe(24 + 8);
    expect(p.readUInt16LE(24)).toBe(5); // nla_len: a well-formed u8 (no kernel length warning)
    expect(p.readUInt16LE(26)).toBe(0x8000 | 33);
    expect(p.readUInt32BE(16)).toBe(0); // spi 0: never in the SPI hash, so the lookup cannot succeed
    expect(PROBE_ATTRIBUTE_OFFSET).toBe(16 + 24);
  });
});

describe('xfrmDescriber (names for NetlinkError)', () => {
  const s = makeState({ saddr: '10.0.0.1', daddr: '10.0.0.2', spi: 1, proto: 'esp', mode: 'tunnel', reqid: 1, aead: { name: 'rfc4106(gcm(aes))', key: key(20, 1), icvBits: 128 }, offload: { ifindex: 2, dir: 'out', packet: false }, ifId: 3 });
  const request = encodeMessage(encodeXfrm('NEWSA', stateToWire(s)), 7);

  it('names the message and the attribute an ext-ack offset points at', () => {
    expect(xfrmDescriber.name(16)).toBe('XFRM_MSG_NEWSA');
    expect(xfrmDescriber.name(99)).toBe('XFRM message type 99');
    // header 16 + usersa_info 224 + ALG_AEAD (4 + 72 + 20 = 96) -> OFFLOAD_DEV at 336, IF_ID at 348
    expect(xfrmDescriber.attributeAt?.(request, 240)).toBe('XFRMA_ALG_AEAD');
    expect(xfrmDescriber.attributeAt?.(request, 336)).toBe('XFRMA_OFFLOAD_DEV');
    expect(xfrmDescriber.attributeAt?.(request, 348)).toBe('XFRMA_IF_ID');
    expect(xfrmDescriber.attributeAt?.(request, 100)).toBe('XFRM_MSG_NEWSA header');
    expect(xfrmDescriber.attributeName?.(33)).toBe('XFRMA_SA_DIR');
  });

  it('knows header-less dump requests', () => {
    const dump = encodeMessage({ ...encodeXfrm('GETSA_DUMP', { attrs: { proto: 50 } }), flags: 0x301 }, 1);
    expect(xfrmDescriber.attributeAt?.(dump, 16)).toBe('XFRMA_PROTO');
  });
});

describe('decoding guards', () => {
  it('rejects a key length that overruns the attribute, naming where, not what', () => {
    const s = makeState({ saddr: '10.0.0.1', daddr: '10.0.0.2', spi: 1, proto: 'esp', mode: 'tunnel', reqid: 1, aead: { name: 'rfc4106(gcm(aes))', key: key(20, 0x41), icvBits: 128 } });
    const m = asReceived('NEWSA', stateToWire(s));
    m.payload.writeUInt32LE(4000, 224 + 4 + 64); // alg_key_len
    expect(() => decodeXfrm('NEWSA', m)).toThrow(NetlinkDecodeError);
    expect(() => decodeXfrm('NEWSA', m)).toThrow(/XFRMA_ALG_AEAD.*key of 4000 bits/);
  });

  it('rejects a short header and a wrong type', () => {
    expect(() => decodeXfrm('NEWSA', { type: 16, flags: 0, seq: 0, pid: 0, payload: Buffer.alloc(100) })).toThrow(/needs 224 bytes/);
    expect(() => decodeXfrm('NEWSA', { type: 17, flags: 0, seq: 0, pid: 0, payload: Buffer.alloc(224) })).toThrow(NetlinkDecodeError);
  });

  it('keeps attributes newer than the table as unknown (and reports their types on the model)', () => {
    const s = makeState({ saddr: '10.0.0.1', daddr: '10.0.0.2', spi: 1, proto: 'esp', mode: 'tunnel', reqid: 1 });
    const m = asReceived('NEWSA', stateToWire(s));
    const iptfs = Buffer.from([8, 0, 36, 0, 1, 0, 0, 0]); // XFRMA_IPTFS_DROP_TIME (6.14)
    const d = decodeXfrm('NEWSA', { ...m, payload: Buffer.concat([m.payload, iptfs]) });
    expect(d.unknown).toEqual([{ type: 36, payload: Buffer.from([1, 0, 0, 0]) }]);
    expect(stateFromWire(d.header, d.attrs, d.unknown.map((u) => u.type)).unknownAttributes).toEqual([36]);
  });
});

describe('key hygiene helpers', () => {
  it('wipeStateKeys zeroes every key', () => {
    const s = everything();
    const bytes = s.auth!.key.reveal();
    wipeStateKeys(s);
    expect(bytes.every((b) => b === 0)).toBe(true);
    expect(() => s.crypt!.key.reveal()).toThrow(/wiped/);
  });

  it('no-limit lifetimes are XFRM_INF', () => {
    expect(NO_LIMITS.hardByteLimit).toBe(XFRM_INF);
  });
});
