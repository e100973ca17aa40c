// rtnetlink notifications as typed events. The daemon watches offload devices
// here: the kernel deletes SAs offloaded to a device that goes down, moves or
// disappears without any XFRM notification, so these events are the only
// signal. An 'overrun' means events were lost: re-read the state with a dump.
import { EventEmitter } from 'node:events';
import { NetlinkDecodeError } from '../netlink/errors.js';
import { NETLINK_ROUTE, type NetlinkMessage } from '../netlink/message.js';
import { NetlinkListener } from '../netlink/listener.js';
import type { NetnsSpec } from '../netlink/netns.js';
import { toAddress, type Address } from './address-view.js';
import {
  AF_BRIDGE,
  RTM_DELADDR,
  RTM_DELLINK,
  RTM_DELROUTE,
  RTM_NEWADDR,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  RTNLGRP_IPV4_IFADDR,
  RTNLGRP_IPV4_ROUTE,
  RTNLGRP_IPV6_IFADDR,
  RTNLGRP_IPV6_ROUTE,
  RTNLGRP_LINK,
} from './constants.js';
import { toLink, type Link } from './link-view.js';
import { decodeRtMessage, type RtMessage } from './messages.js';
import { toRoute, type Route } from './route-view.js';

export interface LinkMonitorOptions {
  netns?: NetnsSpec;
  /** also IPv4/IPv6 address events (default false) */
  addresses?: boolean;
  /** also IPv4/IPv6 route events (default false) */
  routes?: boolean;
  /** socket receive buffer in bytes (default 8 MiB): what a burst may queue before 'overrun' */
  receiveBuffer?: number;
}

export interface LinkMonitorEvents {
  /** a link appeared or changed (flags, operstate, name, master ...) */
  newlink: [Link];
  /** a link was removed or moved to another netns (then `link.movedTo` is set); never a bridge port update */
  dellink: [Link];
  newaddr: [Address];
  deladdr: [Address];
  newroute: [Route];
  delroute: [Route];
  /** notifications were dropped by the kernel: re-dump links (and addresses, routes) */
  overrun: [];
  /** an undecodable notification or a socket failure */
  error: [Error];
}

export class LinkMonitor extends EventEmitter<LinkMonitorEvents> {
  readonly #listener: NetlinkListener;

  private constructor(listener: NetlinkListener) {
    super();
    this.#listener = listener;
    listener.on('message', (m) => this.#onMessage(m));
    listener.on('overrun', () => this.emit('overrun'));
    listener.on('error', (e) => this.emit('error', e));
  }

  static open(options: LinkMonitorOptions = {}): LinkMonitor {
    const groups = [RTNLGRP_LINK];
    if (options.addresses) groups.push(RTNLGRP_IPV4_IFADDR, RTNLGRP_IPV6_IFADDR);
    if (options.routes) groups.push(RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE);
    return new LinkMonitor(
      NetlinkListener.open(NETLINK_ROUTE, groups, {
        ...(options.netns ? { netns: options.netns } : {}),
        ...(options.receiveBuffer !== undefined ? { receiveBuffer: options.receiveBuffer } : {}),
      }),
    );
  }

  /** Whether an idle monitor keeps the process alive (default: yes). */
  keepAlive(on: boolean): void {
    this.#listener.keepAlive(on);
  }

  get overruns(): number {
    return this.#listener.overruns;
  }

  close(): void {
    this.#listener.close();
    this.removeAllListeners();
  }

  #onMessage(m: NetlinkMessage): void {
    if (![RTM_NEWLINK, RTM_DELLINK, RTM_NEWADDR, RTM_DELADDR, RTM_NEWROUTE, RTM_DELROUTE].includes(m.type)) return;
    let d: RtMessage;
    try {
      d = decodeRtMessage(m);
    } catch (e) {
      if (e instanceof NetlinkDecodeError) {
        this.emit('error', e);
        return;
      }
      throw e;
    }
    // The bridge notifies port changes as RTM_NEWLINK/DELLINK with ifi_family
    // AF_BRIDGE: a port leaving its bridge arrives as a DELLINK of a device
    // that still exists. They describe bridge ports, not links: skipped.
    if (d.family === 'link' && d.header.family === AF_BRIDGE) return;
    if (d.family === 'link') this.emit(d.type === RTM_NEWLINK ? 'newlink' : 'dellink', toLink(d.header, d.attrs, d.vfList));
    else if (d.family === 'addr') this.emit(d.type === RTM_NEWADDR ? 'newaddr' : 'deladdr', toAddress(d.header, d.attrs));
    else this.emit(d.type === RTM_NEWROUTE ? 'newroute' : 'delroute', toRoute(d.header, d.attrs));
  }
}
