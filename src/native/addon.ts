// Loads the compiled node-addon-api binary and gives its exports TypeScript
// types. Everything that touches the kernel through our own sockets goes via
// this one module.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

export interface NativeSocketOptions {
  netnsPath?: string;
  netnsFd?: number;
  receiveBuffer?: number;
  batch?: number;
  extAck?: boolean;
  strictCheck?: boolean;
  capAck?: boolean;
}

/** Out-of-band conditions the receive loop reports instead of throwing. */
export type NativeSocketEvent =
  | { type: 'enobufs'; errno: number; code: string }
  | { type: 'error'; errno?: number; code?: string; message?: string }
  | { type: 'truncated'; size: number }
  | { type: 'foreign'; portId: number };

export interface NativeNetlinkSocket {
  send(data: Buffer | readonly Buffer[]): number;
  addMembership(group: number): void;
  dropMembership(group: number): void;
  setReceiveBuffer(bytes: number): number;
  getReceiveBuffer(): number;
  keepAlive(on: boolean): void;
  close(): void;
  readonly portId: number;
  readonly protocol: number;
}

export interface NativeNetlinkSocketConstructor {
  new (
    protocol: number,
    options: NativeSocketOptions,
    onData: (datagrams: Buffer[]) => void,
    onEvent: (event: NativeSocketEvent) => void,
  ): NativeNetlinkSocket;
}

/** Netns for one libbpf call (same shape as the socket options). */
export interface NativeNetnsOption {
  netnsPath?: string;
  netnsFd?: number;
}

export interface NativeBpfProgram {
  name: string;
  section: string;
  fd: number;
  id: number;
  tag: string;
  expectedAttachType: number;
}

export interface NativeBpfMapInfo {
  id: number;
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
}

export interface NativeBpfMap extends NativeBpfMapInfo {
  fd: number;
  /** the pin existed before the load: the map (and its entries) was reused */
  reused: boolean;
  pinPath?: string;
}

export type NativeXdpMode = 'native' | 'generic';

export interface NativeXdpQuery {
  attachMode: 'none' | 'native' | 'generic' | 'hw' | 'multi' | 'unknown';
  progId: number;
  drvProgId: number;
  skbProgId: number;
  hwProgId: number;
}

/** libbpf calls (native/src/bpf_*.cc). Errors carry errno, code, op and libbpf's log. */
export interface NativeBpfFunctions {
  bpfLoadObject(file: string, options: { pinRoot?: string; attachTypes?: Record<string, 'xdp'> }): {
    programs: NativeBpfProgram[];
    maps: NativeBpfMap[];
  };
  bpfMapUpdate(fd: number, key: Buffer, value: Buffer, flags: number, netns?: NativeNetnsOption): void;
  bpfMapLookup(fd: number, key: Buffer): Buffer | null;
  bpfMapDelete(fd: number, key: Buffer): boolean;
  bpfMapKeys(fd: number): Buffer[];
  bpfMapInfo(fd: number): NativeBpfMapInfo;
  bpfPossibleCpus(): number;
  xdpAttach(ifindex: number, progFd: number, options: { mode?: 'auto' | NativeXdpMode; replaceFd?: number } & NativeNetnsOption): NativeXdpMode;
  xdpDetach(ifindex: number, options: { mode: NativeXdpMode; expectedFd?: number } & NativeNetnsOption): void;
  xdpQuery(ifindex: number, netns?: NativeNetnsOption): NativeXdpQuery;
  ifNameToIndex(name: string, netns?: NativeNetnsOption): number;
  ifIndexToName(ifindex: number, netns?: NativeNetnsOption): string | null;
  bpfProgTestRun(
    fd: number,
    data: Buffer,
    options: { repeat?: number; ingressIfindex?: number; rxQueueIndex?: number } & NativeNetnsOption,
  ): { retval: number; data: Buffer; durationNs: number };
  bpfObjGet(path: string): number;
  bpfObjPin(fd: number, path: string): void;
  bpfClose(fd: number): void;
  bpfProgGetFdById(id: number): number;
  bpfMapGetFdById(id: number): number;
  bpfProgInfo(fd: number): { id: number; name: string; tag: string; type: number };
  bpffsIsMounted(path: string): boolean;
  bpffsMount(path: string): void;
}

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

export interface NativeAddon extends NativeBpfFunctions {
  NetlinkSocket: NativeNetlinkSocketConstructor;
  /** SO_PEERCRED of a connected unix socket */
  peerCredentials(fd: number): PeerCredentials;
}

/** The addon could not be loaded (not built, wrong architecture, ...). */
export class NativeAddonError extends Error {
  override readonly name = 'NativeAddonError';
}

let cached: NativeAddon | undefined;

export function loadAddon(): NativeAddon {
  if (cached) return cached;
  // src/native and dist/native are both two levels below the package root.
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const file = join(root, 'native', 'build', 'Release', 'ipsec_offload.node');
  if (!existsSync(file)) {
    throw new NativeAddonError(`native addon not built: ${file} is missing (run "npm ci" or "npm rebuild ipsec-offload")`);
  }
  const require = createRequire(import.meta.url);
  cached = require(file) as NativeAddon;
  return cached;
}
