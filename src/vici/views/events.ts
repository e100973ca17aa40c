// Parsers for charon's broadcast events (vici_query.c listener hooks,
// vici_logger.c). Each takes the event's message as delivered by the session.
//
// Two shapes to keep apart: child-updown keys its CHILD_SA section
// `<name>-<uniqueid>` (5.8.2+), while child-rekey keys it by the plain child
// name and nests `old` and `new` CHILD_SA sections inside.
import type { ViciMessage } from '../wire/message.js';
import { parseChildSa, type ChildSa } from './child-sa.js';
import { onlySection, required, requiredSection } from './fields.js';
import { parseIkeSa, type IkeSa } from './ike-sa.js';

export interface IkeUpdown {
  /** charon sends up=yes only for up; down has no `up` key */
  up: boolean;
  ike: IkeSa;
}

export interface ChildUpdown {
  up: boolean;
  /** the IKE_SA, with the CHILD_SA in ike.childSas as well */
  ike: IkeSa;
  children: ChildSa[];
}

export interface ChildRekeyPair {
  /** the child config name (the section key in child-rekey) */
  name: string;
  old: ChildSa;
  new: ChildSa;
}

export interface ChildRekey {
  /** the IKE_SA the CHILD_SAs belong to; its childSas is empty */
  ike: IkeSa;
  rekeys: ChildRekeyPair[];
}

export interface IkeRekey {
  /** IKE config name */
  name: string;
  old: IkeSa;
  new: IkeSa;
}

export interface Endpoint {
  host: string;
  port: number;
}

export interface IkeUpdate {
  /** the new addresses (MOBIKE, NAT mapping change) */
  local: Endpoint;
  remote: Endpoint;
  /** the IKE_SA, still showing the old addresses */
  ike: IkeSa;
}

export interface Alert {
  /** e.g. install-child-sa-failed, peer-auth-failed (charon 6.0.3+) */
  type: string;
  ike?: IkeSa;
}

/** `log` (broadcast) and `control-log` (initiate/terminate streams) */
export interface LogEvent {
  group: string;
  level: number;
  /** log only; control-log has no thread */
  thread?: number;
  ikesaName?: string;
  ikesaUniqueid?: number;
  msg: string;
}

export function parseIkeUpdown(msg: ViciMessage): IkeUpdown {
  const [name, sec] = onlySection(msg, 'IKE_SA');
  return { up: msg.bool('up') ?? false, ike: parseIkeSa(name, sec, { children: false }) };
}

export function parseChildUpdown(msg: ViciMessage): ChildUpdown {
  const [name, sec] = onlySection(msg, 'IKE_SA');
  const ike = parseIkeSa(name, sec);
  return { up: msg.bool('up') ?? false, ike, children: ike.childSas };
}

export function parseChildRekey(msg: ViciMessage): ChildRekey {
  const [name, sec] = onlySection(msg, 'IKE_SA');
  const ike = parseIkeSa(name, sec, { children: false });
  const rekeys = (sec.section('child-sas')?.sections() ?? []).map(([child, pair]) => ({
    name: child,
    old: parseChildSa(child, requiredSection(pair, 'old')),
    new: parseChildSa(child, requiredSection(pair, 'new')),
  }));
  return { ike, rekeys };
}

export function parseIkeRekey(msg: ViciMessage): IkeRekey {
  const [name, sec] = onlySection(msg, 'IKE_SA');
  return {
    name,
    old: parseIkeSa(name, requiredSection(sec, 'old'), { children: false }),
    new: parseIkeSa(name, requiredSection(sec, 'new'), { children: false }),
  };
}

export function parseIkeUpdate(msg: ViciMessage): IkeUpdate {
  const [name, sec] = onlySection(msg, 'IKE_SA');
  const endpoint = (side: 'local' | 'remote'): Endpoint => ({
    host: required(msg, `${side}-host`, msg.string(`${side}-host`), 'an address'),
    port: required(msg, `${side}-port`, msg.number(`${side}-port`), 'a port'),
  });
  return { local: endpoint('local'), remote: endpoint('remote'), ike: parseIkeSa(name, sec, { children: false }) };
}

export function parseAlert(msg: ViciMessage): Alert {
  const alert: Alert = { type: required(msg, 'type', msg.string('type'), 'an alert type') };
  const holder = msg.section('ike-sa');
  const first = holder?.sections()[0];
  if (first) alert.ike = parseIkeSa(first[0], first[1], { children: false });
  return alert;
}

export function parseLog(msg: ViciMessage): LogEvent {
  const log: LogEvent = {
    group: required(msg, 'group', msg.string('group'), 'a log group'),
    level: required(msg, 'level', msg.number('level'), 'a log level'),
    msg: required(msg, 'msg', msg.string('msg'), 'a log message'),
  };
  const thread = msg.number('thread');
  if (thread !== undefined) log.thread = thread;
  const ikesaName = msg.string('ikesa-name');
  if (ikesaName !== undefined) log.ikesaName = ikesaName;
  const ikesaUniqueid = msg.number('ikesa-uniqueid');
  if (ikesaUniqueid !== undefined) log.ikesaUniqueid = ikesaUniqueid;
  return log;
}
