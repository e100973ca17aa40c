// The VF list of an SR-IOV PF past 64 KiB. The kernel (rtnl_fill_vf ->
// nla_nest_end) stores the nest size in the 16-bit nla_len, so it wraps.
// A real capture needs a netdevsim PF with >= 222 VFs in the lab (see
// test/lab/link/); here the same framing is built from our own tables in
// rtnl_fill_vfinfo's attribute order, and the one thing the kernel does
// wrong, the wrapped nest length, is applied as nla_nest_end does it.
import { describe, expect, it } from 'vitest';
import { iflaTable } from '../../../src/link/attributes.js';
import { RTM_NEWLINK } from '../../../src/link/constants.js';
import { decodeRtMessage, type LinkMessage } from '../../../src/link/messages.js';
import { toLink } from '../../../src/link/link-view.js';
import { pfMessage } from './pf-message.js';
import { NetlinkDecodeError } from '../../../src/netlink/errors.js';

const decodeLink = (payload: Buffer): LinkMessage => {
  const d = decodeRtMessage({ type: RTM_NEWLINK, flags: 0, payload });
  if (d.family !== 'link') throw new Error('not a link');
  return d;
};

describe('IFLA_VFINFO_LIST', () => {
  it('a list that fits is decoded whole, with no warning', () => {
    const d = decodeLink(pfMessage(4).payload);
    const link = toLink(d.header, d.attrs, d.vfList);
    expect(d.vfList).toEqual({ expected: 4, framed: 4, decoded: 4, wrapped: false, recovered: false });
    expect(link.vfListTruncation).toBeUndefined();
    expect(link.vfs?.map((v) => [v.vf, v.mac, v.vlan, v.qos, v.spoofchk, v.trust, v.linkState])).toEqual([
      [0, '02:00:00:00:00:00', 0, 0, false, true, 'auto'],
      [1, '02:00:00:00:00:01', 1, 1, true, false, 'enable'],
      [2, '02:00:00:00:00:02', 2, 2, false, true, 'disable'],
      [3, '02:00:00:00:00:03', 3, 3, true, false, 'auto'],
    ]);
    expect(link.parentDevName).toBe('netdevsim1');
  });

  it('222 VFs with stats overflow the 16-bit length: detected, named, and fully recovered', () => {
    const { payload, listBytes } = pfMessage(222);
    expect(listBytes).toBeGreaterThan(0xffff); // 222 x 296 B, as iproute2's bug report measured
    // a plain attribute walk is lost: it resumes inside VF data
    let naive: number | string;
    try {
      naive = iflaTable.decode(payload, { family: 0 }, 16).values.vfinfoList?.values.info?.length ?? 0;
    } catch (e) {
      naive = e instanceof NetlinkDecodeError ? 'decode error' : 'other error';
    }
    expect(naive === 'decode error' || (typeof naive === 'number' && naive < 222)).toBe(true);

    const d = decodeLink(payload);
    const link = toLink(d.header, d.attrs, d.vfList);
    expect(d.vfList).toMatchObject({ expected: 222, decoded: 222, wrapped: true, recovered: true });
    expect(d.vfList?.framed).toBeLessThan(222);
    expect(link.vfs).toHaveLength(222);
    expect(link.vfs?.[221]).toMatchObject({ vf: 221, mac: '02:00:00:00:00:dd', vlan: 221, qos: 5 });
    expect(link.vfs?.[221]?.stats?.txBytes).toBe(4n);
    // what follows the list is read correctly again
    expect(link.parentDevName).toBe('netdevsim1');
    expect(link.parentDevBusName).toBe('netdevsim');
    expect(link.vfListTruncation).toMatchObject({ name: 'VfListTruncation', device: 'eni0np1', ifindex: 7, expected: 222, decoded: 222, recovered: true });
    expect(link.vfListTruncation?.message).toMatch(/^Truncated VF list: eni0np1/);
  });

  it('wraps more than once (1000 VFs, about 290 KiB) and still recovers', () => {
    const { payload, listBytes } = pfMessage(1000);
    expect(listBytes).toBeGreaterThan(4 * 0x10000);
    const d = decodeLink(payload);
    expect(d.vfList).toMatchObject({ expected: 1000, decoded: 1000, wrapped: true, recovered: true });
  });

  it('without stats the limit is higher (334 VFs fit, 335 wrap)', () => {
    expect(pfMessage(334, { stats: false }).listBytes).toBeLessThanOrEqual(0xffff);
    expect(decodeLink(pfMessage(334, { stats: false }).payload).vfList?.wrapped).toBe(false);
    const d = decodeLink(pfMessage(335, { stats: false }).payload);
    expect(d.vfList).toMatchObject({ expected: 335, decoded: 335, wrapped: true, recovered: true });
  });

  it('fewer entries than IFLA_NUM_VF without a wrap (a driver failing ndo_get_vf_config) is reported, not hidden', () => {
    const d = decodeLink(pfMessage(3, { numVf: 5 }).payload);
    const link = toLink(d.header, d.attrs, d.vfList);
    expect(d.vfList).toEqual({ expected: 5, framed: 3, decoded: 3, wrapped: false, recovered: false });
    expect(link.vfListTruncation).toMatchObject({ expected: 5, decoded: 3, recovered: false });
  });
});
