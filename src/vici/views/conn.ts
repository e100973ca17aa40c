// View of a list-conn event entry (vici_query.c list_conns()): a loaded
// connection config. It does not echo hw_offload, if_id, marks, proposals or
// replay_window; read those from your own load-conn input.
import type { ViciMessage } from '../wire/message.js';

export interface AuthRound {
  /** section key: local-1, local-2, remote-1 ... */
  key: string;
  class?: string;
  id?: string;
  raw: ViciMessage;
}

export interface ChildConfig {
  name: string;
  mode?: string;
  label?: string;
  rekeyTime?: number;
  rekeyBytes?: bigint;
  rekeyPackets?: bigint;
  dpdAction?: string;
  closeAction?: string;
  localTs: string[];
  remoteTs: string[];
  interface?: string;
  priority?: number;
  raw: ViciMessage;
}

export interface ConnConfig {
  name: string;
  localAddrs: string[];
  remoteAddrs: string[];
  localPort?: number;
  remotePort?: number;
  /** IKEv1, IKEv2 or 0 (any) */
  version?: string;
  reauthTime?: number;
  rekeyTime?: number;
  unique?: string;
  dpdDelay?: number;
  dpdTimeout?: number;
  local: AuthRound[];
  remote: AuthRound[];
  children: ChildConfig[];
  raw: ViciMessage;
}

function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

function auth(prefix: 'local' | 'remote', sec: ViciMessage): AuthRound[] {
  // 5.2-5.3 named the rounds "local"/"remote", later "local-1", "local-2", ...
  return sec
    .sections()
    .filter(([k]) => k === prefix || k.startsWith(`${prefix}-`))
    .map(([key, s]) => defined({ key, class: s.string('class'), id: s.string('id'), raw: s }));
}

export function parseConn(name: string, sec: ViciMessage): ConnConfig {
  return defined({
    name,
    localAddrs: sec.strings('local_addrs') ?? [],
    remoteAddrs: sec.strings('remote_addrs') ?? [],
    localPort: sec.number('local_port'),
    remotePort: sec.number('remote_port'),
    version: sec.string('version'),
    reauthTime: sec.number('reauth_time'),
    rekeyTime: sec.number('rekey_time'),
    unique: sec.string('unique'),
    dpdDelay: sec.number('dpd_delay'),
    dpdTimeout: sec.number('dpd_timeout'),
    local: auth('local', sec),
    remote: auth('remote', sec),
    children: (sec.section('children')?.sections() ?? []).map(([child, c]) =>
      defined({
        name: child,
        mode: c.string('mode'),
        label: c.string('label'),
        rekeyTime: c.number('rekey_time'),
        rekeyBytes: c.bigint('rekey_bytes'),
        rekeyPackets: c.bigint('rekey_packets'),
        dpdAction: c.string('dpd_action'),
        closeAction: c.string('close_action'),
        localTs: c.strings('local-ts') ?? [],
        remoteTs: c.strings('remote-ts') ?? [],
        interface: c.string('interface'),
        priority: c.number('priority'),
        raw: c,
      }),
    ),
    raw: sec,
  });
}

/** Every connection of a list-conn event (one per event from charon). */
export function parseListConn(msg: ViciMessage): ConnConfig[] {
  return msg.sections().map(([name, sec]) => parseConn(name, sec));
}
