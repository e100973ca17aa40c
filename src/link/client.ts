// Links, addresses and routes of one network namespace over rtnetlink.
// Devices are named by name or ifindex; names are resolved with a GETLINK
// first, as iproute2 does, so every change is sent by ifindex.
import { closeSync, openSync } from 'node:fs';
import { NetlinkDecodeError, NetlinkError } from '../netlink/errors.js';
import { NETLINK_ROUTE, type NetlinkMessage, type OutgoingMessage } from '../netlink/message.js';
import { netnsTarget, type NetnsSpec } from '../netlink/netns.js';
import { NetlinkRequester } from '../netlink/requester.js';
import { normalizeAddress } from '../netlink/codec/address.js';
import { toAddress, type Address } from './address-view.js';
import { ETH_P_8021AD, ETH_P_8021Q, RTM_NEWADDR, RTM_NEWLINK, RTM_NEWROUTE, type MacvlanMode } from './constants.js';
import { toLink, type Link } from './link-view.js';
import { decodeRtMessage, describers, type RtFamily } from './messages.js';
import {
  addAddressRequest,
  addRouteRequest,
  deleteAddressRequest,
  deleteLinkRequest,
  deleteRouteRequest,
  dumpAddressesRequest,
  dumpLinksRequest,
  dumpRoutesRequest,
  getLinkRequest,
  getRouteRequest,
  macvlanRequest,
  setLinkRequest,
  setNetnsRequest,
  setUpRequest,
  setVfRequest,
  vethRequest,
  vlanRequest,
  xfrmRequest,
  type AddressOptions,
  type LinkQuery,
  type NetnsTargetRef,
  type RouteSpec,
  type VfSettings,
} from './requests.js';
import { toRoute, type Route } from './route-view.js';

/** A device by name or by ifindex (in the client's netns). */
export type LinkRef = string | number;

export interface LinkClientOptions {
  /** the namespace to work in (default: the process's own) */
  netns?: NetnsSpec;
  /** per-request deadline */
  timeoutMs?: number;
}

/** A route to add, delete or replace; `dev` is resolved to RTA_OIF. */
export type RouteInput = Omit<RouteSpec, 'oif'> & { dev?: LinkRef };

const ENODEV = 19;

export class LinkClient {
  readonly #nl: NetlinkRequester;
  readonly #timeoutMs: number | undefined;

  private constructor(nl: NetlinkRequester, timeoutMs: number | undefined) {
    this.#nl = nl;
    this.#timeoutMs = timeoutMs;
  }

  static open(options: LinkClientOptions = {}): LinkClient {
    const nl = NetlinkRequester.open(NETLINK_ROUTE, options.netns ? { netns: options.netns } : {});
    return new LinkClient(nl, options.timeoutMs);
  }

  close(): void {
    this.#nl.close();
  }

  // ---- links ----

  async listLinks(q: LinkQuery = {}): Promise<Link[]> {
    const replies = await this.#dump(dumpLinksRequest(q), 'link');
    return replies.filter((m) => m.type === RTM_NEWLINK).map((m) => this.#link(m));
  }

  /** Throws NetlinkError (ENODEV) when there is no such device. */
  async getLink(ref: LinkRef, q: LinkQuery = {}): Promise<Link> {
    const replies = await this.#request(getLinkRequest(typeof ref === 'number' ? { index: ref } : { name: ref }, q), 'link');
    const m = replies.find((r) => r.type === RTM_NEWLINK);
    if (!m) throw new NetlinkDecodeError('RTM_GETLINK answer', 0, 'the kernel acked without an RTM_NEWLINK');
    return this.#link(m);
  }

  /** Like getLink, but undefined when the device does not exist. */
  async findLink(ref: LinkRef, q: LinkQuery = {}): Promise<Link | undefined> {
    try {
      return await this.getLink(ref, q);
    } catch (e) {
      if (e instanceof NetlinkError && e.errno === ENODEV) return undefined;
      throw e;
    }
  }

  async createVeth(name: string, peer: string, opts: { peerNetns?: NetnsSpec } = {}): Promise<Link> {
    await this.#withNetns(opts.peerNetns, (target) => this.#request(vethRequest(name, peer, target), 'link'));
    return this.getLink(name);
  }

  async createMacvlan(name: string, parent: LinkRef, opts: { mode?: MacvlanMode } = {}): Promise<Link> {
    await this.#request(macvlanRequest(name, await this.#index(parent), opts.mode), 'link');
    return this.getLink(name);
  }

  async createVlan(name: string, parent: LinkRef, id: number, opts: { protocol?: '802.1Q' | '802.1ad' } = {}): Promise<Link> {
    const proto = opts.protocol === undefined ? undefined : opts.protocol === '802.1ad' ? ETH_P_8021AD : ETH_P_8021Q;
    await this.#request(vlanRequest(name, await this.#index(parent), id, proto), 'link');
    return this.getLink(name);
  }

  /** An xfrm interface: policies and SAs with XFRMA_IF_ID = ifId route through it. */
  async createXfrm(name: string, opts: { ifId: number; link?: LinkRef }): Promise<Link> {
    const link = opts.link === undefined ? undefined : await this.#index(opts.link);
    await this.#request(xfrmRequest(name, { ifId: opts.ifId, ...(link !== undefined ? { link } : {}) }), 'link');
    return this.getLink(name);
  }

  async deleteLink(ref: LinkRef): Promise<void> {
    await this.#request(deleteLinkRequest(await this.#index(ref)), 'link');
  }

  async setUp(ref: LinkRef): Promise<void> {
    await this.#request(setUpRequest(await this.#index(ref), true), 'link');
  }

  async setDown(ref: LinkRef): Promise<void> {
    await this.#request(setUpRequest(await this.#index(ref), false), 'link');
  }

  async rename(ref: LinkRef, name: string): Promise<void> {
    await this.#request(setLinkRequest(await this.#index(ref), { ifname: name }), 'link');
  }

  /** '' removes the alias. */
  async setAlias(ref: LinkRef, alias: string): Promise<void> {
    await this.#request(setLinkRequest(await this.#index(ref), { ifalias: alias }), 'link');
  }

  async setMtu(ref: LinkRef, mtu: number): Promise<void> {
    await this.#request(setLinkRequest(await this.#index(ref), { mtu }), 'link');
  }

  /** Moves the device into another netns (the kernel deletes SAs offloaded to it). */
  async setNetns(ref: LinkRef, target: NetnsSpec): Promise<void> {
    const index = await this.#index(ref);
    await this.#withNetns(target, (t) => {
      if (!t) throw new TypeError('unreachable: a netns was given');
      return this.#request(setNetnsRequest(index, t), 'link');
    });
  }

  /** Sets VF settings on an SR-IOV PF (`ip link set PF vf N ...`). */
  async setVf(ref: LinkRef, vf: number, settings: VfSettings): Promise<void> {
    await this.#request(setVfRequest(await this.#index(ref), vf, settings), 'link');
  }

  // ---- addresses ----

  /** The kernel filters by family and device. */
  async listAddresses(q: { family?: number; link?: LinkRef } = {}): Promise<Address[]> {
    const index = q.link === undefined ? undefined : await this.#index(q.link);
    const req = dumpAddressesRequest({ ...(q.family !== undefined ? { family: q.family } : {}), ...(index !== undefined ? { index } : {}) });
    const replies = await this.#dump(req, 'addr');
    return replies.filter((m) => m.type === RTM_NEWADDR).map((m) => {
      const d = decodeRtMessage(m);
      if (d.family !== 'addr') throw new TypeError('unreachable: RTM_NEWADDR is an address message');
      return toAddress(d.header, d.attrs);
    });
  }

  /**
   * The device that owns a local address: how charon picks the device to
   * offload an SA to (the one holding the SA's local address).
   */
  async findAddressOwner(address: string): Promise<Link | undefined> {
    const wanted = normalizeAddress(address);
    const owner = (await this.listAddresses()).find((a) => a.address !== '' && normalizeAddress(a.address) === wanted);
    return owner ? this.findLink(owner.ifindex) : undefined;
  }

  /** "10.1.0.1/24" */
  async addAddress(ref: LinkRef, cidr: string, opts: AddressOptions = {}): Promise<void> {
    await this.#request(addAddressRequest(await this.#index(ref), cidr, opts), 'addr');
  }

  async deleteAddress(ref: LinkRef, cidr: string): Promise<void> {
    await this.#request(deleteAddressRequest(await this.#index(ref), cidr), 'addr');
  }

  // ---- routes ----

  async addRoute(r: RouteInput): Promise<void> {
    await this.#request(addRouteRequest(await this.#resolveRoute(r)), 'route');
  }

  /** `ip route replace`: adds, or replaces the route with the same key. */
  async replaceRoute(r: RouteInput): Promise<void> {
    await this.#request(addRouteRequest(await this.#resolveRoute(r), true), 'route');
  }

  async deleteRoute(r: RouteInput): Promise<void> {
    await this.#request(deleteRouteRequest(await this.#resolveRoute(r)), 'route');
  }

  /** `ip route get`: the route the kernel would use (a local address answers with dev lo). */
  async getRoute(dst: string, q: { src?: string; dev?: LinkRef; mark?: number } = {}): Promise<Route> {
    const oif = q.dev === undefined ? undefined : await this.#index(q.dev);
    const req = getRouteRequest(dst, {
      ...(q.src !== undefined ? { src: q.src } : {}),
      ...(oif !== undefined ? { oif } : {}),
      ...(q.mark !== undefined ? { mark: q.mark } : {}),
    });
    const m = (await this.#request(req, 'route')).find((r) => r.type === RTM_NEWROUTE);
    if (!m) throw new NetlinkDecodeError('RTM_GETROUTE answer', 0, 'the kernel acked without an RTM_NEWROUTE');
    return this.#toRoute(m);
  }

  /** All routes of all tables, or of one table (filtered by the kernel). */
  async listRoutes(q: { family?: number; table?: number } = {}): Promise<Route[]> {
    const replies = await this.#dump(dumpRoutesRequest(q), 'route');
    return replies.filter((m) => m.type === RTM_NEWROUTE).map((m) => this.#toRoute(m));
  }

  // ---- plumbing ----

  #opts(family: RtFamily): { describe: (typeof describers)[RtFamily]; timeoutMs?: number } {
    return { describe: describers[family], ...(this.#timeoutMs !== undefined ? { timeoutMs: this.#timeoutMs } : {}) };
  }

  #request(m: OutgoingMessage, family: RtFamily): Promise<NetlinkMessage[]> {
    return this.#nl.request(m, this.#opts(family));
  }

  #dump(m: OutgoingMessage, family: RtFamily): Promise<NetlinkMessage[]> {
    return this.#nl.dump(m, this.#opts(family));
  }

  #link(m: NetlinkMessage): Link {
    const d = decodeRtMessage(m);
    if (d.family !== 'link') throw new TypeError('unreachable: RTM_NEWLINK is a link message');
    return toLink(d.header, d.attrs, d.vfList);
  }

  #toRoute(m: NetlinkMessage): Route {
    const d = decodeRtMessage(m);
    if (d.family !== 'route') throw new TypeError('unreachable: RTM_NEWROUTE is a route message');
    return toRoute(d.header, d.attrs);
  }

  async #index(ref: LinkRef): Promise<number> {
    return typeof ref === 'number' ? ref : (await this.getLink(ref)).index;
  }

  async #resolveRoute(r: RouteInput): Promise<RouteSpec> {
    const { dev, ...rest } = r;
    return dev === undefined ? rest : { ...rest, oif: await this.#index(dev) };
  }

  /** Runs `fn` with a netns reference the kernel accepts (an fd we open and close, or a pid). */
  async #withNetns<T>(ns: NetnsSpec | undefined, fn: (t: NetnsTargetRef | undefined) => Promise<T>): Promise<T> {
    if (!ns) return fn(undefined);
    if ('pid' in ns) return fn({ pid: ns.pid });
    const target = netnsTarget(ns);
    if ('netnsFd' in target) return fn({ fd: target.netnsFd });
    const fd = openSync(target.netnsPath, 'r');
    try {
      return await fn({ fd });
    } finally {
      closeSync(fd);
    }
  }
}
