// The log event catalogue: every `event` name the daemon writes, with the
// fields it carries. Names are stable (operators grep and alert on them);
// add new ones, never rename. The README's catalogue is generated from this.

export interface LogEvents {
  'daemon.started': { version: string; pid: number; config: string; netns?: string };
  'daemon.stopping': { signal: string };
  'config.loaded': { path: string };
  'config.reloaded': { path: string };
  'config.invalid': { path: string; errors: string[]; kept: 'previous' | 'none' };
  'vici.connected': { socket: string; version?: string };
  'vici.disconnected': { socket: string; error?: string };
  'vici.reconnected': { socket: string; attempt: number };
  resync: { source: 'vici' | 'xfrm' | 'startup'; children: number; sas: number; reason: string };
  'xfrm.overrun': { group: string };
  'sa.installed': SaFields & { state: 'software' | 'offloaded' };
  'sa.offloaded': SaFields & { dev: string; gapUs: number };
  'sa.fallback': SaFields & { dev: string; reason: string; errno?: string; kernel?: string; gapUs?: number };
  'sa.demoted': SaFields & { dev: string; reason: string; gapUs: number };
  'sa.reinstalled': SaFields & { reason: string; oseq: number; margin: number };
  'sa.removed': SaFields & { reason: string };
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
