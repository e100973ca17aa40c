// Typed view of a CHILD_SA section as charon writes it in list-sa,
// child-updown and child-rekey (vici_query.c list_child()). Fields charon
// omits (state not installed, option not set, older charon) are undefined;
// `raw` keeps the section for anything else.
import type { ViciMessage } from '../wire/message.js';
import {
  akeRules,
  counter,
  decimal,
  flag,
  hex,
  into,
  readFields,
  requireKeys,
  text,
  texts,
  type AdditionalKeyExchange,
  type FieldRule,
  type FieldTable,
} from './fields.js';

/** child_sa_state_names; a newer charon may add states, hence the open string. */
export const CHILD_SA_STATES = [
  'CREATED',
  'ROUTED',
  'INSTALLING',
  'INSTALLED',
  'UPDATING',
  'REKEYING',
  'REKEYED',
  'RETRYING',
  'DELETING',
  'DELETED',
  'DESTROYING',
] as const;
export type ChildSaState = (typeof CHILD_SA_STATES)[number] | (string & {});

export interface ChildSa {
  /** section key: `<name>-<uniqueid>` (list-sa 5.5.2+, child-updown 5.8.2+), the plain name before */
  key: string;
  name: string;
  uniqueid: number;
  reqid: number;
  state: ChildSaState;
  /** uppercase, as on the wire: TUNNEL, TRANSPORT, TRANSPORT_PROXY, BEET, PASS, DROP, IPTFS */
  mode: string;
  /** security label, hex (5.9.6+) */
  label?: string;

  // Present once the SA is installed (INSTALLED, REKEYING, REKEYED, DELETING, DELETED):
  /** ESP or AH */
  protocol?: string;
  /** UDP encapsulation (NAT-T) */
  encap: boolean;
  /** SPI as charon prints it: host order of the network SPI, i.e. the value `ip xfrm state` shows */
  spiIn?: number;
  spiOut?: number;
  /** the 8 hex digits as charon sent them */
  spiInHex?: string;
  spiOutHex?: string;
  /** IPComp CPIs */
  cpiIn?: number;
  cpiOut?: number;
  /** marks (5.5.2+); charon omits a mark of 0/0, and a mask of 0xffffffff, which the view fills back in */
  markIn?: number;
  markMaskIn?: number;
  markOut?: number;
  markMaskOut?: number;
  /** XFRM interface IDs (5.8.0+), omitted by charon when 0 */
  ifIdIn?: number;
  ifIdOut?: number;
  /** per-CPU SAs (6.0.2+) */
  perCpuSas: boolean;
  cpu?: number;
  encrAlg?: string;
  encrKeysize?: number;
  integAlg?: string;
  integKeysize?: number;
  /** only charon 5.2.x listed a PRF for CHILD_SAs */
  prfAlg?: string;
  dhGroup?: string;
  ake: AdditionalKeyExchange[];
  /** extended sequence numbers negotiated (charon writes esn=1, or nothing) */
  esn: boolean;
  bytesIn?: bigint;
  packetsIn?: bigint;
  /** seconds since the last inbound packet; absent if none yet */
  useIn?: number;
  bytesOut?: bigint;
  packetsOut?: bigint;
  useOut?: number;
  /** seconds until rekeying (can be negative when overdue) */
  rekeyTime?: number;
  /** seconds until expiry */
  lifeTime?: number;
  /** seconds since installation */
  installTime?: number;

  localTs: string[];
  remoteTs: string[];
  raw: ViciMessage;
}

/** The CHILD_SA table: VICI key -> view field (vici_query.c list_child*). */
const CHILD_FIELDS: FieldTable<ChildSa> = new Map<string, FieldRule<ChildSa>>([
  ['name', into('name', text)],
  ['uniqueid', into('uniqueid', decimal)],
  ['reqid', into('reqid', decimal)],
  ['state', into('state', text)],
  ['mode', into('mode', text)],
  ['label', into('label', text)],
  ['protocol', into('protocol', text)],
  ['encap', into('encap', flag)],
  [
    'spi-in',
    (out, v, at) => {
      out.spiIn = hex(v, at);
      out.spiInHex = text(v, at);
    },
  ],
  [
    'spi-out',
    (out, v, at) => {
      out.spiOut = hex(v, at);
      out.spiOutHex = text(v, at);
    },
  ],
  ['cpi-in', into('cpiIn', hex)],
  ['cpi-out', into('cpiOut', hex)],
  ['mark-in', into('markIn', hex)],
  ['mark-mask-in', into('markMaskIn', hex)],
  ['mark-out', into('markOut', hex)],
  ['mark-mask-out', into('markMaskOut', hex)],
  ['if-id-in', into('ifIdIn', hex)],
  ['if-id-out', into('ifIdOut', hex)],
  ['per-cpu-sas', into('perCpuSas', flag)],
  ['cpu', into('cpu', decimal)],
  ['encr-alg', into('encrAlg', text)],
  ['encr-keysize', into('encrKeysize', decimal)],
  ['integ-alg', into('integAlg', text)],
  ['integ-keysize', into('integKeysize', decimal)],
  ['prf-alg', into('prfAlg', text)],
  ['dh-group', into('dhGroup', text)],
  ...akeRules<ChildSa>(),
  ['esn', into('esn', flag)],
  ['bytes-in', into('bytesIn', counter)],
  ['packets-in', into('packetsIn', counter)],
  ['use-in', into('useIn', decimal)],
  ['bytes-out', into('bytesOut', counter)],
  ['packets-out', into('packetsOut', counter)],
  ['use-out', into('useOut', decimal)],
  ['rekey-time', into('rekeyTime', decimal)],
  ['life-time', into('lifeTime', decimal)],
  ['install-time', into('installTime', decimal)],
  ['local-ts', into('localTs', texts)],
  ['remote-ts', into('remoteTs', texts)],
]);

/** Present in every CHILD_SA section since charon 5.3.0 (name came with 5.5.2 and falls back to the key). */
const CHILD_REQUIRED = ['uniqueid', 'reqid', 'state', 'mode'];

export function parseChildSa(key: string, sec: ViciMessage): ChildSa {
  requireKeys(sec, CHILD_REQUIRED);
  const child = readFields<ChildSa>(sec, CHILD_FIELDS, {
    key,
    name: key,
    uniqueid: 0,
    reqid: 0,
    state: '',
    mode: '',
    encap: false,
    perCpuSas: false,
    esn: false,
    ake: [],
    localTs: [],
    remoteTs: [],
    raw: sec,
  });
  // charon omits a mark's mask when it is 0xffffffff (add_mark in vici_query.c).
  if (child.markIn !== undefined) child.markMaskIn ??= 0xffffffff;
  if (child.markOut !== undefined) child.markMaskOut ??= 0xffffffff;
  if (child.ake.length > 1) child.ake.sort((x, y) => x.index - y.index);
  return child;
}

/** The CHILD_SAs of a `child-sas` section keyed `<name>-<uniqueid>` (list-sa, child-updown). */
export function parseChildSas(sec: ViciMessage | undefined): ChildSa[] {
  if (!sec) return [];
  return sec.sections().map(([key, child]) => parseChildSa(key, child));
}
