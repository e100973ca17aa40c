// Round trips: every captured iproute2 request decodes and re-encodes to the
// same bytes, and generated requests decode back to what was asked.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeMessage } from '../../../src/netlink/message.js';
import type { LinkAttrs, LinkAttrsInput, LinkInfoInput } from '../../../src/link/attributes.js';
import { ETH_P_8021AD, ETH_P_8021Q, VF_LINK_STATES } from '../../../src/link/constants.js';
import { RT_MESSAGES, decodeRtMessage, encodeRtMessage, type RtMessage } from '../../../src/link/messages.js';
import {
  addAddressRequest,
  addRouteRequest,
  macvlanRequest,
  setVfRequest,
  vethRequest,
  vlanRequest,
  xfrmRequest,
} from '../../../src/link/requests.js';
import { toLink } from '../../../src/link/link-view.js';
import { toRoute } from '../../../src/link/route-view.js';
import { toAddress } from '../../../src/link/address-view.js';
import { asMessage, fixtureIds, loadFixture } from './fixtures.js';

/** A decoded IFLA set -> encoder input (IFLA_LINKINFO's data is tagged by kind when decoded). */
function linkInput(a: LinkAttrs): LinkAttrsInput {
  const { linkinfo, ...rest } = a;
  if (!linkinfo) return rest;
  const info = (linkinfo.data ? { kind: linkinfo.kind, data: linkinfo.data.values } : { kind: linkinfo.kind ?? '' }) as LinkInfoInput;
  return { ...rest, linkinfo: info };
}

function reencode(d: RtMessage): Buffer {
  const m =
    d.family === 'link'
      ? encodeRtMessage('link', d.type, { header: d.header, attrs: linkInput(d.attrs) }, d.flags)
      : d.family === 'addr'
        ? encodeRtMessage('addr', d.type, { header: d.header, attrs: d.attrs }, d.flags)
        : encodeRtMessage('route', d.type, { header: d.header, attrs: d.attrs }, d.flags);
  return encodeMessage(m, 0);
}

/**
 * Message bytes with the top-level attributes sorted: the table fixes one
 * wire order (iproute2's usual one), and iproute2 itself is not consistent
 * (`ip -d link show dev X` sends IFLA_IFNAME before IFLA_EXT_MASK, its name
 * lookup the other way round).
 */
function canonical(b: Buffer, family: 'link' | 'addr' | 'route'): string {
  const start = 16 + (family === 'link' ? 16 : family === 'addr' ? 8 : 12);
  const attrs: string[] = [];
  for (let off = start; off + 4 <= b.length; ) {
    const len = b.readUInt16LE(off);
    const padded = (len + 3) & ~3;
    attrs.push(b.subarray(off, off + padded).toString('hex'));
    off += padded;
  }
  // seq and pid are the socket's
  return [Buffer.concat([b.subarray(0, 8), b.subarray(16, start)]).toString('hex'), ...attrs.sort()].join(' ');
}

describe('captured iproute2 requests survive decode -> encode unchanged', () => {
  const requests = fixtureIds()
    .filter((id) => !id.startsWith('ethtool-'))
    .flatMap((id) => loadFixture(id).sent.map((raw) => [id, raw] as const))
    .filter(([, raw]) => RT_MESSAGES[raw.readUInt16LE(4)] !== undefined);

  it.each(requests.map(([id, raw], i) => [`${id} #${i}`, raw] as const))('%s', (_n, raw) => {
    const m = asMessage(raw);
    const d = decodeRtMessage(m);
    expect(d.unknown).toEqual([]);
    const again = reencode(d);
    expect(canonical(again, d.family)).toBe(canonical(raw, d.family));
  });
});

const name = fc.stringMatching(/^[a-z][a-z0-9_.-]{0,14}$/);
const index = fc.integer({ min: 1, max: 0x7fffffff });
const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':'));

const linkOf = (m: ReturnType<typeof vethRequest>) => {
  const d = decodeRtMessage({ type: m.type, flags: m.flags ?? 0, payload: Buffer.concat(m.payload as Buffer[]) });
  if (d.family !== 'link') throw new Error('not a link');
  return { d, view: toLink(d.header, d.attrs) };
};

describe('generated requests decode to what was asked', () => {
  it('veth with a peer in another netns', () => {
    fc.assert(
      fc.property(name, name, fc.nat({ max: 1 << 20 }), (a, b, fd) => {
        const { view } = linkOf(vethRequest(a, b, { fd }));
        expect(view.name).toBe(a);
        const data = view.info?.data;
        expect(data?.kind).toBe('veth');
        if (data?.kind === 'veth') expect(data.values.peer?.attrs).toMatchObject({ ifname: b, netNsFd: fd });
      }),
    );
  });

  it('xfrm, vlan and macvlan kinds', () => {
    fc.assert(
      fc.property(name, index, fc.integer({ min: 1, max: 0xffffffff }), fc.integer({ min: 0, max: 4094 }), fc.boolean(), (n, parent, ifId, vid, ad) => {
        expect(linkOf(xfrmRequest(n, { ifId, link: parent })).view.xfrm).toEqual({ ifId, link: parent, collectMetadata: false });
        const vlan = linkOf(vlanRequest(n, parent, vid, ad ? ETH_P_8021AD : undefined)).view;
        expect([vlan.parent, vlan.vlan]).toEqual([parent, { id: vid, protocol: ad ? ETH_P_8021AD : ETH_P_8021Q }]);
        expect(linkOf(macvlanRequest(n, parent, 'vepa')).view.macvlan).toEqual({ mode: 'vepa' });
      }),
    );
  });

  it('VF settings', () => {
    fc.assert(
      fc.property(
        index,
        fc.nat({ max: 255 }),
        fc.record(
          {
            mac,
            vlan: fc.integer({ min: 0, max: 4095 }),
            qos: fc.integer({ min: 0, max: 7 }),
            vlanProto: fc.constantFrom(ETH_P_8021Q, ETH_P_8021AD),
            trust: fc.boolean(),
            spoofchk: fc.boolean(),
            linkState: fc.constantFrom(...VF_LINK_STATES),
          },
          { requiredKeys: [] },
        ),
        (pf, vf, s) => {
          const { d } = linkOf(setVfRequest(pf, vf, Object.keys(s).length ? s : { trust: true }));
          const e = d.attrs.vfinfoList?.values.info?.[0]?.values;
          expect(d.header.index).toBe(pf);
          if (s.mac !== undefined) expect(e?.mac?.mac.subarray(0, 6).toString('hex')).toBe(s.mac.replaceAll(':', ''));
          const vlanSent = s.vlan !== undefined || s.qos !== undefined || s.vlanProto !== undefined;
          if (vlanSent && (s.vlanProto ?? ETH_P_8021Q) === ETH_P_8021Q) expect(e?.vlan).toEqual({ vf, vlan: s.vlan ?? 0, qos: s.qos ?? 0 });
          if (vlanSent && s.vlanProto === ETH_P_8021AD) {
            expect(e?.vlanList?.values.info).toEqual([{ vf, vlan: s.vlan ?? 0, qos: s.qos ?? 0, vlanProto: ETH_P_8021AD }]);
          }
          if (s.trust !== undefined) expect(e?.trust).toEqual({ vf, setting: s.trust ? 1 : 0 });
          if (s.spoofchk !== undefined) expect(e?.spoofchk).toEqual({ vf, setting: s.spoofchk ? 1 : 0 });
          if (s.linkState !== undefined) expect(e?.linkState).toEqual({ vf, linkState: VF_LINK_STATES.indexOf(s.linkState) });
        },
      ),
    );
  });

  it('addresses and routes', () => {
    const v4 = fc.tuple(fc.nat({ max: 255 }), fc.nat({ max: 255 }), fc.nat({ max: 255 }), fc.nat({ max: 255 })).map((o) => o.join('.'));
    fc.assert(
      fc.property(index, v4, fc.integer({ min: 0, max: 32 }), v4, fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), (ifindex, a, len, gw, table, metric) => {
        const am = addAddressRequest(ifindex, `${a}/${len}`);
        const ad = decodeRtMessage({ type: am.type, flags: 0, payload: Buffer.concat(am.payload as Buffer[]) });
        if (ad.family !== 'addr') throw new Error('not an address');
        expect(toAddress(ad.header, ad.attrs)).toMatchObject({ address: a, prefixlen: len, ifindex });

        const rm = addRouteRequest({ dst: `${a}/${len}`, gateway: gw, table, metric, oif: ifindex });
        const rd = decodeRtMessage({ type: rm.type, flags: 0, payload: Buffer.concat(rm.payload as Buffer[]) });
        if (rd.family !== 'route') throw new Error('not a route');
        const r = toRoute(rd.header, rd.attrs);
        expect(r).toMatchObject({ gateway: gw, table, metric, oif: ifindex });
        expect(r.dst).toBe(len === 0 ? '0.0.0.0/0' : `${a}/${len}`);
      }),
    );
  });
});
