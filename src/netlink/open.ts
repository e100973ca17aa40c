// Opens the addon's socket and turns its errors into NetlinkSocketError.
import { loadAddon, type NativeNetlinkSocket, type NativeSocketEvent } from '../native/addon.js';
import { NetlinkSocketError } from './errors.js';
import { describeNetns, netnsTarget, type NetnsSpec } from './netns.js';

export interface OpenOptions {
  netns?: NetnsSpec;
  /** SO_RCVBUF(FORCE) in bytes */
  receiveBuffer?: number;
  /** datagrams read per event-loop turn */
  batch?: number;
}

export function openNative(
  protocol: number,
  options: OpenOptions,
  onData: (datagrams: Buffer[]) => void,
  onEvent: (event: NativeSocketEvent) => void,
): NativeNetlinkSocket {
  const { NetlinkSocket } = loadAddon();
  try {
    return new NetlinkSocket(
      protocol,
      {
        ...(options.netns ? netnsTarget(options.netns) : {}),
        ...(options.receiveBuffer !== undefined ? { receiveBuffer: options.receiveBuffer } : {}),
        ...(options.batch !== undefined ? { batch: options.batch } : {}),
      },
      onData,
      onEvent,
    );
  } catch (e) {
    if (e instanceof NetlinkSocketError) throw e;
    const err = e as { message?: string; errno?: number };
    throw new NetlinkSocketError(`cannot open netlink protocol ${protocol} in ${describeNetns(options.netns)} (${err.message ?? String(e)})`, err.errno);
  }
}
