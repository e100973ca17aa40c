// The kernel's silent truncation of long VF lists.
//
// rtnl_fill_vf() closes IFLA_VFINFO_LIST with nla_nest_end(), which stores the
// nest's size in the 16-bit nla_len: past 64 KiB (about 222 VFs with stats,
// 334 without) the length wraps. A plain attribute walk then sees a short
// list and resumes inside VF data. iproute2 >= 5.11 compares the count with
// IFLA_NUM_VF and prints "Truncated VF list". We do the same check, and since
// every IFLA_VF_INFO entry inside still carries its own correct length, we
// also find the real end of the list by walking the entries; when that end
// agrees with the wrapped length modulo 65536 the whole list is recovered.
import { NLA_HDRLEN, NLA_TYPE_MASK, align4, type RawAttribute } from '../netlink/codec/attributes.js';
import type { CodecContext } from '../netlink/codec/struct.js';
import { IFLA_NUM_VF, IFLA_VFINFO_LIST, iflaTable, type LinkAttrs } from './attributes.js';
import { IFLA_VF_INFO, vfInfoListTable } from './vf-attributes.js';

/** What the VF list of one link looked like against IFLA_NUM_VF. */
export interface VfListCheck {
  /** IFLA_NUM_VF: how many VFs the device has */
  expected: number;
  /** IFLA_VF_INFO entries within the nest's length as the kernel framed it */
  framed: number;
  /** entries decoded in the end */
  decoded: number;
  /** the nest is longer than its 16-bit nla_len can say */
  wrapped: boolean;
  /** the list was read past the wrapped length: all entries are present */
  recovered: boolean;
}

export interface DecodedLinkAttrs {
  values: LinkAttrs;
  unknown: RawAttribute[];
  /** present when the link reports IFLA_NUM_VF and a VF list */
  vfList?: VfListCheck;
}

const header = (buf: Buffer, off: number): { len: number; type: number } => ({
  len: buf.readUInt16LE(off),
  type: buf.readUInt16LE(off + 2) & NLA_TYPE_MASK,
});

/** Decodes the IFLA attributes of a link message in buf[start, end). */
export function decodeLinkAttributes(buf: Buffer, ctx: CodecContext, start: number, end: number = buf.length): DecodedLinkAttrs {
  // Find IFLA_NUM_VF and IFLA_VFINFO_LIST (the kernel puts them in that order).
  let numVf: number | undefined;
  let listOff: number | undefined;
  for (let off = start; off + NLA_HDRLEN <= end; ) {
    const { len, type } = header(buf, off);
    if (len < NLA_HDRLEN || off + len > end) break; // the table decoder reports it
    if (type === IFLA_NUM_VF && len >= NLA_HDRLEN + 4) numVf = buf.readUInt32LE(off + NLA_HDRLEN);
    if (type === IFLA_VFINFO_LIST) {
      listOff = off;
      break;
    }
    off += align4(len);
  }
  if (listOff === undefined || numVf === undefined) return iflaTable.decode(buf, ctx, start, end);

  // Walk the entries by their own lengths.
  const declared = buf.readUInt16LE(listOff);
  let p = listOff + NLA_HDRLEN;
  let walked = 0;
  let framed = 0;
  while (walked < numVf && p + NLA_HDRLEN <= end) {
    const { len, type } = header(buf, p);
    if (type !== IFLA_VF_INFO || len < NLA_HDRLEN || p + len > end) break;
    if (p + len <= listOff + declared) framed++;
    walked++;
    p += align4(len);
  }
  const realLen = p - listOff;

  if (realLen === declared || (realLen & 0xffff) !== declared) {
    // Not wrapped (or framed in a way no kernel produces: let the table decide).
    const out: DecodedLinkAttrs = iflaTable.decode(buf, ctx, start, end);
    const decoded = out.values.vfinfoList?.values.info?.length ?? 0;
    return { ...out, vfList: { expected: numVf, framed: decoded, decoded, wrapped: false, recovered: false } };
  }

  const before = iflaTable.decode(buf, ctx, start, listOff);
  const list = vfInfoListTable.decode(buf, ctx, listOff + NLA_HDRLEN, p);
  const after = iflaTable.decode(buf, ctx, p, end);
  const values: LinkAttrs = { ...before.values, ...after.values, vfinfoList: list };
  const decoded = list.values.info?.length ?? 0;
  return {
    values,
    unknown: [...before.unknown, ...after.unknown],
    vfList: { expected: numVf, framed, decoded, wrapped: true, recovered: decoded === numVf },
  };
}
