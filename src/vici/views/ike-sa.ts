// Typed view of an IKE_SA section (vici_query.c list_ike()), used by list-sa
// and every IKE/CHILD event. The section key is the IKE *config* name, which
// is not unique: `uniqueid` identifies the SA.
import type { ViciMessage } from '../wire/message.js';
import { parseChildSas, type ChildSa } from './child-sa.js';
import {
  akeRules,
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

/** ike_sa_state_names; open for states a newer charon may add. */
export const IKE_SA_STATES = ['CREATED', 'CONNECTING', 'ESTABLISHED', 'PASSIVE', 'REKEYING', 'REKEYED', 'DELETING', 'DESTROYING'] as const;
export type IkeSaState = (typeof IKE_SA_STATES)[number] | (string & {});

export interface IkeSa {
  /** IKE config name (the section key) */
  name: string;
  uniqueid: number;
  /** 1 or 2 */
  version: number;
  state: IkeSaState;
  localHost: string;
  /** 5.4.0+ */
  localPort?: number;
  localId: string;
  remoteHost: string;
  remotePort?: number;
  remoteId: string;
  /** only when it differs from remote-id */
  remoteXauthId?: string;
  remoteEapId?: string;
  initiator: boolean;
  /** 16 hex digits */
  initiatorSpi: string;
  responderSpi: string;
  natLocal: boolean;
  natRemote: boolean;
  natFake: boolean;
  natAny: boolean;
  /** XFRM interface IDs (5.8.0+), omitted when 0 */
  ifIdIn?: number;
  ifIdOut?: number;
  encrAlg?: string;
  encrKeysize?: number;
  integAlg?: string;
  integKeysize?: number;
  prfAlg?: string;
  dhGroup?: string;
  ake: AdditionalKeyExchange[];
  ppk: boolean;
  /** seconds since establishment (ESTABLISHED only) */
  established?: number;
  /** seconds until rekeying / reauthentication, when scheduled */
  rekeyTime?: number;
  reauthTime?: number;
  localVips: string[];
  remoteVips: string[];
  tasksQueued: string[];
  tasksActive: string[];
  tasksPassive: string[];
  /** list-sa and child-updown carry CHILD_SAs; other events leave this empty */
  childSas: ChildSa[];
  raw: ViciMessage;
}

export interface ParseIkeOptions {
  /** parse `child-sas` as CHILD_SA sections (false for child-rekey, whose entries are old/new pairs) */
  children?: boolean;
}

/** The IKE_SA table: VICI key -> view field (vici_query.c list_ike()). */
const IKE_FIELDS: FieldTable<IkeSa> = new Map<string, FieldRule<IkeSa>>([
  ['uniqueid', into('uniqueid', decimal)],
  ['version', into('version', decimal)],
  ['state', into('state', text)],
  ['local-host', into('localHost', text)],
  ['local-port', into('localPort', decimal)],
  ['local-id', into('localId', text)],
  ['remote-host', into('remoteHost', text)],
  ['remote-port', into('remotePort', decimal)],
  ['remote-id', into('remoteId', text)],
  ['remote-xauth-id', into('remoteXauthId', text)],
  ['remote-eap-id', into('remoteEapId', text)],
  ['initiator', into('initiator', flag)],
  ['initiator-spi', into('initiatorSpi', text)],
  ['responder-spi', into('responderSpi', text)],
  ['nat-local', into('natLocal', flag)],
  ['nat-remote', into('natRemote', flag)],
  ['nat-fake', into('natFake', flag)],
  ['nat-any', into('natAny', flag)],
  ['if-id-in', into('ifIdIn', hex)],
  ['if-id-out', into('ifIdOut', hex)],
  ['encr-alg', into('encrAlg', text)],
  ['encr-keysize', into('encrKeysize', decimal)],
  ['integ-alg', into('integAlg', text)],
  ['integ-keysize', into('integKeysize', decimal)],
  ['prf-alg', into('prfAlg', text)],
  ['dh-group', into('dhGroup', text)],
  ...akeRules<IkeSa>(),
  ['ppk', into('ppk', flag)],
  ['established', into('established', decimal)],
  ['rekey-time', into('rekeyTime', decimal)],
  ['reauth-time', into('reauthTime', decimal)],
  ['local-vips', into('localVips', texts)],
  ['remote-vips', into('remoteVips', texts)],
  ['tasks-queued', into('tasksQueued', texts)],
  ['tasks-active', into('tasksActive', texts)],
  ['tasks-passive', into('tasksPassive', texts)],
]);

/** Written for every IKE_SA since charon 5.2.0. */
const IKE_REQUIRED = ['uniqueid', 'version', 'state', 'local-host', 'local-id', 'remote-host', 'remote-id', 'initiator-spi', 'responder-spi'];

export function parseIkeSa(name: string, sec: ViciMessage, options: ParseIkeOptions = {}): IkeSa {
  requireKeys(sec, IKE_REQUIRED);
  const ike = readFields<IkeSa>(sec, IKE_FIELDS, {
    name,
    uniqueid: 0,
    version: 0,
    state: '',
    localHost: '',
    localId: '',
    remoteHost: '',
    remoteId: '',
    initiator: false,
    initiatorSpi: '',
    responderSpi: '',
    natLocal: false,
    natRemote: false,
    natFake: false,
    natAny: false,
    ake: [],
    ppk: false,
    localVips: [],
    remoteVips: [],
    tasksQueued: [],
    tasksActive: [],
    tasksPassive: [],
    childSas: [],
    raw: sec,
  });
  if (ike.ake.length > 1) ike.ake.sort((x, y) => x.index - y.index);
  if (options.children !== false) ike.childSas = parseChildSas(sec.section('child-sas'));
  return ike;
}

/** Every IKE_SA of a list-sa event (charon sends one per event; more are accepted). */
export function parseListSa(msg: ViciMessage): IkeSa[] {
  return msg.sections().map(([name, sec]) => parseIkeSa(name, sec));
}
