// The log event catalogue: every `event` name the daemon writes, with the
// fields it carries. Names are stable (operators grep and alert on them);
// add new ones, never rename. EVENT_CATALOGUE documents each one; the
// compiler makes it complete (every event, every field), and README.md's
// catalogue is generated from it (scripts/operator-docs.ts).

export interface LogEvents {
  'daemon.started': { version: string; pid: number; config: string; netns?: string };
  'daemon.stopping': { signal: string };
  'daemon.crashed': { error: string; stack?: string };
  'daemon.error': { what: string; error: string };
  'config.loaded': { path: string };
  'config.reloaded': { path: string; restartNeeded?: string[] };
  'config.invalid': { path: string; errors: string[]; kept: 'previous' | 'none' };
  'log.reopened': { file: string; signal: string };
  'vici.connected': { socket: string; version?: string };
  'vici.disconnected': { socket: string; error?: string };
  'vici.reconnected': { socket: string; attempt: number };
  'vici.error': { error: string };
  'vici.bad_event': { name: string; error: string };
  resync: { source: 'vici' | 'xfrm' | 'startup'; children: number; sas: number; reason: string };
  'resync.failed': { source: 'vici' | 'xfrm'; error: string };
  'xfrm.overrun': { group: string };
  'xfrm.getsa_failed': { spi: string; error: string };
  'xfrm.aevent_threshold': { spi: string; error: string };
  'executor.error': { action: string; spi?: string; dir?: 'in' | 'out'; error: string };
  'sa.installed': SaFields & { state: 'software' | 'offloaded' };
  'sa.offloaded': SaFields & { dev: string; gapUs: number };
  'sa.fallback': SaFields & { dev: string; reason: string; errno?: string; kernel?: string; gapUs?: number };
  'sa.demoted': SaFields & { dev: string; reason: string; gapUs: number };
  'sa.reinstalled': SaFields & { reason: string; oseq: number; margin: number };
  'sa.removed': SaFields & { reason: string };
  'sa.vanished': SaFields & { during: 'swap' | 'resync'; lookup: 'esrch' | 'larval' | 'dump'; repair: 'reinstall' | 'none' };
  'sa.larval_removed': SaFields & { during: 'swap' | 'load' | 'reinstall' | 'resync'; count: number };
  'sa.swap': SaFields & { op: 'promote' | 'demote'; gapUs: number; oseq: number; finalState: 'delsa' | 'margin' };
  'sa.keys_lost': SaFields & { action: 'rekey' };
  'sa.rekey_requested': { conn: string; child: string; uniqueid: number; reason: string };
  'device.up': { dev: string; ifindex: number };
  'device.down': { dev: string; ifindex: number; lostSas: number };
  'device.removed': { dev: string; ifindex: number; lostSas: number };
  'device.probed': { dev: string; ifindex: number; esn: string };
  'device.capacity': { dev: string; ifindex: number; capacity: number; source: string };
  'esn.window': SaFields & { seqHi: number; half: 'lower' | 'upper'; oseq: number };
  'seq.exhaustion': SaFields & { oseq: number; threshold: number };
  'control.request': { cmd: string; uid: number; ok: boolean };
  'control.rejected': { reason: string; uid?: number };
  'xfrmi.resync': { children: number; reason: string };
  'xfrmi.created': { ifId: number; name: string; ifindex: number; link?: string; mtu: number; conns: string[] };
  'xfrmi.adopted': { ifId: number; name: string; ifindex: number; up: boolean; mtu?: number; inUse: boolean };
  'xfrmi.updated': { ifId: number; name: string; ifindex: number; change: 'up' | 'mtu'; mtu?: number; was?: number };
  'xfrmi.removed': { ifId: number; name: string; ifindex: number; reason: 'unused'; idleMs: number };
  'xfrmi.conflict': { ifId: number; kind: string; subject: string; ifindex?: number; message: string };
  'xfrmi.error': { op: string; ifId: number; subject: string; error: string; errno?: string; kernel?: string };
  'route.added': { dst: string; dev: string; ifId: number; table: number; metric: number; prefsrc?: string; conns: string[]; replaced?: boolean };
  'route.removed': { dst: string; dev: string; ifId: number; table: number; metric: number; reason: 'unused' | 'interface-removed'; idleMs: number };
  'steer.attached': { uplink: string; ifindex: number; mode: string; action: 'attached' | 'kept' | 'replaced'; programId: number; portsUpgraded: number; reusedMaps: number };
  'steer.vlan_offload': { uplink: string; action: 'warn' | 'disabled' | 'fixed'; message: string };
  'steer.reconciled': { uplink: string; reason: string; applied: number; ops: string[]; issues: string[]; esp: number };
  'steer.manual': { op: 'add' | 'del'; uplink: string; mac: string; vlan: number; port?: string };
  'steer.detached': { uplink: string; uplinkXdp: string; portsDetached: number; pinsRemoved: number; pinsLeft: string[] };
  'steer.unmanaged': { uplink: string; reason: string };
  'steer.error': { uplink: string; op: string; error: string; code?: string; retryMs?: number };
  'vf.connected': { vf: string; peer: string; epoch: string; kept: number; removed: number };
  'vf.disconnected': { vf: string; peer: string; reason: string; sas: number };
  'vf.refused': { vf?: string; peer: string; request: string; reason: string; message: string; suppressed?: number };
  'vf.stale_cleanup': { vf: string; reason: string; count: number; children: number; policies: number; interface: boolean };
  'vf.sa_added': { vf: string; uniqueid: number; child: string; spiIn: string; spiOut: string; src: string; dst: string; software?: string };
  'vf.sa_removed': { vf: string; uniqueid: number; child: string; count: number; reason: string };
  'vf.restored': { vf: string; children: number; sas: number; dropped: number; graceMs: number };
  'vf.rekey_asked': { vf: string; uniqueid: number; reason: string };
  'vf.error': { vf: string; op: string; error: string };
  'vf.store_unusable': { path: string; problem: string; movedTo?: string };
  'vf.agent_connected': { pf: string; vf: string; heartbeatMs: number; children: number; missing: number };
  'vf.agent_disconnected': { pf: string; reason: string; retryMs: number };
  'vf.agent_refused': { request: string; uniqueid?: number; reason: string; message: string };
  'vf.agent_rekey': { uniqueid: number; reason: string };
}

export interface SaFields {
  spi: string;
  dir: 'in' | 'out';
  conn: string;
  child: string;
  uniqueid: number;
  src: string;
  dst: string;
}

export type LogEventName = keyof LogEvents;

/** SPI as operators read it in `ip xfrm state`: 0x + 8 hex digits. */
export function spiText(spi: number): string {
  return `0x${spi.toString(16).padStart(8, '0')}`;
}

// ---- the catalogue ----------------------------------------------------------

export type CatalogueLevel = 'debug' | 'info' | 'warn' | 'error' | 'info or warn';

export interface EventDoc<F> {
  /** the level it is written at */
  level: CatalogueLevel;
  /** when it is written, for an operator */
  when: string;
  /** every field (optional ones included): what it holds */
  fields: { [K in keyof Required<F>]: string };
}

export type Catalogue = { [E in LogEventName]: EventDoc<LogEvents[E]> };

/** Fields every line has, whatever the event. */
export const COMMON_FIELDS: Readonly<Record<string, string>> = {
  time: 'ISO 8601 timestamp (UTC)',
  level: 'debug, info, warn or error',
  event: 'the event name (this catalogue)',
};

const SA: EventDoc<SaFields>['fields'] = {
  spi: 'SPI as in `ip xfrm state` (0x + 8 hex digits)',
  dir: '`in` or `out`',
  conn: 'charon IKE config name',
  child: 'CHILD_SA config name',
  uniqueid: 'CHILD_SA unique id in charon (`sa show <uniqueid>`)',
  src: 'SA source address',
  dst: 'SA destination address',
};

export const EVENT_CATALOGUE: Catalogue = {
  'daemon.started': {
    level: 'info',
    when: 'the daemon is up: control socket listening, synced with charon and the kernel',
    fields: { version: 'ipsec-offload version', pid: 'process id', config: 'config file path', netns: 'network namespace it manages (absent: its own)' },
  },
  'daemon.stopping': { level: 'info', when: 'a clean stop begins (SAs stay as they are in the kernel)', fields: { signal: 'SIGTERM, SIGINT, ...' } },
  'daemon.crashed': { level: 'error', when: 'an unexpected error ends the daemon (systemd restarts it)', fields: { error: 'the error message', stack: 'stack trace' } },
  'daemon.error': { level: 'error', when: 'background work triggered by an event failed (the daemon carries on; the periodic resync catches up)', fields: { what: 'the work (link event, xfrm event, plan loop, ...)', error: 'message' } },
  'config.loaded': { level: 'info', when: 'the config file was read at start', fields: { path: 'config file path' } },
  'config.reloaded': {
    level: 'info',
    when: 'SIGHUP (systemctl reload) applied a new config',
    fields: { path: 'config file path', restartNeeded: 'changed keys that only take effect after a restart (control.socket, log.file, netns, vici.socket)' },
  },
  'config.invalid': {
    level: 'error',
    when: 'SIGHUP found an invalid config: nothing changes',
    fields: { path: 'config file path', errors: 'one entry per problem: key path and reason', kept: '`previous`: the running config stays in force' },
  },
  'log.reopened': { level: 'info', when: 'the log file was reopened (SIGUSR1 or SIGHUP, after logrotate)', fields: { file: 'log file path', signal: 'the signal' } },
  'vici.connected': { level: 'info', when: 'connected to charon', fields: { socket: 'VICI socket path', version: 'charon version' } },
  'vici.disconnected': {
    level: 'warn',
    when: 'charon is not reachable (at start: repeated while waiting for it) or went away; nothing is changed until it is back',
    fields: { socket: 'VICI socket path tried', error: 'why (ENOENT: charon not running or vici plugin not loaded; EACCES: permissions)' },
  },
  'vici.reconnected': { level: 'info', when: 'charon is back; a full resync follows', fields: { socket: 'VICI socket path', attempt: 'reconnections so far' } },
  'vici.error': { level: 'warn', when: 'the VICI session reported an error', fields: { error: 'message' } },
  'vici.bad_event': { level: 'warn', when: 'a VICI event could not be understood (it is ignored; the periodic resync catches up)', fields: { name: 'VICI event name', error: 'why' } },
  resync: {
    level: 'info',
    when: 'a full re-read of charon (list-sas) or the kernel (SAD dump)',
    fields: { source: '`vici` or `xfrm`', children: 'CHILD_SAs known after it', sas: 'SAs known after it', reason: 'startup, vici reconnected, xfrm overrun, operator, ...' },
  },
  'resync.failed': { level: 'error', when: 'a resync failed (retried on the next interval)', fields: { source: '`vici` or `xfrm`', error: 'message' } },
  'xfrm.overrun': { level: 'warn', when: 'the kernel dropped XFRM notifications (ENOBUFS): a kernel resync follows', fields: { group: 'multicast groups concerned' } },
  'xfrm.getsa_failed': { level: 'warn', when: 'reading an SA charon announced failed', fields: { spi: 'SPI', error: 'message' } },
  'xfrm.aevent_threshold': { level: 'warn', when: 'the replay-event threshold could not be set on an SA (sequence numbers are then tracked less often)', fields: { spi: 'SPI', error: 'message' } },
  'executor.error': {
    level: 'error',
    when: 'an action on the kernel or charon failed unexpectedly (retried after offload.backoff)',
    fields: { action: 'promote, demote, reinstall, remove, rekey, probe, ...', spi: 'SPI, for SA actions', dir: 'direction, for SA actions', error: 'message' },
  },
  'sa.installed': { level: 'info', when: 'first sight of an SA charon installed', fields: { ...SA, state: '`software` or `offloaded` (as charon installed it)' } },
  'sa.offloaded': { level: 'info', when: 'an SA was moved onto a device and verified there', fields: { ...SA, dev: 'device', gapUs: 'swap gap: µs between delete and re-add' } },
  'sa.fallback': {
    level: 'warn',
    when: 'an offload attempt failed; the SA is in software (it never went without a working copy)',
    fields: {
      ...SA,
      dev: 'device it was meant for',
      reason: 'capacity, esn-unsupported, silent-fallback, backoff (see `sa list` reasons)',
      errno: 'kernel errno name (ENOSPC, EINVAL, ...)',
      kernel: "the kernel's extended-ack message",
      gapUs: 'swap gap in µs',
    },
  },
  'sa.demoted': { level: 'info', when: 'an SA was moved from a device back to software', fields: { ...SA, dev: 'device it left', reason: 'why (pinned-software, config-off, device-down, ...)', gapUs: 'swap gap in µs' } },
  'sa.reinstalled': {
    level: 'warn',
    when: 'the kernel lost an offloaded SA (device down or removed: no netlink event) and the daemon re-added it in software',
    fields: { ...SA, reason: '`device-loss`', oseq: 'outbound sequence number the new copy starts at', margin: 'sequence numbers skipped so none is ever reused' },
  },
  'sa.removed': { level: 'info', when: 'an SA the daemon had installed was deleted because its CHILD_SA went away', fields: { ...SA, reason: '`child-gone`' } },
  'sa.vanished': {
    level: 'warn',
    when: 'the kernel lacked an SA the daemon was about to swap, or a periodic SAD dump lacked one (dumps answered while that SA was being swapped do not count). Only an SA offloaded to a device that is down or gone is re-added (device loss); any other absence counts as a delete by someone else and is never repaired: charon rekeys if the CHILD_SA is still up',
    fields: { ...SA, during: '`swap` or `resync`', lookup: '`esrch` (no such SA), `larval` (only an ACQUIRE placeholder) or `dump` (absent from the SAD dump)', repair: '`reinstall` or `none`' },
  },
  'sa.larval_removed': {
    level: 'warn',
    when: "a larval ACQUIRE state (no keys) held an SA's SPI ahead of the SA itself, hiding it from GETSA and DELSA; it was deleted. A packet sent in a swap gap creates one; it would otherwise expire after net.core.xfrm_acq_expires and report a hard EXPIRE of the SA's SPI to charon",
    fields: { ...SA, during: '`swap`, `load`, `reinstall` or `resync` (seen in the periodic SAD dump)', count: 'larval states deleted' },
  },
  'sa.swap': {
    level: 'info',
    when: 'every promote or demote (delete + add of the same SA)',
    fields: { ...SA, op: '`promote` or `demote`', gapUs: 'µs the SA was absent', oseq: 'outbound sequence number carried over', finalState: '`delsa`: replay state from the delete reply; `margin`: estimated with a safety margin' },
  },
  'sa.keys_lost': { level: 'warn', when: 'an SA vanished and its keys are gone (daemon restarted in the gap): charon is asked to rekey', fields: { ...SA, action: '`rekey`' } },
  'sa.rekey_requested': { level: 'info', when: 'the daemon asked charon to rekey a CHILD_SA', fields: { conn: 'IKE config name', child: 'CHILD_SA name', uniqueid: 'CHILD_SA unique id', reason: '`keys-lost` or `seq-exhaustion`' } },
  'device.up': { level: 'info', when: 'a device came up: its SAs are promoted again', fields: { dev: 'device', ifindex: 'interface index' } },
  'device.down': {
    level: 'info or warn',
    when: 'a device went down (warn when offloaded SAs were lost with it)',
    fields: { dev: 'device', ifindex: 'interface index', lostSas: 'offloaded SAs the kernel deleted with it' },
  },
  'device.removed': { level: 'info or warn', when: 'a device disappeared (removed or moved to another netns)', fields: { dev: 'device', ifindex: 'interface index', lostSas: 'offloaded SAs lost with it' } },
  'device.probed': { level: 'info', when: 'a capability probe ran on a device', fields: { dev: 'device', ifindex: 'interface index', esn: 'ESN offload: supported, unsupported or unknown' } },
  'device.capacity': { level: 'info', when: "a device's SA table size was learned (ENOSPC)", fields: { dev: 'device', ifindex: 'interface index', capacity: 'SAs it holds', source: '`learned` or `config`' } },
  'esn.window': { level: 'info', when: 'an ESN SA crossed a half of the 32-bit sequence space', fields: { ...SA, seqHi: 'upper 32 bits', half: '`lower` or `upper`', oseq: 'lower 32 bits' } },
  'seq.exhaustion': { level: 'warn', when: 'an outbound non-ESN SA nears 2^32 packets: charon is asked to rekey', fields: { ...SA, oseq: 'outbound sequence number', threshold: 'offload.seq_rekey_at' } },
  'control.request': { level: 'debug', when: 'every control-socket request', fields: { cmd: 'command', uid: 'peer uid', ok: 'answered without error' } },
  'control.rejected': {
    level: 'warn',
    when: 'a control-socket client was refused or cut off',
    fields: { reason: 'permission, oversized request, request timeout, too many requests, not reading', uid: 'peer uid' },
  },
  'xfrmi.resync': { level: 'info', when: "the xfrm interface module re-read charon's CHILD_SAs (list-sas)", fields: { children: 'CHILD_SAs with an if_id', reason: 'startup, vici reconnected' } },
  'xfrmi.created': {
    level: 'info',
    when: 'an xfrm interface was created for an if_id a CHILD_SA uses (marked ours by its alias)',
    fields: { ifId: 'the if_id', name: 'interface name', ifindex: 'interface index', link: 'underlying device (IFLA_XFRM_LINK)', mtu: 'MTU set', conns: 'CHILD_SAs using it (conn/child#uniqueid)' },
  },
  'xfrmi.adopted': {
    level: 'info',
    when: 'an xfrm interface created by an earlier run was found and kept as it is (no flap)',
    fields: { ifId: 'the if_id', name: 'interface name', ifindex: 'interface index', up: 'administratively up', mtu: 'its MTU', inUse: 'a CHILD_SA uses it now (else it is idle and goes after xfrmi.grace)' },
  },
  'xfrmi.updated': {
    level: 'info',
    when: 'one of our xfrm interfaces was set up or given the configured MTU',
    fields: { ifId: 'the if_id', name: 'interface name', ifindex: 'interface index', change: '`up` or `mtu`', mtu: 'new MTU', was: 'previous MTU' },
  },
  'xfrmi.removed': {
    level: 'info',
    when: 'one of our xfrm interfaces was deleted: no CHILD_SA used its if_id for xfrmi.grace',
    fields: { ifId: 'the if_id', name: 'interface name', ifindex: 'interface index', reason: '`unused`', idleMs: 'how long it was unused' },
  },
  'xfrmi.conflict': {
    level: 'warn',
    when: 'an xfrm interface or route the CHILD_SAs need cannot be made without touching something that is not ours (logged once per conflict)',
    fields: {
      ifId: 'the if_id',
      kind: 'foreign-ifid, name-taken, name-too-long, link-missing, link-unknown, route-exists',
      subject: 'the interface, device or route destination concerned',
      ifindex: 'the foreign interface, when there is one',
      message: 'what is in the way and what to do',
    },
  },
  'xfrmi.error': {
    level: 'warn',
    when: 'a change to an xfrm interface or route failed (retried on the next pass)',
    fields: { op: 'create, set-up, set-mtu, delete, route-add, route-replace, route-del; read (the links and routes could not be read)', ifId: 'the if_id (0 for read)', subject: 'interface or route', error: 'message', errno: 'kernel errno name', kernel: "the kernel's extended-ack message" },
  },
  'route.added': {
    level: 'info',
    when: "a route to a CHILD_SA's remote traffic selector was installed through its if_id_out interface",
    fields: {
      dst: 'destination prefix',
      dev: 'xfrm interface',
      ifId: 'its if_id',
      table: 'routing table',
      metric: 'route metric',
      prefsrc: 'source address for locally sent packets (a local address inside the local selectors)',
      conns: 'CHILD_SAs it serves (conn/child#uniqueid)',
      replaced: 'an existing route of ours was replaced (moved from an idle interface, or a new source address)',
    },
  },
  'route.removed': {
    level: 'info',
    when: 'a route we installed was deleted: no CHILD_SA asked for it for xfrmi.grace',
    fields: { dst: 'destination prefix', dev: 'xfrm interface', ifId: 'its if_id', table: 'routing table', metric: 'route metric', reason: '`unused` or `interface-removed`', idleMs: 'how long it was unused' },
  },
  'steer.attached': {
    level: 'info',
    when: 'XDP steering runs on a configured uplink (at start, after a reload that changed it, or when its device appeared)',
    fields: {
      uplink: 'uplink device',
      ifindex: 'its interface index',
      mode: '`native` or `generic` XDP',
      action: '`attached` now, `kept` (a restart found our identical program running: no gap), `replaced` atomically by a new build',
      programId: 'steer_ingress program id',
      portsUpgraded: 'ports whose program was swapped for the new build',
      reusedMaps: 'pinned maps reused with their entries (0: a fresh start)',
    },
  },
  'steer.vlan_offload': {
    level: 'info or warn',
    when: 'the uplink strips VLAN tags before XDP (rx-vlan-offload on): warned, turned off (steer.uplinks[].rx_vlan_offload: disable), or fixed on',
    fields: { uplink: 'uplink device', action: '`warn`, `disabled` (info) or `fixed` (cannot be turned off)', message: 'what it means and what to do' },
  },
  'steer.reconciled': {
    level: 'info or warn',
    when: 'the steering maps were changed to follow the config, the VF list or the SAs (warn: some desired entries were refused)',
    fields: {
      uplink: 'uplink device',
      reason: 'what triggered it: startup, config, link, sas, periodic, retry',
      applied: 'map operations applied',
      ops: 'the operations, e.g. `fdb-set 02:00:00:00:01:01 vlan 100 -> ifindex 7`',
      issues: 'desired entries left out, and why',
      esp: 'ESP exceptions desired now',
    },
  },
  'steer.manual': {
    level: 'info',
    when: 'an operator added (`steer add`) or removed (`steer del`) a manual fdb entry',
    fields: { op: '`add` or `del`', uplink: 'uplink device', mac: 'destination MAC', vlan: 'VLAN (0 = untagged)', port: 'port device (add)' },
  },
  'steer.detached': {
    level: 'info',
    when: '`steer detach` removed steering from an uplink: the daemon stops managing it until a restart or a reload that changes its config',
    fields: {
      uplink: 'uplink device',
      uplinkXdp: '`detached`, `none`, `foreign` (another program runs there and was left) or `device gone`',
      portsDetached: 'ports whose steer_port_rx was removed',
      pinsRemoved: 'pinned maps and programs removed',
      pinsLeft: 'files in the pin directory that are not ours (left in place)',
    },
  },
  'steer.unmanaged': {
    level: 'warn',
    when: 'a steered uplink left the config: its programs and maps stay attached and unchanged (`steer detach` removes them)',
    fields: { uplink: 'uplink device', reason: 'why the daemon stopped managing it' },
  },
  'steer.error': {
    level: 'warn',
    when: 'steering an uplink failed (device missing, another XDP program, load or map error); logged when the error changes, retried',
    fields: {
      uplink: 'uplink device',
      op: 'open, vlan-offload, attach, reconcile, read (links, routes, VFs)',
      error: 'message',
      code: 'error class or errno name',
      retryMs: 'next attempt in (absent: on the next change)',
    },
  },
  'vf.connected': {
    level: 'info',
    when: 'pf role: a VF agent said hello and was given its domain (after any cleanup its new epoch required)',
    fields: { vf: 'VF name (pf.vfs)', peer: 'who connected, as the PF saw it (unix pid/uid/netns, or TLS certificate)', epoch: "the agent's epoch (hex)", kept: 'CHILD_SAs of the VF kept from before', removed: 'SAs removed first (a new epoch)' },
  },
  'vf.disconnected': {
    level: 'info',
    when: "pf role: a VF agent's connection ended; its SAs stay until pf.stale_timeout unless it said bye",
    fields: { vf: 'VF name', peer: 'who it was', reason: 'why the connection ended', sas: 'SAs of the VF still installed' },
  },
  'vf.refused': {
    level: 'warn',
    when: 'pf role: a connection or a request was refused (rate-limited per VF: repeats are counted in `suppressed`)',
    fields: {
      vf: 'VF name, when the connection was identified',
      peer: 'who connected',
      request: 'connection, hello, sa.add, ... or frame (undecodable input)',
      reason: 'the protocol reason: identity, address-not-allowed, spi-collision, quota, unsupported, kernel, retired, malformed, ...',
      message: 'what exactly (never key material)',
      suppressed: 'refusals of this VF not logged since the last line',
    },
  },
  'vf.stale_cleanup': {
    level: 'warn',
    when: "pf role: a VF's stale SAs (and policies, routes, interface) were removed before it gets resources again",
    fields: {
      vf: 'VF name',
      reason: 'new-epoch, heartbeat-timeout, vf-removed, vf-mac-changed, vf-vlan-changed, vf-link-disabled, restart-grace, operator (vf reset), bye, sync, unconfigured, reassigned',
      count: 'SAs removed',
      children: 'CHILD_SAs removed',
      policies: 'policies removed',
      interface: "the VF's xfrm interface was removed",
    },
  },
  'vf.sa_added': {
    level: 'info',
    when: "pf role: a VF's CHILD_SA was installed on the host (in software; the planner offloads it when it can)",
    fields: { vf: 'VF name', uniqueid: "the tenant charon's CHILD_SA unique id", child: 'CHILD_SA name', spiIn: 'inbound SPI', spiOut: 'outbound SPI', src: 'tenant address', dst: 'peer address', software: 'kept in software on purpose, and why (spi-collision)' },
  },
  'vf.sa_removed': {
    level: 'info',
    when: "pf role: a VF's CHILD_SA was removed because the agent said so (sa.del)",
    fields: { vf: 'VF name', uniqueid: 'CHILD_SA unique id', child: 'CHILD_SA name', count: 'SAs removed', reason: '`sa.del`' },
  },
  'vf.restored': {
    level: 'info',
    when: "pf role, daemon start: a VF's SAs were found in the kernel through the ownership store and kept (no churn); its agent has pf.restart_grace to come back",
    fields: { vf: 'VF name', children: 'CHILD_SAs kept', sas: 'SAs kept', dropped: 'CHILD_SAs removed because an SA of theirs was gone (they need a rekey)', graceMs: 'grace period' },
  },
  'vf.rekey_asked': { level: 'info', when: 'pf role: the PF asked a VF agent to have its charon rekey a CHILD_SA', fields: { vf: 'VF name', uniqueid: 'CHILD_SA unique id', reason: 'soft-expire, seq-exhaustion or retired' } },
  'vf.error': { level: 'warn', when: "pf role: a change to a VF's domain failed (its interface, a route); retried", fields: { vf: 'VF name', op: 'what was being done', error: "the kernel's answer" } },
  'vf.store_unusable': {
    level: 'error',
    when: 'pf role, daemon start: the ownership store could not be read; it was moved aside and no kernel SA is attributed to a VF (none is touched)',
    fields: { path: 'store path (pf.store)', problem: 'what was wrong', movedTo: 'where the file was moved' },
  },
  'vf.agent_connected': {
    level: 'info',
    when: 'vf role: connected to the PF and synced: the CHILD_SAs the PF lacked were sent',
    fields: { pf: 'where the PF was reached', vf: "the PF's name for this VF", heartbeatMs: 'heartbeat interval', children: 'CHILD_SAs of the local charon', missing: 'CHILD_SAs the PF lacked' },
  },
  'vf.agent_disconnected': { level: 'warn', when: 'vf role: the connection to the PF ended or could not be made; retried', fields: { pf: 'where the PF is', reason: 'why', retryMs: 'next attempt in' } },
  'vf.agent_refused': {
    level: 'warn',
    when: 'vf role: the PF refused a request (retired: the CHILD_SA is rekeyed)',
    fields: { request: 'hello, sa.add, ...', uniqueid: 'CHILD_SA unique id', reason: 'protocol reason', message: "the PF's words" },
  },
  'vf.agent_rekey': { level: 'info', when: "vf role: charon was asked to rekey a CHILD_SA (the PF's request, or a retired SA)", fields: { uniqueid: 'CHILD_SA unique id', reason: 'why' } },
};
