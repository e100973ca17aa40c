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

export interface NativeAddon {
  NetlinkSocket: NativeNetlinkSocketConstructor;
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
