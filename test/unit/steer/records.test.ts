// Map entries <-> bytes. The byte layout itself is checked against gcc in
// layout.test.ts and against the running program in
// test/host/steer/testrun.test.ts (an ESP key the program builds from a frame
// must equal the one encoded here, or the exception never hits). Here:
// round trips, per-CPU summing, and decoders that only ever throw the typed
// decode error, whatever bytes they get.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NetlinkDecodeError } from '../../../src/netlink/errors.js';
import { perCpuStride } from '../../../src/steer/layout.js';
import {
  decodeEspKey,
  decodeFdbEntry,
  decodeFdbKey,
  decodePort,
  encodeEspKey,
  encodeFdbKey,
  encodeFdbValue,
  encodePort,
  normalizeMac,
  sumCounters,
  sumPortStats,
} from '../../../src/steer/records.js';
import { counterValue, fdbValue, portStatsValue } from '../../../src/steer/layout.js';

describe('records', () => {
  it('fdb key: 6 MAC bytes then the VLAN id in host order', () => {
    const k = encodeFdbKey({ mac: '02:00:00:00:01:01', vlan: 100 });
    expect(k.toString('hex')).toBe('0200000001016400');
    expect(decodeFdbKey(k)).toEqual({ mac: '02:00:00:00:01:01', vlan: 100 });
  });

  it('fdb value round trip; counters summed over CPUs', () => {
    const rec = { mac: '02:00:00:00:01:01', vlan: 7, ifindex: 12, slot: 3, strip: true, origin: 'manual' as const };
    const one = encodeFdbValue(rec);
    expect(one.toString('hex')).toBe('0c00000003000103' + '00'.repeat(16));
    const cpus = [0, 1, 2].map((i) => {
      const b = Buffer.from(one);
      b.writeBigUInt64LE(BigInt(i + 1), 8);
      b.writeBigUInt64LE(BigInt(100 * (i + 1)), 16);
      return b;
    });
    expect(decodeFdbEntry(encodeFdbKey(rec), cpus)).toEqual({ ...rec, packets: 6, bytes: 600 });
  });

  it('unknown origin codes read as "unknown"', () => {
    const v = fdbValue.encode({ ifindex: 1, origin: 9 });
    expect(decodeFdbEntry(encodeFdbKey({ mac: '02:00:00:00:00:01', vlan: 0 }), [v]).origin).toBe('unknown');
  });

  it('port round trip; an unchecked port stores an all-zero MAC', () => {
    const p = { ifindex: 5, mac: undefined, vlan: 100, uplink: 2, slot: 4 };
    expect(encodePort(p).toString('hex')).toBe('000000000000640002000000' + '04000000');
    expect(decodePort(5, encodePort(p))).toEqual(p);
    const q = { ...p, mac: '02:00:00:00:01:01' };
    expect(decodePort(5, encodePort(q))).toEqual(q);
  });

  it('ESP key: VLAN, family, pad, SPI in network order, address', () => {
    expect(encodeEspKey({ vlan: 100, daddr: '10.1.0.1', spi: 0x100 }).toString('hex')).toBe('6400020000000100' + '0a010001' + '00'.repeat(12));
    expect(encodeEspKey({ vlan: 0, daddr: '2001:db8::1', spi: 0xdeadbeef }).toString('hex')).toBe('00000a00deadbeef' + '20010db8000000000000000000000001');
    for (const k of [{ vlan: 4094, daddr: '192.0.2.1', spi: 1 }, { vlan: 1, daddr: 'fe80::1', spi: 0xffffffff }]) {
      expect(decodeEspKey(encodeEspKey(k))).toEqual(k);
    }
  });

  it('MACs are normalised to lower-case two-digit octets', () => {
    expect(normalizeMac('2:0:AB:0:1:f')).toBe('02:00:ab:00:01:0f');
  });

  it('counter sums', () => {
    const c = [counterValue.encode({ packets: 2n, bytes: 20n }), counterValue.encode({ packets: 3n, bytes: 30n })];
    expect(sumCounters(c)).toEqual({ packets: 5, bytes: 50 });
    const p = [portStatsValue.encode({ rxPackets: 1n, spoofed: 2n }), portStatsValue.encode({ rxPackets: 4n, tagged: 1n })];
    expect(sumPortStats(p)).toEqual({ rxPackets: 5, rxBytes: 0, txPackets: 0, txBytes: 0, spoofed: 2, tagged: 1 });
    expect(perCpuStride(20)).toBe(24);
  });
});

describe('decoders only ever throw NetlinkDecodeError', () => {
  const onlyTyped = (fn: () => unknown): void => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(NetlinkDecodeError);
    }
  };
  const bytes = fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a));

  it('random bytes', () => {
    fc.assert(
      fc.property(bytes, fc.array(bytes, { maxLength: 3 }), (b, cpus) => {
        onlyTyped(() => decodeFdbKey(b));
        onlyTyped(() => decodeFdbEntry(b, cpus));
        onlyTyped(() => decodePort(1, b));
        onlyTyped(() => decodeEspKey(b));
        onlyTyped(() => sumCounters(cpus));
        onlyTyped(() => sumPortStats(cpus));
      }),
      { numRuns: 2000 },
    );
  });

  it('mutated valid keys and values', () => {
    const valid = [encodeEspKey({ vlan: 100, daddr: '10.1.0.1', spi: 0x100 }), encodeEspKey({ vlan: 0, daddr: '2001:db8::1', spi: 7 })];
    fc.assert(
      fc.property(fc.constantFrom(...valid), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 24 }), (k, at, v, cut) => {
        const m = Buffer.from(k);
        m[at] = v;
        onlyTyped(() => decodeEspKey(m.subarray(0, cut)));
        onlyTyped(() => decodeEspKey(m));
        onlyTyped(() => decodeFdbEntry(m.subarray(0, 8), [m, m.subarray(0, cut)]));
      }),
      { numRuns: 2000 },
    );
  });
});
