// XFRM multicast as typed events. On 'overrun' notifications were lost: the
// owner must re-dump states and policies, its view is stale.
import { EventEmitter } from 'node:events';
import { NetlinkDecodeError } from '../netlink/errors.js';
import { NetlinkListener } from '../netlink/listener.js';
import { NETLINK_XFRM } from '../netlink/message.js';
import type { NetnsSpec } from '../netlink/netns.js';
import { XFRMNLGRP, type XfrmGroupName } from './constants.js';
import { eventFromMessage, type XfrmEvent } from './events.js';
import { decodeAnyXfrm } from './messages.js';

export type MonitorGroup = Extract<XfrmGroupName, 'sa' | 'policy' | 'expire' | 'aevents' | 'acquire' | 'mapping'>;

export const ALL_MONITOR_GROUPS: readonly MonitorGroup[] = ['sa', 'policy', 'expire', 'aevents', 'acquire', 'mapping'];

export interface XfrmMonitorOptions {
  netns?: NetnsSpec;
  groups?: readonly MonitorGroup[];
  /** SO_RCVBUF for the listener (default 8 MiB) */
  receiveBuffer?: number;
  /** whether the open monitor alone keeps the process alive (default true) */
  keepAlive?: boolean;
}

export interface XfrmMonitorEvents {
  event: [XfrmEvent];
  /** the kernel dropped notifications (ENOBUFS): re-dump */
  overrun: [];
  /** a notification that does not decode, or a socket failure; the monitor keeps running */
  error: [Error];
}

export class XfrmMonitor extends EventEmitter<XfrmMonitorEvents> {
  readonly #listener: NetlinkListener;
  readonly groups: readonly MonitorGroup[];
  /** notifications that did not decode */
  decodeErrors = 0;

  private constructor(listener: NetlinkListener, groups: readonly MonitorGroup[]) {
    super();
    this.#listener = listener;
    this.groups = groups;
    listener.on('message', (m) => {
      let event: XfrmEvent;
      try {
        const d = decodeAnyXfrm(m);
        if (!d) return;
        event = eventFromMessage(d);
      } catch (e) {
        if (!(e instanceof NetlinkDecodeError)) throw e;
        this.decodeErrors++;
        this.#emitError(e);
        return;
      } finally {
        // The message carried keys (NEWSA/DELSA/EXPIRE): they now live only in SecretBytes.
        m.payload.fill(0);
      }
      this.emit('event', event);
    });
    listener.on('overrun', () => this.emit('overrun'));
    listener.on('error', (e) => this.#emitError(e));
  }

  static open(opts: XfrmMonitorOptions = {}): XfrmMonitor {
    const groups = opts.groups ?? ALL_MONITOR_GROUPS;
    const listener = NetlinkListener.open(
      NETLINK_XFRM,
      groups.map((g) => XFRMNLGRP[g]),
      {
        ...(opts.netns ? { netns: opts.netns } : {}),
        ...(opts.receiveBuffer !== undefined ? { receiveBuffer: opts.receiveBuffer } : {}),
      },
    );
    if (opts.keepAlive === false) listener.keepAlive(false);
    return new XfrmMonitor(listener, groups);
  }

  get overruns(): number {
    return this.#listener.overruns;
  }

  close(): void {
    this.#listener.close();
    this.removeAllListeners();
  }

  #emitError(e: Error): void {
    // An EventEmitter 'error' without a listener would throw; a monitor must survive bad input.
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }
}
