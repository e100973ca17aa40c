// Property-based fuzzing of every decoder in src/link and src/netlink/genl.ts:
// random bytes and mutated captured messages must decode or fail with
// NetlinkDecodeError, nothing else, and quickly.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NetlinkDecodeError } from '../../../src/netlink/errors.js';
import { decodeFamily } from '../../../src/netlink/genl.js';
import type { NetlinkMessage } from '../../../src/netlink/message.js';
import { decodeFeatureNames, decodeFeatures } from '../../../src/link/ethtool.js';
import { RT_MESSAGES, decodeRtMessage, describers } from '../../../src/link/messages.js';
import { toLink } from '../../../src/link/link-view.js';
import { toAddress } from '../../../src/link/address-view.js';
import { toRoute } from '../../../src/link/route-view.js';
import { RTM_NEWLINK } from '../../../src/link/constants.js';
import { asMessage, fixtureIds, loadFixture } from './fixtures.js';
import { pfMessage } from './pf-message.js';

const RUNS = 2000;
/**
 * A decode that burns more CPU than this is treated as a hang. CPU time, not
 * wall time: a decoder that spins burns CPU, while a machine busy with other
 * work (lab VMs beside the tests, a GC pause) only stalls the wall clock.
 */
const HANG_CPU_MS = 1000;

/** Runs `fn`; anything thrown must be a NetlinkDecodeError. Returns the CPU time taken (ms). */
function onlyDecodeErrors(fn: () => unknown): number {
  const t0 = process.cpuUsage();
  try {
    fn();
  } catch (e) {
    if (!(e instanceof NetlinkDecodeError)) throw e;
  }
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

// Every message in every capture: requests and kernel answers. Generic
// netlink ids overlap rtnetlink types (the controller is 16 = RTM_NEWLINK), so
// the pools are told apart by the capture they come from.
const messages = (ids: string[]): NetlinkMessage[] =>
  ids.flatMap((id) => {
    const f = loadFixture(id);
    return [...f.sent, ...f.received].map(asMessage);
  });
const rt = [
  ...messages(fixtureIds().filter((id) => !id.startsWith('ethtool-'))).filter((m) => RT_MESSAGES[m.type] !== undefined),
  // PFs with VF lists, short and wrapped past 64 KiB (no SR-IOV device on this host)
  ...[2, 5, 230].map((n) => ({ type: RTM_NEWLINK, flags: 0, seq: 0, pid: 0, payload: pfMessage(n).payload })),
];
const genl = messages(fixtureIds().filter((id) => id.startsWith('ethtool-'))).filter((m) => m.type >= 16);

/** A valid message with some bytes changed, cut short, or with a chunk repeated. */
const mutated = (pool: NetlinkMessage[]) =>
  fc
    .record({
      base: fc.constantFrom(...pool),
      flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      repeat: fc.option(fc.tuple(fc.nat(), fc.nat({ max: 64 })), { nil: undefined }),
    })
    .map(({ base, flips, cut, repeat }) => {
      let p = Buffer.from(base.payload);
      for (const [at, v] of flips) if (p.length) p[at % p.length] = v;
      if (repeat && p.length) {
        const from = repeat[0] % p.length;
        p = Buffer.concat([p, p.subarray(from, from + repeat[1])]);
      }
      if (cut !== undefined && p.length) p = p.subarray(0, cut % (p.length + 1));
      return { ...base, payload: p };
    });

const random = (types: number[]) =>
  fc.record({ type: fc.constantFrom(...types), flags: fc.nat({ max: 0xffff }), payload: fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)) });

describe('rtnetlink decoders only ever throw NetlinkDecodeError', () => {
  const types = Object.keys(RT_MESSAGES).map(Number);

  it('has captured messages to mutate', () => {
    expect(rt.length).toBeGreaterThan(100);
    expect(genl.length).toBeGreaterThan(8);
  });

  it('random payloads of every message type', () => {
    fc.assert(
      fc.property(random(types), (m) => {
        expect(onlyDecodeErrors(() => view(decodeRtMessage(m)))).toBeLessThan(HANG_CPU_MS);
      }),
      { numRuns: RUNS },
    );
  });

  it('mutated captured messages (links with kinds, addresses, routes, VF requests)', () => {
    fc.assert(
      fc.property(mutated(rt), (m) => {
        expect(onlyDecodeErrors(() => view(decodeRtMessage(m)))).toBeLessThan(HANG_CPU_MS);
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('the error describer names any offset of any (mutated) request without throwing', () => {
    fc.assert(
      fc.property(mutated(rt), fc.nat(), (m, off) => {
        const head = Buffer.alloc(16);
        head.writeUInt32LE(16 + m.payload.length, 0);
        head.writeUInt16LE(m.type, 4);
        const request = Buffer.concat([head, m.payload]);
        const family = RT_MESSAGES[m.type]?.[1] ?? 'link';
        const name = describers[family].attributeAt?.(request, off % (request.length + 8));
        expect(name === undefined || typeof name === 'string').toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('generic netlink and ethtool decoders only ever throw NetlinkDecodeError', () => {
  const decoders = (m: Pick<NetlinkMessage, 'payload'>): void => {
    onlyDecodeErrors(() => decodeFamily(m));
    onlyDecodeErrors(() => decodeFeatureNames(m));
    onlyDecodeErrors(() => decodeFeatures(m, ['a', 'b', 'esp-hw-offload']));
  };

  it('random payloads', () => {
    fc.assert(fc.property(random([16, 20, 21]), decoders), { numRuns: RUNS });
  });

  it('mutated captured family, string-set and feature answers', () => {
    fc.assert(fc.property(mutated(genl), decoders), { numRuns: RUNS * 2 });
  });
});

/** The views run on decoded data too: they must not trip over odd values. */
function view(d: ReturnType<typeof decodeRtMessage>): unknown {
  if (d.family === 'link') return toLink(d.header, d.attrs, d.vfList);
  if (d.family === 'addr') return toAddress(d.header, d.attrs);
  return toRoute(d.header, d.attrs);
}
