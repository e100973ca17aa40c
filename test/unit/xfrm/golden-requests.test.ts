// Requests built from our friendly models must equal, byte for byte, what
// iproute2 6.1 sent for the same command (captured with strace; each fixture's
// `captured` field has the exact command, `ip -V` and `uname -r`).
import { describe, expect, it } from 'vitest';
import { SecretBytes } from '../../../src/netlink/codec/secret.js';
import { NLMSG_HDRLEN } from '../../../src/netlink/message.js';
import { encodeXfrm, decodeAnyXfrm, type XfrmMessageKind, type XfrmEncodeInput } from '../../../src/xfrm/messages.js';
import { NO_LIMITS, selector } from '../../../src/xfrm/model.js';
import { makePolicy, policyIdToWire, policyToWire, template } from '../../../src/xfrm/policy.js';
import { spiRequestToWire, stateIdToWire } from '../../../src/xfrm/state-requests.js';
import { makeState, stateToWire } from '../../../src/xfrm/state.js';
import { loadCapture, sentMessage } from './fixtures.js';

const hex = (h: string): SecretBytes => SecretBytes.copyOf(Buffer.from(h, 'hex'));
/** The key of the kernel's rtnetlink.sh offload selftest: "1234567890123456" + salt "dcba". */
const aead = () => ({ name: 'rfc4106(gcm(aes))', key: hex('3132333435363738393031323334353664636261'), icvBits: 128 });

/** The payload our encoder produces for a request, checked against the capture. */
function expectGolden<K extends XfrmMessageKind>(fixture: string, kind: K, input: XfrmEncodeInput<K>): void {
  const c = loadCapture(fixture);
  const sent = sentMessage(c);
  const ours = encodeXfrm(kind, input);
  const payload = Buffer.concat(ours.payload);
  expect(ours.type, `${fixture}: message type`).toBe(sent.type);
  expect(NLMSG_HDRLEN + payload.length, `${fixture}: nlmsg_len`).toBe(NLMSG_HDRLEN + sent.payload.length);
  expect(payload.toString('hex'), `${fixture}: ${c.captured.command}`).toBe(sent.payload.toString('hex'));
}

describe('states: our model -> NEWSA/UPDSA equals iproute2 6.1', () => {
  it('aead rfc4106, transport, selector, offload dev lo dir out', () => {
    const s = makeState({
      saddr: '192.168.123.3',
      daddr: '192.168.123.4',
      spi: 9,
      proto: 'esp',
      mode: 'transport',
      reqid: 42,
      aead: aead(),
      selector: selector('192.168.123.3/24', '192.168.123.4/24'),
      offload: { ifindex: 1, dir: 'out', packet: false },
    });
    expectGolden('state-add-aead-offload-out', 'NEWSA', stateToWire(s));
  });

  it('tunnel, offload dir in, flag esn replay-window 128 (short ESN form), if_id 5', () => {
    const s = makeState({
      saddr: '192.168.123.4',
      daddr: '192.168.123.3',
      spi: 9,
      proto: 'esp',
      mode: 'tunnel',
      reqid: 42,
      aead: aead(),
      flags: ['esn'],
      esn: { oseq: 0, seq: 0, oseqHi: 0, seqHi: 0, replayWindow: 128, bmpLen: 4, bitmap: [] },
      ifId: 5,
      offload: { ifindex: 1, dir: 'in', packet: false },
    });
    expectGolden('state-add-aead-offload-in-esn-ifid', 'NEWSA', stateToWire(s));
  });

  it('auth-trunc hmac(sha256) + enc cbc(aes), espinudp encap, mark', () => {
    const s = makeState({
      saddr: '10.0.0.1',
      daddr: '10.0.0.2',
      spi: 0x1000,
      proto: 'esp',
      mode: 'tunnel',
      reqid: 7,
      auth: { name: 'hmac(sha256)', key: hex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'), truncBits: 128 },
      crypt: { name: 'cbc(aes)', key: hex('202122232425262728292a2b2c2d2e2f') },
      encap: { type: 'espinudp', sport: 4500, dport: 4500, oa: '0.0.0.0' },
      mark: { value: 0x10, mask: 0xff },
    });
    expectGolden('state-add-authtrunc-enc-encap-mark', 'NEWSA', stateToWire(s));
  });

  it('legacy replay, flags, extra flags, output-mark with mask, tfcpad, limits, port selector', () => {
    const s = makeState({
      saddr: '10.0.0.1',
      daddr: '10.0.0.2',
      spi: 0x2000,
      proto: 'esp',
      mode: 'tunnel',
      reqid: 8,
      aead: aead(),
      replayWindow: 32,
      replay: { oseq: 7, seq: 5, bitmap: 0 },
      flags: ['noecn', 'af-unspec'],
      extraFlags: ['dont-encap-dscp', 'oseq-may-wrap'],
      setMark: { value: 0x20, mask: 0xf0 },
      tfcpad: 16,
      lifetime: { ...NO_LIMITS, softAddExpiresSeconds: 100n, hardAddExpiresSeconds: 200n, softByteLimit: 1000000n, hardPacketLimit: 5000n },
      selector: selector('10.1.0.0/16', '10.2.0.0/16', { proto: 6, sport: 80, dport: 8080 }),
    });
    expectGolden('state-add-replay-limits-outputmark', 'NEWSA', stateToWire(s));
  });

  it('IPv6 tunnel with ESN counters', () => {
    const s = makeState({
      saddr: '2001:db8::1',
      daddr: '2001:db8::2',
      spi: 0x3000,
      proto: 'esp',
      mode: 'tunnel',
      reqid: 9,
      aead: aead(),
      flags: ['esn'],
      esn: { oseq: 2, seq: 1, oseqHi: 4, seqHi: 3, replayWindow: 64, bmpLen: 2, bitmap: [] },
    });
    expectGolden('state-add-ipv6-esn-values', 'NEWSA', stateToWire(s));
  });

  it('update = UPDSA with the same body', () => {
    const s = makeState({ saddr: '192.168.123.3', daddr: '192.168.123.4', spi: 9, proto: 'esp', mode: 'transport', reqid: 42, aead: aead() });
    expectGolden('state-update', 'UPDSA', stateToWire(s));
  });
});

describe('state lookups, dump, counts, SPI allocation, flush', () => {
  it('get by id sends usersa_id + XFRMA_SRCADDR', () => {
    expectGolden('state-get', 'GETSA', stateIdToWire({ daddr: '10.0.0.2', spi: 0x1000, proto: 'esp', saddr: '10.0.0.1' }));
  });

  it('get with mark adds XFRMA_MARK after SRCADDR (IPv6)', () => {
    expectGolden(
      'state-get-mark',
      'GETSA',
      stateIdToWire({ daddr: '2001:db8::2', spi: 0x2000, proto: 'esp', saddr: '2001:db8::1', mark: { value: 5, mask: 0xff } }),
    );
  });

  it('delete by id', () => {
    expectGolden('state-delete', 'DELSA', stateIdToWire({ daddr: '10.0.0.2', spi: 0x1000, proto: 'esp', saddr: '10.0.0.1' }));
  });

  it('list = header-less GETSA dump with an all-zero XFRMA_ADDRESS_FILTER', () => {
    expectGolden('state-list', 'GETSA_DUMP', { attrs: { addressFilter: { family: 0, saddr: '', daddr: '', splen: 0, dplen: 0 } } });
    expect(decodeAnyXfrm(sentMessage(loadCapture('state-list')))?.kind).toBe('GETSA_DUMP');
  });

  it('count = GETSADINFO with 0xffffffff', () => {
    expectGolden('state-count', 'GETSADINFO', { header: { flags: 0xffffffff } });
  });

  it('allocspi with mark and a one-SPI range', () => {
    expectGolden(
      'state-allocspi',
      'ALLOCSPI',
      spiRequestToWire({ saddr: '2001:db8::1', daddr: '2001:db8::2', proto: 'esp', mode: 'transport', reqid: 9, mark: { value: 5, mask: 0xff }, min: 0x2000, max: 0x2000 }),
    );
  });

  it('flush proto esp (1-byte header, nlmsg_len 17)', () => {
    expectGolden('state-flush', 'FLUSHSA', { header: { proto: 50 } });
  });
});

describe('policies: our model -> NEWPOLICY/GETPOLICY/DELPOLICY equals iproute2 6.1', () => {
  const outPolicy = () =>
    makePolicy({
      selector: selector('10.1.0.0/24', '10.2.0.0/24'),
      dir: 'out',
      priority: 100,
      templates: [template({ saddr: '10.0.0.1', daddr: '10.0.0.2', proto: 'esp', reqid: 7, mode: 'tunnel' })],
      ifId: 5,
    });

  it('out with an ESP tunnel template and if_id', () => {
    expectGolden('policy-add-tmpl-ifid', 'NEWPOLICY', policyToWire(outPolicy()));
  });

  it('in, block, localok+icmp, udp dport selector, mark, hard time limit', () => {
    const p = makePolicy({
      selector: selector('10.3.0.0/16', '10.4.0.0/16', { proto: 17, dport: 4500 }),
      dir: 'in',
      action: 'block',
      priority: 5,
      flags: ['localok', 'icmp'],
      mark: { value: 7, mask: 0xff },
      lifetime: { ...NO_LIMITS, hardAddExpiresSeconds: 3600n },
    });
    expectGolden('policy-add-mark-block', 'NEWPOLICY', policyToWire(p));
  });

  it('fwd IPv6 with two templates, the first optional (level use)', () => {
    const p = makePolicy({
      selector: selector('2001:db8:1::/64', '2001:db8:2::/64'),
      dir: 'fwd',
      templates: [
        template({ saddr: '2001:db8::1', daddr: '2001:db8::2', proto: 'esp', reqid: 9, mode: 'tunnel', optional: true }),
        template({ saddr: '2001:db8::1', daddr: '2001:db8::2', proto: 'comp', reqid: 9, mode: 'tunnel' }),
      ],
    });
    expectGolden('policy-add-ipv6-two-tmpl', 'NEWPOLICY', policyToWire(p));
  });

  it('get and delete by selector + dir + if_id', () => {
    const id = { selector: selector('10.1.0.0/24', '10.2.0.0/24'), dir: 'out' as const, ifId: 5 };
    expectGolden('policy-get', 'GETPOLICY', policyIdToWire(id));
    expectGolden('policy-delete', 'DELPOLICY', policyIdToWire(id));
  });

  it('list = header-less GETPOLICY dump', () => {
    expectGolden('policy-list', 'GETPOLICY_DUMP', {});
  });

  it('count, flush, hash thresholds, default policies', () => {
    expectGolden('policy-count', 'GETSPDINFO', { header: { flags: 0xffffffff } });
    expectGolden('policy-flush', 'FLUSHPOLICY', {});
    expectGolden('policy-set-hthresh', 'NEWSPDINFO', {
      header: { flags: 0xffffffff },
      attrs: { ipv4Hthresh: { lbits: 24, rbits: 16 }, ipv6Hthresh: { lbits: 64, rbits: 48 } },
    });
    expectGolden('policy-getdefault', 'GETDEFAULT', {});
    expectGolden('policy-setdefault', 'SETDEFAULT', { header: { in: 1, fwd: 1, out: 2 } });
  });
});
