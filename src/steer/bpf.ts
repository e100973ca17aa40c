// Typed handles over the addon's libbpf calls: maps and programs as objects
// that own one fd each, per-CPU values split and joined, every failure a
// SteerBpfError. Nothing here knows about steering semantics.
import { loadAddon, type NativeBpfFunctions, type NativeBpfMapInfo, type NativeNetnsOption, type NativeXdpMode, type NativeXdpQuery } from '../native/addon.js';
import { bpfError } from './errors.js';
import { perCpuStride } from './layout.js';

export type XdpMode = NativeXdpMode;
export type XdpQuery = NativeXdpQuery;
export type NetnsOption = NativeNetnsOption;

/** BPF_ANY / BPF_NOEXIST / BPF_EXIST */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;

let addon: NativeBpfFunctions | undefined;
export function bpf(): NativeBpfFunctions {
  addon ??= loadAddon();
  return addon;
}

/** Runs one addon call; anything it throws becomes a SteerBpfError naming `what`. */
export function call<T>(what: string, fn: (b: NativeBpfFunctions) => T): T {
  const b = bpf();
  try {
    return fn(b);
  } catch (e) {
    throw bpfError(what, e);
  }
}

let cpus: number | undefined;
export function possibleCpus(): number {
  cpus ??= call('possible CPUs', (b) => b.bpfPossibleCpus());
  return cpus;
}

export class BpfMap {
  private closed = false;
  readonly perCpu: boolean;
  /** bytes of one element's value as user space passes it (all CPUs for per-CPU maps) */
  readonly valueBytes: number;

  constructor(
    readonly name: string,
    readonly fd: number,
    readonly info: NativeBpfMapInfo,
    perCpu: boolean,
  ) {
    this.perCpu = perCpu;
    this.valueBytes = perCpu ? perCpuStride(info.valueSize) * possibleCpus() : info.valueSize;
  }

  update(key: Buffer, value: Buffer, flags: number = BPF_ANY, netns?: NetnsOption): void {
    call(`update ${this.name}`, (b) => b.bpfMapUpdate(this.fd, key, value, flags, netns));
  }

  lookup(key: Buffer): Buffer | null {
    return call(`lookup ${this.name}`, (b) => b.bpfMapLookup(this.fd, key));
  }

  /** true if the key was there */
  delete(key: Buffer): boolean {
    return call(`delete ${this.name}`, (b) => b.bpfMapDelete(this.fd, key));
  }

  keys(): Buffer[] {
    return call(`iterate ${this.name}`, (b) => b.bpfMapKeys(this.fd));
  }

  /** A per-CPU value with `one` copied to every CPU's slot. */
  replicate(one: Buffer): Buffer {
    const stride = perCpuStride(this.info.valueSize);
    const out = Buffer.alloc(this.valueBytes);
    for (let off = 0; off < out.length; off += stride) one.copy(out, off, 0, this.info.valueSize);
    return out;
  }

  /** A per-CPU value as one Buffer per CPU. */
  split(all: Buffer): Buffer[] {
    const stride = perCpuStride(this.info.valueSize);
    const out: Buffer[] = [];
    for (let off = 0; off + this.info.valueSize <= all.length; off += stride) out.push(all.subarray(off, off + this.info.valueSize));
    return out;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    call(`close ${this.name}`, (b) => b.bpfClose(this.fd));
  }
}

export interface TestRunResult {
  retval: number;
  data: Buffer;
  /** average per repetition, as the kernel measured it */
  durationNs: number;
}

export class BpfProgram {
  private closed = false;

  constructor(
    readonly name: string,
    readonly fd: number,
    readonly id: number,
    readonly tag: string,
  ) {}

  /** BPF_PROG_TEST_RUN (non-live): the verdict and the frame as the program left it. */
  testRun(data: Buffer, options: { repeat?: number; ingressIfindex?: number } & NetnsOption = {}): TestRunResult {
    return call(`test run ${this.name}`, (b) => b.bpfProgTestRun(this.fd, data, options));
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    call(`close ${this.name}`, (b) => b.bpfClose(this.fd));
  }
}

/**
 * The object pinned at `path` as `wrap` makes it from its fd, or undefined
 * when nothing is pinned there. The fd is closed again if `wrap` throws.
 */
function openPinned<T>(what: string, path: string, wrap: (fd: number) => T): T | undefined {
  let fd: number;
  try {
    fd = bpf().bpfObjGet(path);
  } catch (e) {
    const err = bpfError(`open pinned ${what} ${path}`, e);
    if (err.code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    return wrap(fd);
  } catch (e) {
    bpf().bpfClose(fd);
    throw e;
  }
}

/** A pinned program, or undefined when nothing is pinned at `path`. */
export function openPinnedProgram(name: string, path: string): BpfProgram | undefined {
  return openPinned('program', path, (fd) => {
    const info = call(`program info ${path}`, (b) => b.bpfProgInfo(fd));
    return new BpfProgram(name, fd, info.id, info.tag);
  });
}

/** A program by its kernel id (e.g. the one attached to a device). */
export function programById(id: number): BpfProgram {
  const fd = call(`program id ${id}`, (b) => b.bpfProgGetFdById(id));
  const info = call(`program info id ${id}`, (b) => b.bpfProgInfo(fd));
  return new BpfProgram(info.name, fd, info.id, info.tag);
}

/** A pinned map, or undefined when nothing is pinned at `path`. */
export function openPinnedMap(name: string, path: string, perCpu: boolean): BpfMap | undefined {
  return openPinned('map', path, (fd) => new BpfMap(name, fd, call(`map info ${path}`, (b) => b.bpfMapInfo(fd)), perCpu));
}

export function xdpQuery(ifindex: number, netns?: NetnsOption): XdpQuery {
  return call(`xdp query ifindex ${ifindex}`, (b) => b.xdpQuery(ifindex, netns));
}
