// Where steering lives on bpffs and how steer.o is loaded against it:
// <pinRoot>/<uplink>/ holds the six maps (pinned by libbpf under their own
// names, reused on every later load) and the three programs (pinned by us
// under their names once they run). Nothing else is ever put there, so
// "everything we created" is exactly the names in layout.ts.
import { existsSync, mkdirSync, readdirSync, readlinkSync, rmdirSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfMap, BpfProgram, call, openPinnedMap, openPinnedProgram } from './bpf.js';
import { SteerBpfError, SteerPinError } from './errors.js';
import { STEER_MAPS, STEER_PROGRAMS, type SteerMapName, type SteerProgramName } from './layout.js';

export const DEFAULT_PIN_ROOT = '/sys/fs/bpf/ipsec-offload';
/** The standard bpffs mount point; mounted there when missing and allowed. */
export const BPFFS = '/sys/fs/bpf';

/** dist/bpf/steer.o of this package (src/steer and dist/steer are two levels below the root). */
export function defaultObjectFile(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'dist', 'bpf', 'steer.o');
}

/**
 * <pinRoot>/<uplink>. bpffs refuses names with a dot (reserved for the
 * kernel's own files), and VLAN devices are usually called "eth0.100": a dot
 * is written as "%2e" (and a percent sign as "%25"), so "eth0.100" pins
 * under "eth0%2e100".
 */
export function pinDirFor(pinRoot: string, uplink: string): string {
  if (!/^[^/\0\s]{1,15}$/.test(uplink) || uplink === '.' || uplink === '..') {
    throw new SteerPinError(pinRoot, `${JSON.stringify(uplink)} is not a device name`);
  }
  return join(pinRoot, uplink.replace(/%/g, '%25').replace(/\./g, '%2e'));
}

export type SteerMaps = Record<SteerMapName, BpfMap>;
export type SteerPrograms = Record<SteerProgramName, BpfProgram>;

const mapNames = Object.keys(STEER_MAPS) as SteerMapName[];
const programNames = Object.keys(STEER_PROGRAMS) as SteerProgramName[];

/**
 * This process's mount namespace against PID 1's: `other` under `ip netns
 * exec` or a service with private mounts; `unknown` when PID 1's cannot be
 * read (no /proc, or a sandbox that hides it).
 */
export function mountNamespaceVsInit(): 'same' | 'other' | 'unknown' {
  try {
    return readlinkSync('/proc/self/ns/mnt') === readlinkSync('/proc/1/ns/mnt') ? 'same' : 'other';
  } catch {
    return 'unknown';
  }
}

/**
 * Makes sure `pinRoot` can hold pins: its nearest existing ancestor must be on
 * bpffs. When it is not and `pinRoot` lies under /sys/fs/bpf, bpffs is
 * mounted there if `mount` allows (what iproute2 does too) — but only from
 * PID 1's mount namespace, where the mount outlives the daemon. `ip netns
 * exec` gives its command a mount namespace of its own with a fresh sysfs
 * (no bpffs on it); a bpffs mounted there is a new, empty instance that
 * goes away with the process. The pins would go with it while the programs
 * stay attached, and a restarted daemon could neither reuse nor detach them.
 */
export function ensurePinRoot(pinRoot: string, mount: boolean): void {
  let probe = pinRoot;
  while (!existsSync(probe)) probe = dirname(probe);
  const onBpffs = call(`statfs ${probe}`, (b) => b.bpffsIsMounted(probe));
  if (!onBpffs) {
    const underDefault = pinRoot === BPFFS || pinRoot.startsWith(`${BPFFS}/`);
    if (!(mount && underDefault && existsSync(BPFFS))) {
      throw new SteerPinError(pinRoot, `not on a bpf filesystem (mount one: mount -t bpf bpf ${underDefault ? BPFFS : dirname(pinRoot)})`);
    }
    const ns = mountNamespaceVsInit();
    if (ns !== 'same') {
      throw new SteerPinError(
        pinRoot,
        `not on a bpf filesystem, and this process is ${ns === 'other' ? 'not' : 'not provably'} in PID 1's mount namespace ` +
          '(ip netns exec?): a bpffs mounted here could vanish with the process, pins and all, leaving the programs attached; ' +
          'set netns: in the config instead of ip netns exec, or pin_root on a bpffs mounted before the daemon starts',
      );
    }
    call(`mount bpffs on ${BPFFS}`, (b) => b.bpffsMount(BPFFS));
  }
  mkdirSync(pinRoot, { recursive: true, mode: 0o700 });
}

/** Checks an open map against what steer.h says it must be. */
function checkMap(name: SteerMapName, m: BpfMap, where: string): void {
  const s = STEER_MAPS[name];
  const i = m.info;
  if (i.type !== s.type || i.keySize !== s.keySize || i.valueSize !== s.valueSize || i.maxEntries !== s.maxEntries) {
    throw new SteerPinError(
      where,
      `pinned map ${s.name} has type ${i.type} key ${i.keySize} value ${i.valueSize} max ${i.maxEntries}, ` +
        `this build needs type ${s.type} key ${s.keySize} value ${s.valueSize} max ${s.maxEntries} (steer detach, then attach again)`,
    );
  }
}

export interface LoadedObject {
  maps: SteerMaps;
  programs: SteerPrograms;
  /** names of maps that were already pinned (entries kept) */
  reused: string[];
}

/**
 * Loads steer.o with its maps reused from (or created and pinned in) pinDir;
 * without pinDir the maps are private to this load (benchmarks).
 * `attachTypes` loads steer_egress as a plain XDP program so that
 * BPF_PROG_TEST_RUN can run it (tests only).
 */
export function loadSteerObject(file: string, pinDir: string | undefined, attachTypes?: Partial<Record<string, 'xdp'>>): LoadedObject {
  let loaded;
  const options = {
    ...(pinDir !== undefined ? { pinRoot: pinDir } : {}),
    ...(attachTypes ? { attachTypes: attachTypes as Record<string, 'xdp'> } : {}),
  };
  try {
    loaded = call(`load ${file}`, (b) => b.bpfLoadObject(file, options));
  } catch (e) {
    if (e instanceof SteerBpfError && e.code === 'EPINMISMATCH') {
      const detail = e.message.replace(/^load [^:]*: /, '');
      throw new SteerPinError(pinDir ?? file, `${detail}: a build with another map layout pinned it (steer detach, then attach again)`);
    }
    throw e;
  }
  const close = (): void => {
    for (const m of loaded.maps) call('close', (b) => b.bpfClose(m.fd));
    for (const p of loaded.programs) call('close', (b) => b.bpfClose(p.fd));
  };
  try {
    const maps = {} as SteerMaps;
    for (const name of mapNames) {
      const spec = STEER_MAPS[name];
      const m = loaded.maps.find((x) => x.name === spec.name);
      if (!m) throw new SteerPinError(file, `has no map ${spec.name}`);
      maps[name] = new BpfMap(spec.name, m.fd, m, spec.perCpu);
      checkMap(name, maps[name], pinDir ?? file);
    }
    const programs = {} as SteerPrograms;
    for (const name of programNames) {
      const p = loaded.programs.find((x) => x.name === STEER_PROGRAMS[name]);
      if (!p) throw new SteerPinError(file, `has no program ${STEER_PROGRAMS[name]}`);
      programs[name] = new BpfProgram(p.name, p.fd, p.id, p.tag);
    }
    return { maps, programs, reused: loaded.maps.filter((m) => m.reused).map((m) => m.name) };
  } catch (e) {
    close();
    throw e;
  }
}

/** The pinned maps of an uplink, or undefined when nothing is pinned there. */
export function openPinnedMaps(pinDir: string): SteerMaps | undefined {
  const maps: Partial<SteerMaps> = {};
  const closeAll = (): void => Object.values(maps).forEach((m) => m.close());
  try {
    for (const name of mapNames) {
      const spec = STEER_MAPS[name];
      const m = openPinnedMap(spec.name, join(pinDir, spec.name), spec.perCpu);
      if (!m) {
        closeAll();
        return undefined;
      }
      maps[name] = m;
      checkMap(name, m, pinDir);
    }
  } catch (e) {
    closeAll();
    throw e;
  }
  return maps as SteerMaps;
}

/** Pinned programs (each may be absent: programs are pinned once attached). */
export function openPinnedPrograms(pinDir: string): Partial<SteerPrograms> {
  const out: Partial<SteerPrograms> = {};
  for (const name of programNames) {
    const p = openPinnedProgram(STEER_PROGRAMS[name], join(pinDir, STEER_PROGRAMS[name]));
    if (p) out[name] = p;
  }
  return out;
}

/** Pins `prog` under its name, replacing an older pin of ours. */
export function pinProgram(pinDir: string, prog: BpfProgram): void {
  const path = join(pinDir, prog.name);
  if (existsSync(path)) unlinkSync(path);
  call(`pin ${path}`, (b) => b.bpfObjPin(prog.fd, path));
}

/** Removes our pins (by name, nothing else) and the directory if that leaves it empty. */
export function removePins(pinDir: string): { removed: string[]; left: string[] } {
  const removed: string[] = [];
  const ours = [...mapNames.map((n) => STEER_MAPS[n].name), ...programNames.map((n) => STEER_PROGRAMS[n])];
  for (const name of ours) {
    const path = join(pinDir, name);
    if (existsSync(path)) {
      unlinkSync(path);
      removed.push(name);
    }
  }
  const left = existsSync(pinDir) ? readdirSync(pinDir) : [];
  if (existsSync(pinDir) && left.length === 0) rmdirSync(pinDir);
  return { removed, left };
}
