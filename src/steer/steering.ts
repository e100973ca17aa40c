// The steering lifecycle for one uplink: open (maps reused from pins), attach
// (ingress on the uplink, egress on the uplink's devmap entry), reconcile
// (desired -> minimal map updates), manual add/del, status/list, detach.
//
// Restart without a traffic gap: programs attached over netlink stay attached
// when the daemon exits, maps are pinned, and programs are pinned under their
// names. A new daemon reuses the maps; if the freshly built programs have the
// same tag as the pinned ones it keeps the pinned (attached) ones untouched;
// otherwise attach() swaps them atomically (XDP_FLAGS_REPLACE).
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describeNetns, netnsTarget, type NetnsSpec } from '../netlink/netns.js';
import { BPF_ANY, call, openPinnedMap, xdpQuery, type BpfProgram, type NetnsOption, type XdpMode } from './bpf.js';
import { applyOps, type AppliedOp } from './apply.js';
import type { ResolvedDesired, ResolvedFdb, ResolvedPort, SteerDesired } from './desired.js';
import { SteerConflictError, SteerDeviceError, SteerInvalidError, SteerNotFoundError, type SteerIssue } from './errors.js';
import { STEER_MAPS, devmapValue, u32Key, type SteerProgramName } from './layout.js';
import {
  DEFAULT_PIN_ROOT,
  defaultObjectFile,
  ensurePinRoot,
  loadSteerObject,
  openPinnedMaps,
  openPinnedPrograms,
  pinDirFor,
  pinProgram,
  removePins,
  type SteerMaps,
  type SteerPrograms,
} from './object.js';
import { planSteer, portAccepts } from './plan.js';
import { decodeFdbEntry, decodePort, encodeFdbKey, encodeFdbValue, normalizeMac, type FdbRecord } from './records.js';
import { readPorts, readState } from './state.js';
import { isMulticast, isValid, isZero, validVlan } from './validate.js';
import { listView, statusView, type SteerFdbView, type SteerListView, type SteerStatusView, type ViewContext } from './views.js';

/** Which uplink, in which netns, pinned where. */
export interface SteerTarget {
  uplink: string;
  /** where the uplink and its ports live (default: the daemon's own netns) */
  netns?: NetnsSpec;
  /** default /sys/fs/bpf/ipsec-offload; pins go to <pinRoot>/<uplink>/ */
  pinRoot?: string;
}

export interface SteeringOptions extends SteerTarget {
  /** default: dist/bpf/steer.o of this package */
  objectFile?: string;
  /** XDP attach mode: 'auto' (default) = native, generic when the driver has no native XDP */
  mode?: 'auto' | XdpMode;
  /** mount bpffs on /sys/fs/bpf when it is missing (default: true for the default pin root) */
  mountBpffs?: boolean;
}

export interface SteerAttachReport {
  uplink: string;
  ifindex: number;
  mode: XdpMode;
  /** attached now, kept (already ours, same code), or replaced atomically by a new build */
  action: 'attached' | 'kept' | 'replaced';
  programId: number;
  egressProgramId: number;
  /** ports whose steer_port_rx was swapped for the new build */
  portsUpgraded: number[];
  /** maps whose pinned entries were reused */
  reusedMaps: string[];
}

export interface SteerReconcileReport {
  applied: AppliedOp[];
  issues: SteerIssue[];
}

export interface SteerDetachReport {
  uplink: string;
  pinDir: string;
  /** false: nothing was pinned for this uplink */
  found: boolean;
  /** steer_ingress removed from the uplink; 'foreign' = another program runs there and was left */
  uplinkXdp: 'detached' | 'none' | 'foreign' | 'device gone';
  portsDetached: number[];
  pinsRemoved: string[];
  /** files in the pin dir that are not ours (left in place) */
  pinsLeft: string[];
}

/** The uplink must be attached (attach()) before entries are changed after an upgrade. */
export class SteerUsageError extends Error {
  override readonly name = 'SteerUsageError';
}

interface Resolved {
  target: SteerTarget;
  uplink: string;
  ifindex: number;
  netns: NetnsOption | undefined;
  netnsLabel: string;
  pinRoot: string;
  pinDir: string;
}

function resolveTarget(t: SteerTarget, requireDevice: boolean): Resolved {
  const netns = t.netns ? netnsTarget(t.netns) : undefined;
  const netnsLabel = describeNetns(t.netns);
  const pinRoot = t.pinRoot ?? DEFAULT_PIN_ROOT;
  const ifindex = call(`resolve ${t.uplink}`, (b) => b.ifNameToIndex(t.uplink, netns));
  if (requireDevice && ifindex === 0) throw new SteerDeviceError(t.uplink, netnsLabel);
  return { target: t, uplink: t.uplink, ifindex, netns, netnsLabel, pinRoot, pinDir: pinDirFor(pinRoot, t.uplink) };
}

const u32 = (n: number): Buffer => u32Key.encode({ value: n });
const attachedMode = (m: string): XdpMode => (m === 'generic' ? 'generic' : 'native');

/** Read-only access to an uplink's steering: status and list. */
export class SteerReader {
  protected closed = false;

  protected constructor(
    protected readonly t: Resolved,
    readonly maps: SteerMaps,
    protected readonly progs: Partial<SteerPrograms>,
  ) {}

  get uplink(): string {
    return this.t.uplink;
  }
  get ifindex(): number {
    return this.t.ifindex;
  }
  get pinDir(): string {
    return this.t.pinDir;
  }

  protected view(): ViewContext {
    return {
      uplink: this.t.uplink,
      ifindex: this.t.ifindex,
      ...(this.t.netns ? { netns: this.t.netns } : {}),
      netnsLabel: this.t.netnsLabel,
      pinDir: this.t.pinDir,
      maps: this.maps,
      programs: this.progs,
    };
  }

  /** `steer status` */
  status(): SteerStatusView {
    return statusView(this.view());
  }

  /** `steer list`: fdb entries, ports and ESP exceptions with their counters */
  list(): SteerListView {
    return listView(this.view());
  }

  /** An uplink's pinned steering, read-only (no load, no side effects). */
  static fromPins(target: SteerTarget): SteerReader {
    const t = resolveTarget(target, false);
    const maps = existsSync(t.pinDir) ? openPinnedMaps(t.pinDir) : undefined;
    if (!maps) throw new SteerNotFoundError(t.uplink, t.pinDir);
    return new SteerReader(t, maps, openPinnedPrograms(t.pinDir));
  }

  /** Closes our fds; everything in the kernel stays as it is. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const m of Object.values(this.maps)) m.close();
    for (const p of Object.values(this.progs)) p.close();
  }
}

/** Opens an uplink's pinned steering read-only (no load, no side effects). */
export function inspectSteering(target: SteerTarget): SteerReader {
  return SteerReader.fromPins(target);
}

export class Steering extends SteerReader {
  private readonly previous: Partial<SteerPrograms>;
  private readonly mode: 'auto' | XdpMode;
  private readonly reused: string[];

  private constructor(
    t: Resolved,
    maps: SteerMaps,
    programs: SteerPrograms,
    previous: Partial<SteerPrograms>,
    reused: string[],
    mode: 'auto' | XdpMode,
  ) {
    super(t, maps, programs);
    this.previous = previous;
    this.reused = reused;
    this.mode = mode;
  }

  /** The programs this handle uses (loaded now, or the pinned ones when identical). */
  get programs(): SteerPrograms {
    return this.progs as SteerPrograms;
  }

  /**
   * Loads steer.o for `uplink`, reusing pinned maps (entries intact) and
   * pinned programs when the new build is identical. Attaches nothing.
   */
  static open(options: SteeringOptions): Steering {
    const t = resolveTarget(options, true);
    ensurePinRoot(t.pinRoot, options.mountBpffs ?? t.pinRoot === DEFAULT_PIN_ROOT);
    mkdirSync(t.pinDir, { recursive: true, mode: 0o700 });
    const loaded = loadSteerObject(options.objectFile ?? defaultObjectFile(), t.pinDir);
    const pinned = openPinnedPrograms(t.pinDir);
    // A pinned program refers to the maps it was loaded with: only keep it
    // if every map was reused, i.e. they are the maps we hold now.
    const allReused = loaded.reused.length === Object.keys(loaded.maps).length;
    const programs = {} as SteerPrograms;
    const previous: Partial<SteerPrograms> = {};
    for (const name of Object.keys(loaded.programs) as SteerProgramName[]) {
      const mine = loaded.programs[name];
      const old = pinned[name];
      if (old && allReused && old.tag === mine.tag) {
        programs[name] = old;
        mine.close();
      } else {
        programs[name] = mine;
        // An older build stays pinned until attach() has swapped it out;
        // otherwise nothing of ours runs anywhere yet: pin now.
        if (old) previous[name] = old;
        else pinProgram(t.pinDir, mine);
      }
    }
    return new Steering(t, loaded.maps, programs, previous, loaded.reused, options.mode ?? 'auto');
  }

  private get pendingUpgrade(): boolean {
    return Object.keys(this.previous).length > 0;
  }

  /**
   * Attaches steer_ingress to the uplink (never over a program that is not
   * ours) and installs the uplink's devmap entry with steer_egress. After an
   * upgrade, swaps every old program for the new one atomically.
   */
  attach(): SteerAttachReport {
    const { ifindex, netns, uplink } = this.t;
    const { ingress, egress, portRx } = this.programs;
    const q = xdpQuery(ifindex, netns);
    const old = this.previous;
    if (q.progId !== 0 && q.progId !== ingress.id && q.progId !== old.ingress?.id) throw new SteerConflictError(uplink, q.progId);

    // The uplink's own steer_ports entry, carrying the egress program.
    const key = u32(ifindex);
    const cur = this.maps.ports.lookup(key);
    const curVal = cur ? devmapValue.decode(cur) : undefined;
    if (!curVal || curVal.ifindex !== ifindex || curVal.bpfProg !== egress.id) {
      this.maps.ports.update(key, devmapValue.encode({ ifindex, bpfProg: egress.fd }), BPF_ANY, netns);
    }

    let action: SteerAttachReport['action'];
    let mode: XdpMode;
    if (q.progId === 0) {
      mode = call(`attach ${ingress.name} to ${uplink}`, (b) => b.xdpAttach(ifindex, ingress.fd, { mode: this.mode, ...netns }));
      action = 'attached';
    } else if (q.progId === ingress.id) {
      mode = attachedMode(q.attachMode);
      action = 'kept';
    } else {
      const prev = old.ingress as BpfProgram;
      mode = attachedMode(q.attachMode);
      call(`replace ${ingress.name} on ${uplink}`, (b) => b.xdpAttach(ifindex, ingress.fd, { mode, replaceFd: prev.fd, ...netns }));
      action = 'replaced';
    }

    const portsUpgraded: number[] = [];
    if (old.portRx) {
      const prev = old.portRx;
      for (const p of readPorts(this.maps)) {
        const pq = xdpQuery(p.ifindex, netns);
        if (pq.progId !== prev.id) continue;
        call(`replace ${portRx.name} on ifindex ${p.ifindex}`, (b) =>
          b.xdpAttach(p.ifindex, portRx.fd, { mode: attachedMode(pq.attachMode), replaceFd: prev.fd, ...netns }),
        );
        portsUpgraded.push(p.ifindex);
      }
    }
    for (const name of Object.keys(old) as SteerProgramName[]) {
      pinProgram(this.t.pinDir, this.programs[name]);
      old[name]?.close();
      delete old[name];
    }
    return { uplink, ifindex, mode, action, programId: ingress.id, egressProgramId: egress.id, portsUpgraded, reusedMaps: [...this.reused] };
  }

  private resolveDevice(name: string): number {
    return call(`resolve ${name}`, (b) => b.ifNameToIndex(name, this.t.netns));
  }

  /** `device` is one of this uplink's ports (has a steer_port_info entry). */
  hasPort(device: string): boolean {
    const ifindex = this.resolveDevice(device);
    return ifindex !== 0 && this.maps.portInfo.lookup(u32(ifindex)) !== null;
  }

  /** The fdb holds an entry for `mac` (canonical text) on `vlan`. */
  hasFdb(mac: string, vlan: number): boolean {
    return validVlan(vlan) && this.maps.fdb.lookup(encodeFdbKey({ mac, vlan })) !== null;
  }

  private requireReady(what: string): void {
    if (this.pendingUpgrade) throw new SteerUsageError(`${what}: a new build of the programs is loaded; attach() first so the ports run it`);
  }

  /**
   * Makes the maps hold exactly `desired` (plus manual entries whose port
   * still exists), with the fewest map writes. Entries that cannot be
   * steered are reported in `issues` and left out; everything else applies.
   */
  reconcile(desired: SteerDesired): SteerReconcileReport {
    this.requireReady('reconcile');
    const issues: SteerIssue[] = [];
    const ports: ResolvedPort[] = [];
    const byName = new Map<string, number>();
    const lookup = (name: string): number => {
      if (!byName.has(name)) byName.set(name, this.resolveDevice(name));
      return byName.get(name) ?? 0;
    };
    desired.ports.forEach((p, i) => {
      const ifindex = lookup(p.device);
      if (ifindex === 0) return void issues.push({ at: `ports[${i}] (${p.device})`, message: `no such device in ${this.t.netnsLabel}` });
      ports.push({ device: p.device, ifindex, vlan: p.vlan ?? 0, ...(p.mac !== undefined ? { mac: p.mac } : {}) });
    });
    const fdb: ResolvedFdb[] = [];
    desired.fdb.forEach((f, i) => {
      const ifindex = lookup(f.port);
      if (ifindex === 0) return void issues.push({ at: `fdb[${i}] (${f.mac})`, message: `port ${f.port}: no such device in ${this.t.netnsLabel}` });
      fdb.push({ mac: f.mac, vlan: f.vlan ?? 0, device: f.port, ifindex, origin: f.origin ?? 'config' });
    });
    const resolved: ResolvedDesired = {
      uplink: this.t.ifindex,
      ports,
      fdb,
      esp: desired.esp.map((e) => ({ vlan: e.vlan ?? 0, daddr: e.daddr, spi: e.spi })),
    };
    const state = readState(this.maps, this.t.ifindex, this.programs.portRx.id, ports.map((p) => p.ifindex), this.t.netns);
    const plan = planSteer(state, resolved);
    const applied = applyOps(
      { maps: this.maps, programs: this.programs, ...(this.t.netns ? { netns: this.t.netns } : {}), mode: this.mode },
      plan.ops,
    );
    return { applied, issues: [...issues, ...plan.issues] };
  }

  /** `steer add`: a manual fdb entry toward an existing port; kept until `steer del`. */
  add(entry: { mac: string; vlan?: number; port: string }): SteerFdbView {
    this.requireReady('steer add');
    const vlan = entry.vlan ?? 0;
    const issue = (message: string): SteerInvalidError => new SteerInvalidError([{ at: 'add', message }]);
    if (!isValid(entry.mac)) throw issue(`${JSON.stringify(entry.mac)} is not a MAC address`);
    const mac = normalizeMac(entry.mac);
    if (isMulticast(mac) || isZero(mac)) throw issue(`${mac} is not a unicast MAC`);
    if (!validVlan(vlan)) throw issue(`VLAN ${vlan} is outside 0..4094`);
    const ifindex = this.resolveDevice(entry.port);
    if (ifindex === 0) throw new SteerDeviceError(entry.port, this.t.netnsLabel);
    const raw = this.maps.portInfo.lookup(u32(ifindex));
    if (!raw) throw issue(`${entry.port} is not a steering port (ports come from the configuration and VF info)`);
    const port = decodePort(ifindex, raw);
    const refused = portAccepts(port, vlan);
    if (refused) throw issue(refused);
    const key = encodeFdbKey({ mac, vlan });
    const cur = this.maps.fdb.lookup(key);
    if (cur) {
      const have = decodeFdbEntry(key, this.maps.fdb.split(cur));
      if (have.origin !== 'manual') throw issue(`${mac} vlan ${vlan} is owned by ${have.origin}; change it there`);
    }
    const rec: FdbRecord = { mac, vlan, ifindex, slot: port.slot, strip: port.vlan !== 0, origin: 'manual' };
    this.maps.fdb.update(key, this.maps.fdb.replicate(encodeFdbValue(rec)), BPF_ANY);
    return { mac, vlan, port: entry.port, ifindex, strip: rec.strip, origin: 'manual', packets: 0, bytes: 0 };
  }

  /** `steer del`: removes a manual entry; false when there is none. */
  del(key: { mac: string; vlan?: number }): boolean {
    const vlan = key.vlan ?? 0;
    if (!isValid(key.mac) || !validVlan(vlan)) throw new SteerInvalidError([{ at: 'del', message: `${key.mac} vlan ${vlan} is not a valid fdb key` }]);
    const k = encodeFdbKey({ mac: normalizeMac(key.mac), vlan });
    const cur = this.maps.fdb.lookup(k);
    if (!cur) return false;
    const have = decodeFdbEntry(k, this.maps.fdb.split(cur));
    if (have.origin !== 'manual') {
      throw new SteerInvalidError([{ at: 'del', message: `${have.mac} vlan ${vlan} is owned by ${have.origin}; remove it there` }]);
    }
    return this.maps.fdb.delete(k);
  }

  /** `steer detach`: removes everything steering created for this uplink, and closes the handle. */
  detach(): SteerDetachReport {
    this.close();
    return detachSteering(this.t.target);
  }
}

/** `steer detach` from the pins alone (daemon running or not). */
export function detachSteering(target: SteerTarget): SteerDetachReport {
  return detachResolved(resolveTarget(target, false));
}

function detachResolved(t: Resolved): SteerDetachReport {
  const report: SteerDetachReport = {
    uplink: t.uplink,
    pinDir: t.pinDir,
    found: existsSync(t.pinDir),
    uplinkXdp: 'none',
    portsDetached: [],
    pinsRemoved: [],
    pinsLeft: [],
  };
  if (!report.found) return report;
  const progs = openPinnedPrograms(t.pinDir);
  // Only the port list is needed, and it must be readable even when other
  // pins are missing or of another build's layout.
  const portInfo = openPinnedMap(STEER_MAPS.portInfo.name, join(t.pinDir, STEER_MAPS.portInfo.name), false);
  const ports =
    portInfo && portInfo.info.keySize === STEER_MAPS.portInfo.keySize && portInfo.info.valueSize === STEER_MAPS.portInfo.valueSize
      ? readPorts({ portInfo })
      : [];
  try {
    // The uplink first: from then on its frames take the stack.
    const uplinkIndex = t.ifindex;
    if (uplinkIndex === 0) report.uplinkXdp = 'device gone';
    else {
      const q = xdpQuery(uplinkIndex, t.netns);
      if (q.progId !== 0 && q.progId === progs.ingress?.id) {
        const fd = progs.ingress.fd;
        call(`detach from ${t.uplink}`, (b) => b.xdpDetach(uplinkIndex, { mode: attachedMode(q.attachMode), expectedFd: fd, ...t.netns }));
        report.uplinkXdp = 'detached';
      } else if (q.progId !== 0) report.uplinkXdp = 'foreign';
    }
    if (progs.portRx) {
      const portRx = progs.portRx;
      for (const p of ports) {
        let q;
        try {
          q = xdpQuery(p.ifindex, t.netns);
        } catch {
          continue; // the port device is gone, and its program with it
        }
        if (q.progId !== portRx.id) continue;
        call(`detach from ifindex ${p.ifindex}`, (b) =>
          b.xdpDetach(p.ifindex, { mode: attachedMode(q.attachMode), expectedFd: portRx.fd, ...t.netns }),
        );
        report.portsDetached.push(p.ifindex);
      }
    }
  } finally {
    for (const p of Object.values(progs)) p.close();
    portInfo?.close();
  }
  const pins = removePins(t.pinDir);
  report.pinsRemoved = pins.removed;
  report.pinsLeft = pins.left;
  return report;
}
