// Multicast subscriber: joins groups and hands every message to a callback.
// An overrun (ENOBUFS) means notifications were lost: the owner must re-dump.
import { EventEmitter } from 'node:events';
import type { NativeNetlinkSocket, NativeSocketEvent } from '../native/addon.js';
import { NetlinkDecodeError } from './errors.js';
import { splitMessages, type NetlinkMessage } from './message.js';
import { openNative, type OpenOptions } from './open.js';

export interface ListenerEvents {
  message: [NetlinkMessage];
  /** notifications were dropped by the kernel; state must be re-read */
  overrun: [];
  /** a datagram that does not parse, or a socket-level failure */
  error: [Error];
}

export class NetlinkListener extends EventEmitter<ListenerEvents> {
  readonly #sock: NativeNetlinkSocket;
  readonly groups = new Set<number>();
  overruns = 0;
  /** undecodable datagrams and socket errors nobody listened for */
  errors = 0;

  private constructor(protocol: number, options: OpenOptions) {
    super();
    this.#sock = openNative(
      protocol,
      { receiveBuffer: 8 << 20, ...options },
      (d) => this.#onData(d),
      (e) => this.#onEvent(e),
    );
  }

  static open(protocol: number, groups: readonly number[], options: OpenOptions = {}): NetlinkListener {
    const l = new NetlinkListener(protocol, options);
    try {
      for (const g of groups) l.join(g);
    } catch (e) {
      l.close();
      throw e;
    }
    return l;
  }

  join(group: number): void {
    this.#sock.addMembership(group);
    this.groups.add(group);
  }

  leave(group: number): void {
    this.#sock.dropMembership(group);
    this.groups.delete(group);
  }

  /** Whether an idle listener keeps the process alive (default: yes). */
  keepAlive(on: boolean): void {
    this.#sock.keepAlive(on);
  }

  get receiveBuffer(): number {
    return this.#sock.getReceiveBuffer();
  }

  close(): void {
    this.#sock.close();
    this.removeAllListeners();
  }

  #onData(datagrams: Buffer[]): void {
    for (const d of datagrams) {
      let messages: NetlinkMessage[];
      try {
        messages = splitMessages(d);
      } catch (e) {
        if (e instanceof NetlinkDecodeError) {
          this.#fail(e);
          continue;
        }
        throw e;
      }
      for (const m of messages) this.emit('message', m);
    }
  }

  #onEvent(e: NativeSocketEvent): void {
    if (e.type === 'enobufs') {
      this.overruns++;
      this.emit('overrun');
    } else if (e.type === 'error') {
      this.#fail(new Error(`netlink listener: ${e.message ?? e.code ?? 'socket error'}`));
    }
  }

  // An EventEmitter throws on 'error' without a listener; a listener socket
  // must not crash its owner for one bad datagram: count it instead.
  #fail(e: Error): void {
    this.errors++;
    if (this.listenerCount('error') > 0) this.emit('error', e);
  }
}
