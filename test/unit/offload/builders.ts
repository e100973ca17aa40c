// Small builders for planner tests: a device, a CHILD_SA with its two SAs.
import { emptyState, saKey, type ChildRecord, type DeviceRecord, type OffloadState, type SaRecord } from '../../../src/offload/types.js';

export const GCM = { name: 'rfc4106(gcm(aes))', icvBits: 128, keyBits: 160 };

export function device(p: Partial<DeviceRecord> & { ifindex: number }): DeviceRecord {
  return {
    name: `eth${p.ifindex}`,
    up: true,
    espOffload: true,
    esn: 'unknown',
    probed: true,
    silentFallback: false,
    addresses: ['10.0.0.1'],
    ...p,
  };
}

export interface ChildOpts {
  uniqueid: number;
  ike?: string;
  name?: string;
  local?: string;
  remote?: string;
  esn?: boolean;
  sa?: Partial<SaRecord>;
  saIn?: Partial<SaRecord>;
  saOut?: Partial<SaRecord>;
  gone?: boolean;
  goneReason?: 'down' | 'vanished';
  child?: Partial<ChildRecord>;
}

export function addChild(state: OffloadState, o: ChildOpts): { child: ChildRecord; sin: SaRecord; sout: SaRecord } {
  const local = o.local ?? '10.0.0.1';
  const remote = o.remote ?? '10.0.0.2';
  const spiIn = 0xc0000000 + o.uniqueid * 2;
  const spiOut = 0xc0000001 + o.uniqueid * 2;
  const mk = (dir: 'in' | 'out', extra: Partial<SaRecord> | undefined): SaRecord => {
    const id = { daddr: dir === 'in' ? local : remote, spi: dir === 'in' ? spiIn : spiOut, proto: 50, family: 2 };
    return {
      key: saKey(id),
      id,
      saddr: dir === 'in' ? remote : local,
      dir,
      child: String(o.uniqueid),
      shape: { esn: o.esn ?? false, encap: false, aead: GCM, tfcpad: false, mode: 'transport' },
      present: true,
      keysHeld: true,
      busy: false,
      bytes: 0n,
      packets: 0n,
      rate: 0,
      reinstalledByUs: false,
      firstSeen: 0,
      ...o.sa,
      ...extra,
    };
  };
  const sin = mk('in', o.saIn);
  const sout = mk('out', o.saOut);
  const child: ChildRecord = {
    key: String(o.uniqueid),
    uniqueid: o.uniqueid,
    reqid: o.uniqueid,
    name: o.name ?? 'gcm',
    ike: { name: o.ike ?? 'lab', uniqueid: 1 },
    state: 'INSTALLED',
    mode: 'TRANSPORT',
    localAddr: local,
    remoteAddr: remote,
    spiIn,
    spiOut,
    esn: o.esn ?? false,
    encap: false,
    saIn: sin.key,
    saOut: sout.key,
    gone: o.gone ?? false,
    ...(o.gone ? { goneReason: o.goneReason ?? 'down', goneAt: 0 } : {}),
    since: 0,
    ...(o.child ?? {}),
  };
  state.children.set(child.key, child);
  state.sas.set(sin.key, sin);
  state.sas.set(sout.key, sout);
  return { child, sin, sout };
}

export function withDevice(d: DeviceRecord, now = 1_000_000): OffloadState {
  const s = emptyState(now);
  s.devices.set(d.ifindex, d);
  return s;
}
