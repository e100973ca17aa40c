// Requests about SAs that are not an SA themselves: the id GETSA/DELSA look
// up, the filter of a GETSA dump, and ALLOCSPI's SPI request.
import type { StructInput } from '../netlink/codec/struct.js';
import type { XfrmAttrInput } from './attributes.js';
import { XFRM_MODE, XFRM_PROTO, type XfrmModeName, type XfrmProtoName } from './constants.js';
import { XfrmModelError } from './errors.js';
import { addressFamily, familyNumber, markToWire, type AddressFamily, type XfrmMark } from './model.js';
import { checkU32, stateFamily, type XfrmState } from './state.js';
import type { xfrmUsersaId, xfrmUserspiInfo } from './structs.js';

type UsersaIdInput = StructInput<(typeof xfrmUsersaId)['fields']>;

/** What identifies an SA to GETSA/DELSA: (daddr, spi, proto, family) + mark. */
export interface XfrmStateId {
  daddr: string;
  spi: number;
  proto: XfrmProtoName | number;
  family?: AddressFamily;
  /** sent as XFRMA_SRCADDR (needed for protocols without SPI) */
  saddr?: string;
  mark?: XfrmMark;
}

export function stateIdOf(s: Pick<XfrmState, 'daddr' | 'spi' | 'proto' | 'family' | 'saddr' | 'mark'>): XfrmStateId {
  return { daddr: s.daddr, spi: s.spi, proto: s.proto, family: s.family, saddr: s.saddr, ...(s.mark ? { mark: s.mark } : {}) };
}

/** "esp spi 0x00000009 dst 192.168.123.4" — for messages; never any key. */
export function describeStateId(id: XfrmStateId): string {
  return `${typeof id.proto === 'number' ? `proto ${id.proto}` : id.proto} spi 0x${(id.spi >>> 0).toString(16).padStart(8, '0')} dst ${id.daddr}`;
}

/** GETSA/DELSA header and attributes for an id. */
export function stateIdToWire(id: XfrmStateId): { header: UsersaIdInput; attrs: XfrmAttrInput } {
  const family = stateFamily(id, 'state id');
  checkU32('state id.spi', id.spi);
  const attrs: XfrmAttrInput = {};
  if (id.saddr) attrs.srcaddr = id.saddr;
  if (id.mark) attrs.mark = markToWire(id.mark);
  return { header: { family: familyNumber(family), daddr: id.daddr, spi: id.spi >>> 0, proto: XFRM_PROTO.toNumber(id.proto) }, attrs };
}

/** GETSA dump filter (XFRMA_PROTO, XFRMA_ADDRESS_FILTER), applied by the kernel. */
export interface XfrmStateFilter {
  proto?: XfrmProtoName | number;
  /** "addr/len" prefixes; both must be of one family */
  saddr?: string;
  daddr?: string;
}

export function stateFilterToWire(f: XfrmStateFilter): XfrmAttrInput {
  const attrs: XfrmAttrInput = {};
  if (f.proto !== undefined) attrs.proto = XFRM_PROTO.toNumber(f.proto);
  if (f.saddr === undefined && f.daddr === undefined) return attrs;
  const part = (cidr: string | undefined, field: string): [string, number, AddressFamily | undefined] => {
    if (cidr === undefined) return ['', 0, undefined];
    const [addr = '', len] = cidr.split('/');
    const fam = addressFamily(addr, field);
    const max = fam === 'ipv6' ? 128 : 32;
    const n = len === undefined ? max : Number(len);
    if (!Number.isInteger(n) || n < 0 || n > max) throw new XfrmModelError(field, `prefix length ${len} is outside 0..${max}`);
    return [addr, n, fam];
  };
  const [saddr, splen, fs] = part(f.saddr, 'filter.saddr');
  const [daddr, dplen, fd] = part(f.daddr, 'filter.daddr');
  if (fs && fd && fs !== fd) throw new XfrmModelError('filter', 'saddr and daddr are of different families');
  const fam = fs ?? fd;
  attrs.addressFilter = { family: fam ? familyNumber(fam) : 0, saddr, daddr, splen, dplen };
  return attrs;
}

/** ALLOCSPI: a larval SA holding an SPI from [min, max] until the real one replaces it. */
export interface XfrmSpiRequest {
  saddr: string;
  daddr: string;
  proto: XfrmProtoName | number;
  mode?: XfrmModeName | number;
  reqid?: number;
  /** the ACQUIRE sequence this SPI answers */
  seq?: number;
  /** defaults 0x100..0x0fffffff, as iproute2 and PF_KEY */
  min?: number;
  max?: number;
  mark?: XfrmMark;
}

export function spiRequestToWire(r: XfrmSpiRequest): { header: StructInput<(typeof xfrmUserspiInfo)['fields']>; attrs: XfrmAttrInput } {
  const family = stateFamily(r, 'spi request');
  const attrs: XfrmAttrInput = {};
  if (r.mark) attrs.mark = markToWire(r.mark);
  return {
    header: {
      info: {
        family: familyNumber(family),
        saddr: r.saddr,
        id: { daddr: r.daddr, spi: 0, proto: XFRM_PROTO.toNumber(r.proto) },
        mode: XFRM_MODE.toNumber(r.mode ?? 'transport'),
        reqid: r.reqid ?? 0,
        seq: r.seq ?? 0,
      },
      min: r.min ?? 0x100,
      max: r.max ?? 0x0fffffff,
    },
    attrs,
  };
}
