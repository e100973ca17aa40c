// The PF side of the VF proxy: accepts agents on the mailbox, identifies each
// connection as one VF from the PF's own config and kernel facts, installs
// the VFs' CHILD_SAs on the host (software first; the offload planner and
// executor promote them to the PF's device like any SA, within the VF's
// hardware quota), keeps each VF's domain (xfrm interface, policies, routes)
// in step, and removes a VF's SAs when they go stale:
//  - its agent says hello with a new epoch (tenant rebooted): before the
//    hello is answered;
//  - it is silent longer than pf.stale_timeout;
//  - the PF's settings of the VF change (MAC, VLAN, link disabled, VF gone);
//  - after a daemon restart, it does not come back within pf.restart_grace;
//  - the operator says so (`vf reset`).
// Everything a VF owns is recorded in the ownership store before it is
// installed and forgotten after it is deleted. All changes to one VF run one
// at a time (a per-VF queue).
import type { Socket } from 'node:net';
import type { LinkClient } from '../../link/client.js';
import type { LinkMonitor } from '../../link/monitor.js';
import type { Link } from '../../link/link-view.js';
import type { EventLogger } from '../../log/logger.js';
import { spiText } from '../../log/events.js';
import { NetlinkError } from '../../netlink/errors.js';
import type { XfrmClient } from '../../xfrm/client.js';
import type { XfrmMonitor } from '../../xfrm/monitor.js';
import type { XfrmEvent } from '../../xfrm/events.js';
import { XfrmFinalStateUnavailableError } from '../../xfrm/errors.js';
import { wipeStateKeys, type XfrmState } from '../../xfrm/state.js';
import { isLarval, kernelSaInfo } from '../../offload/kernel-view.js';
import { applyKernelSa, applyKernelSaDeleted, applyOwnedChild, applyOwnedChildDown, type ChildInfo } from '../../offload/model.js';
import { saKey, type OffloadState } from '../../offload/types.js';
import type { PfConfig } from '../config.js';
import type { AnyFrame, Frame } from '../protocol/codec.js';
import { REASONS, REKEY_REASONS, type RekeyReasonName, type ReasonName } from '../protocol/constants.js';
import { encodeFrame } from '../protocol/codec.js';
import { PfConnection, wipeFrame, type Answer } from './connection.js';
import { VfDomainError, VfDomains } from './domain.js';
import { authorizeChild } from './host-child.js';
import { identify, type PeerFacts } from './identity.js';
import { MailboxListeners } from './listeners.js';
import {
  addOwnedChild,
  emptyOwnership,
  forgetOwnedChild,
  newPolicies,
  newRoutes,
  policyId,
  pruneRetired,
  removeOwnedChild,
  reqidFor,
  saId,
  vfOwnership,
  type OwnedChild,
  type OwnedSa,
  type Ownership,
} from './ownership.js';
import { OwnershipStore, OwnershipStoreError } from './store.js';
import { settingsChange, staleNow, type Phase, type VfSettings } from './triggers.js';
import { childKey, identityRules, ownerOf, vfSpecs, type VfSpec } from './vfs.js';
import { RefusalLog } from './refusal-log.js';

const ESRCH = 3;
const EEXIST = 17;
const ENODEV = 19;
const TICK_MS = 1000;

/** What the PF needs of the offload service: its one model, and a way to run the planner and wait for it. */
export interface OffloadHooks {
  readonly state: OffloadState;
  schedule(): void;
  idle(): Promise<void>;
}

export interface PfServiceDeps {
  config: PfConfig;
  links: LinkClient;
  linkMonitor: LinkMonitor;
  xfrm: XfrmClient;
  /** expire notifications (soft: the VF is asked to rekey; hard: the CHILD_SA is gone) */
  xfrmMonitor?: XfrmMonitor;
  offload: OffloadHooks;
  log: EventLogger;
  /** outbound non-ESN SAs past this sequence number make the PF ask for a rekey (offload.seq_rekey_at) */
  seqRekeyAt: number;
  clock?: () => number;
}

interface Runtime {
  spec: VfSpec;
  phase: Phase;
  conn: PfConnection | undefined;
  peer: string | undefined;
  epoch: string | undefined;
  lastSeen: number;
  graceUntil: number | undefined;
  settings: VfSettings | undefined;
  ifindex: number | undefined;
  error: string | undefined;
  lastCleanup: { reason: string; at: number; count: number } | undefined;
  refusals: number;
  lastRefusal: { request: string; reason: string; message: string; at: number } | undefined;
  /** rekeys asked, by uniqueid (asked once) */
  rekeyAsked: Set<number>;
  chain: Promise<unknown>;
}

/** One line of `vf list` (stable field names: the --json output). */
export interface VfRow {
  name: string;
  /** SR-IOV VF index on the PF; null: a domain without one (MAC/VLAN from the config) */
  vf: number | null;
  present: boolean;
  mac: string | null;
  vlan: number | null;
  linkState: string | null;
  ifId: number;
  interface: string;
  ifindex: number | null;
  state: Phase;
  peer: string | null;
  epoch: string | null;
  /** ms since the agent's last request; null: never */
  lastSeenMs: number | null;
  /** restoring: ms left of the restart grace */
  graceLeftMs: number | null;
  children: number;
  sas: number;
  /** SAs on the PF's device / the VF's quota */
  hwSlots: { used: number; quota: number };
  maxSas: number;
  software: number;
  retired: number;
  refusals: number;
  lastRefusal: { request: string; reason: string; message: string; msAgo: number } | null;
  lastCleanup: { reason: string; count: number; msAgo: number } | null;
  error: string | null;
}

export interface VfListView {
  device: string;
  listening: { unix: string | null; tls: string | null };
  vfs: VfRow[];
}

export class VfNotFoundError extends Error {
  override readonly name = 'VfNotFoundError';
}

const hex64 = (n: bigint): string => n.toString(16).padStart(16, '0');
const errText = (e: unknown): string => (e instanceof NetlinkError ? `${e.code}${e.extack ? ` ${e.extack}` : ''}` : (e as Error).message);
const isErrno = (e: unknown, n: number): boolean => e instanceof NetlinkError && e.errno === n;

export class PfService {
  readonly #d: PfServiceDeps;
  readonly #clock: () => number;
  #cfg: PfConfig;
  readonly #rt = new Map<string, Runtime>();
  #own: Ownership = emptyOwnership();
  readonly #store: OwnershipStore;
  readonly #domains: VfDomains;
  readonly #listeners: MailboxListeners;
  readonly #refusals: RefusalLog;
  readonly #conns = new Set<PfConnection>();
  #pfIndex: number | undefined;
  #tick: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #debounce: NodeJS.Timeout | undefined;
  #stopped = false;
  readonly #off: (() => void)[] = [];

  constructor(d: PfServiceDeps) {
    this.#d = d;
    this.#clock = d.clock ?? Date.now;
    this.#cfg = d.config;
    this.#store = new OwnershipStore(d.config.store);
    this.#domains = new VfDomains(d.links, d.xfrm, d.config.mtu);
    this.#refusals = new RefusalLog(d.log, this.#clock);
    for (const spec of vfSpecs(d.config)) this.#rt.set(spec.name, fresh(spec));
    this.#listeners = new MailboxListeners(
      { ...(d.config.unix ? { unix: d.config.unix } : {}), ...(d.config.tls ? { tls: d.config.tls } : {}) },
      {
        connection: (s, peer) => this.#accept(s, peer),
        refused: (transport, reason, remote) => this.#refusals.refuse(undefined, `${transport} ${remote}`, 'connection', 'identity', reason),
      },
    );
  }

  /** The TLS port bound (tests listen on port 0). */
  get tlsPort(): number {
    return this.#listeners.tlsPort;
  }

  get ownership(): Ownership {
    return this.#own;
  }

  async start(): Promise<void> {
    this.#loadStore();
    pruneRetired(this.#own, this.#clock());
    await this.#readSettings(false);
    await this.#restore();
    this.#save();
    const onLink = (l: Link): void => {
      if (l.name === this.#cfg.device || l.index === this.#pfIndex) this.#settingsSoon();
    };
    this.#d.linkMonitor.on('newlink', onLink);
    this.#d.linkMonitor.on('dellink', onLink);
    this.#off.push(() => {
      this.#d.linkMonitor.off('newlink', onLink);
      this.#d.linkMonitor.off('dellink', onLink);
    });
    if (this.#d.xfrmMonitor) {
      const onX = (e: XfrmEvent): void => this.#onXfrm(e);
      this.#d.xfrmMonitor.on('event', onX);
      this.#off.push(() => this.#d.xfrmMonitor?.off('event', onX));
    }
    await this.#listeners.listen();
    this.#tick = setInterval(() => this.#onTick(), TICK_MS);
    this.#tick.unref();
    this.#restartPoll();
  }

  /** Stops listening and lets go of the agents; everything installed stays (a restart restores it). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const off of this.#off.splice(0)) off();
    clearInterval(this.#tick);
    clearInterval(this.#poll);
    clearTimeout(this.#debounce);
    for (const c of this.#conns) c.close('daemon stopping');
    await this.#listeners.close();
    await Promise.all([...this.#rt.values()].map((r) => r.chain.catch(() => undefined)));
    this.#save();
  }

  /** A reloaded config: VFs gone from it are cleaned up, reassigned ones too; quotas apply at once. */
  reconfigure(next: PfConfig): void {
    const before = this.#cfg;
    this.#cfg = next;
    const specs = new Map(vfSpecs(next).map((s) => [s.name, s]));
    for (const [name, rt] of this.#rt) {
      const spec = specs.get(name);
      if (!spec) {
        void this.#locked(name, () => this.#cleanup(name, 'unconfigured', { close: true })).then(() => this.#rt.delete(name));
        continue;
      }
      const old = rt.spec.cfg;
      const moved = old.if_id !== spec.cfg.if_id || rt.spec.interface !== spec.interface || old.vf !== spec.cfg.vf || (spec.cfg.vf === undefined && (old.mac !== spec.cfg.mac || old.vlan !== spec.cfg.vlan));
      rt.spec = spec;
      if (moved) void this.#locked(name, () => this.#cleanup(name, 'reassigned', { close: true }));
      else this.#refreshOwners(name);
    }
    for (const [name, spec] of specs) if (!this.#rt.has(name)) this.#rt.set(name, fresh(spec));
    if (JSON.stringify(before.unix) !== JSON.stringify(next.unix) || JSON.stringify(before.tls) !== JSON.stringify(next.tls) || before.store !== next.store || before.device !== next.device) {
      this.#d.log.event('config.reloaded', { path: 'pf', restartNeeded: ['pf.unix', 'pf.tls', 'pf.store', 'pf.device'] }, 'warn');
    }
    this.#restartPoll();
    void this.#readSettings(true);
    this.#d.offload.schedule();
  }

  // ---- views and operator actions ---------------------------------------------

  list(): VfListView {
    const now = this.#clock();
    const state = this.#d.offload.state;
    const rows: VfRow[] = [...this.#rt.values()]
      .sort((a, b) => a.spec.name.localeCompare(b.spec.name))
      .map((rt) => {
        const own = this.#own.vfs.get(rt.spec.name);
        const children = own ? [...own.children.values()] : [];
        const keys = new Set(children.map((c) => childKey(rt.spec.name, c.uniqueid)));
        const sas = [...state.sas.values()].filter((s) => keys.has(s.child) && s.present);
        const used = sas.filter((s) => s.offloadIfindex !== undefined).length;
        return {
          name: rt.spec.name,
          vf: rt.spec.cfg.vf ?? null,
          present: rt.settings?.present ?? false,
          mac: rt.settings?.mac || null,
          vlan: rt.settings ? rt.settings.vlan : null,
          linkState: rt.settings?.linkState ?? null,
          ifId: rt.spec.cfg.if_id,
          interface: rt.spec.interface,
          ifindex: rt.ifindex ?? null,
          state: rt.phase,
          peer: rt.conn ? rt.conn.peer : (rt.peer ?? null),
          epoch: own?.epoch ?? null,
          lastSeenMs: rt.phase === 'idle' && rt.lastSeen === 0 ? null : now - rt.lastSeen,
          graceLeftMs: rt.phase === 'restoring' && rt.graceUntil !== undefined ? Math.max(0, rt.graceUntil - now) : null,
          children: children.length,
          sas: children.reduce((n, c) => n + c.sas.length, 0),
          hwSlots: { used, quota: rt.spec.cfg.hw_slots },
          maxSas: rt.spec.cfg.max_sas,
          software: sas.length - used,
          retired: own?.retired.filter((r) => r.until > now).length ?? 0,
          refusals: rt.refusals,
          lastRefusal: rt.lastRefusal ? { request: rt.lastRefusal.request, reason: rt.lastRefusal.reason, message: rt.lastRefusal.message, msAgo: now - rt.lastRefusal.at } : null,
          lastCleanup: rt.lastCleanup ? { reason: rt.lastCleanup.reason, count: rt.lastCleanup.count, msAgo: now - rt.lastCleanup.at } : null,
          error: rt.error ?? null,
        };
      });
    return {
      device: this.#cfg.device,
      listening: { unix: this.#cfg.unix?.path ?? null, tls: this.#cfg.tls ? `${this.#cfg.tls.listen}:${this.tlsPort || this.#cfg.tls.port}` : null },
      vfs: rows,
    };
  }

  /** `vf reset NAME|INDEX`: removes everything of the VF now and drops its agent (it reconnects and starts afresh). */
  async reset(ref: string): Promise<{ vf: string; removed: number }> {
    const rt = this.#find(ref);
    const removed = await this.#locked(rt.spec.name, () => this.#cleanup(rt.spec.name, 'operator', { close: true }));
    return { vf: rt.spec.name, removed };
  }

  #find(ref: string): Runtime {
    const byName = this.#rt.get(ref);
    if (byName) return byName;
    if (/^\d+$/.test(ref)) for (const rt of this.#rt.values()) if (rt.spec.cfg.vf === Number(ref)) return rt;
    throw new VfNotFoundError(`no VF ${JSON.stringify(ref)} (pf.vfs names, or an SR-IOV VF index)`);
  }

  // ---- connections -------------------------------------------------------------

  #accept(socket: Socket, facts: PeerFacts): void {
    if (this.#stopped) {
      socket.destroy();
      return;
    }
    const who = identify(facts, identityRules([...this.#rt.values()].map((r) => r.spec)));
    if (!who.ok) {
      const peer = facts.transport === 'unix' ? `unix pid ${facts.pid} uid ${facts.uid}` : `tls ${facts.address} cn ${facts.cn ?? '-'}`;
      this.#refusals.refuse(undefined, peer, 'connection', 'identity', who.reason);
      // One answer, so an honest but misconfigured agent can say why; nothing is read.
      socket.on('error', () => socket.destroy());
      socket.end(encodeFrame('error', 0, { reason: REASONS.identity, message: 'this connection is no configured VF of this PF' }));
      setTimeout(() => socket.destroy(), 1000).unref();
      return;
    }
    const conn = new PfConnection(
      socket,
      facts,
      who.vf,
      {
        handle: (c, f) => this.#handle(c, f),
        closed: (c, reason) => this.#closed(c, reason),
        refused: (c, request, reason, message) => this.#refused(c.vf, c.peer, request, reason, message),
        seen: (c) => {
          const rt = this.#rt.get(c.vf);
          if (rt && rt.conn === c) rt.lastSeen = this.#clock();
        },
      },
      this.#limits(),
    );
    this.#conns.add(conn);
  }

  #limits(): { helloTimeoutMs: number; maxQueued: number; maxBad: number } {
    return { helloTimeoutMs: this.#cfg.hello_timeout, maxQueued: 64, maxBad: 8 };
  }

  #refused(vf: string, peer: string, request: string, reason: ReasonName, message: string): void {
    const rt = this.#rt.get(vf);
    if (rt) {
      rt.refusals++;
      rt.lastRefusal = { request, reason, message, at: this.#clock() };
    }
    this.#refusals.refuse(vf, peer, request, reason, message);
  }

  #closed(c: PfConnection, reason: string): void {
    this.#conns.delete(c);
    const rt = this.#rt.get(c.vf);
    if (!rt || rt.conn !== c) return;
    rt.conn = undefined;
    rt.peer = c.peer;
    if (rt.phase === 'connected') rt.phase = 'disconnected';
    const own = this.#own.vfs.get(c.vf);
    const sas = own ? [...own.children.values()].reduce((n, x) => n + x.sas.length, 0) : 0;
    this.#d.log.event('vf.disconnected', { vf: c.vf, peer: c.peer, reason, sas });
  }

  async #handle(conn: PfConnection, f: AnyFrame): Promise<Answer> {
    const rt = this.#rt.get(conn.vf);
    if (!rt) return { error: 'identity', message: 'this VF is no longer configured', close: 'unconfigured' };
    if (f.kind !== 'hello' && rt.conn !== conn) return { error: 'identity', message: 'another connection of this VF took over', close: 'replaced' };
    rt.lastSeen = this.#clock();
    switch (f.kind) {
      case 'hello':
        return this.#locked(conn.vf, () => this.#hello(conn, rt, f as Frame<'hello'>));
      case 'heartbeat':
        return { ok: {} };
      case 'sa.add':
        return this.#locked(conn.vf, () => this.#add(rt, f as Frame<'sa.add'>));
      case 'sa.del':
        return this.#locked(conn.vf, () => this.#del(rt, (f as Frame<'sa.del'>).attrs.uniqueid));
      case 'sync':
        return this.#locked(conn.vf, () => this.#sync(rt, (f as Frame<'sync'>).attrs.uniqueids ?? []));
      case 'bye':
        return this.#locked(conn.vf, async () => {
          if ((f as Frame<'bye'>).attrs.keep) {
            rt.phase = 'disconnected';
            return { ok: {}, close: 'bye (keep)' };
          }
          const removed = await this.#cleanup(conn.vf, 'bye', {});
          return { ok: { removed }, close: 'bye' };
        });
      default:
        return { error: 'unexpected', message: `${f.kind} is not a request a VF sends` };
    }
  }

  async #hello(conn: PfConnection, rt: Runtime, f: Frame<'hello'>): Promise<Answer> {
    const name = rt.spec.name;
    if (conn.closed) return { error: 'internal', message: 'connection closed' };
    if (rt.settings && !rt.settings.present) {
      return { error: 'identity', message: `VF ${rt.spec.cfg.vf ?? '?'} does not exist on ${this.#cfg.device} now`, close: 'VF absent' };
    }
    if (rt.conn && rt.conn !== conn) rt.conn.close('replaced by a new connection of the same VF');
    const epoch = hex64(f.attrs.epoch);
    const own = this.#own.vfs.get(name);
    let removed = 0;
    if (own && own.epoch !== null && own.epoch !== epoch && own.children.size > 0) {
      // The tenant rebooted (or its charon restarted): nothing of before may survive this hello.
      removed = await this.#cleanup(name, 'new-epoch', {});
    }
    vfOwnership(this.#own, name, rt.spec.cfg.if_id).epoch = epoch;
    this.#save();
    await this.#ensureDomain(rt);
    rt.conn = conn;
    rt.peer = conn.peer;
    rt.epoch = epoch;
    rt.phase = 'connected';
    rt.lastSeen = this.#clock();
    rt.graceUntil = undefined;
    rt.rekeyAsked.clear();
    const kept = this.#own.vfs.get(name)?.children.size ?? 0;
    this.#d.log.event('vf.connected', { vf: name, peer: conn.peer, epoch, kept, removed });
    return {
      ok: { vfName: name, heartbeatMs: this.#cfg.heartbeat, staleMs: this.#cfg.stale_timeout, hwSlots: rt.spec.cfg.hw_slots, maxSas: rt.spec.cfg.max_sas, removed },
    };
  }

  async #add(rt: Runtime, f: Frame<'sa.add'>): Promise<Answer> {
    const name = rt.spec.name;
    const c = f.child;
    if (!c) return { error: 'malformed', message: 'no CHILD_SA' };
    try {
      const ifId = rt.spec.cfg.if_id;
      const auth = authorizeChild({ vf: rt.spec.allowance, child: c, ownership: this.#own, now: this.#clock(), reqid: () => reqidFor(this.#own, name, ifId, c.reqid) });
      if (!auth.ok) return { error: auth.reason, message: auth.message };
      if (auth.present) return { ok: { present: true } };
      const rec = auth.record;
      const before = this.#own.vfs.get(name);
      const pols = newPolicies(before, rec);
      const routes = newRoutes(before, rec);
      // Recorded before it exists: a crash from here on leaves nothing unowned.
      addOwnedChild(this.#own, name, ifId, rec);
      this.#save();
      const added: XfrmState[] = [];
      let policiesTried = false;
      try {
        for (const s of [auth.sas.in, auth.sas.out]) {
          await this.#d.xfrm.addState(s);
          added.push(s);
        }
        policiesTried = true;
        await this.#domains.addPolicies(name, pols, rec, ifId);
      } catch (e) {
        await this.#rollback(name, rec, added, policiesTried ? pols : []);
        if (isErrno(e, EEXIST)) return { error: 'spi-collision', message: 'the host has an SA with this destination and SPI already' };
        return { error: 'kernel', message: e instanceof VfDomainError ? e.message : `add SA: ${errText(e)}` };
      }
      if (routes.length && rt.spec.cfg.route_table !== undefined) {
        if (rt.ifindex === undefined) await this.#ensureDomain(rt);
        if (rt.ifindex !== undefined) {
          await this.#domains.addRoutes(name, routes, rt.ifindex, rt.spec.cfg.route_table).catch((e: unknown) => this.#domainError(rt, e));
        }
      }
      await this.#register(rt, rec);
      this.#d.offload.schedule();
      this.#d.log.event('vf.sa_added', {
        vf: name,
        uniqueid: rec.uniqueid,
        child: rec.name,
        spiIn: spiText(c.saIn.spi),
        spiOut: spiText(c.saOut.spi),
        src: c.saIn.daddr,
        dst: c.saOut.daddr,
        ...(rec.software ? { software: rec.software } : {}),
      });
      return { ok: {} };
    } finally {
      wipeFrame(f);
    }
  }

  /** Takes back a CHILD_SA whose install failed part way. */
  async #rollback(name: string, rec: OwnedChild, added: readonly XfrmState[], pols: OwnedChild['policies']): Promise<void> {
    for (const s of added) {
      const final = await this.#d.xfrm.deleteState({ daddr: s.daddr, spi: s.spi, proto: 'esp', family: s.family }).catch(() => undefined);
      if (final) wipeStateKeys(final);
    }
    const ifId = this.#own.vfs.get(name)?.ifId ?? 0;
    if (pols.length) await this.#domains.removePolicies(name, pols, ifId).catch(() => undefined);
    // Policies were in place a moment: retire its SAs as if it had lived.
    if (pols.length) removeOwnedChild(this.#own, name, rec.uniqueid, this.#clock() + this.#cfg.retire_for);
    else forgetOwnedChild(this.#own, name, rec.uniqueid);
    this.#save();
  }

  /** The CHILD_SA in the offload model: the planner manages its SAs from now on. */
  async #register(rt: Runtime, rec: OwnedChild): Promise<void> {
    const state = this.#d.offload.state;
    state.now = this.#clock();
    const sin = rec.sas.find((s) => s.dir === 'in') as OwnedSa;
    const sout = rec.sas.find((s) => s.dir === 'out') as OwnedSa;
    const info: ChildInfo = {
      uniqueid: rec.uniqueid,
      reqid: rec.reqid,
      name: rec.name || `#${rec.uniqueid}`,
      ike: { name: rt.spec.name, uniqueid: 0 },
      state: 'INSTALLED',
      mode: 'TUNNEL',
      localAddr: sin.daddr,
      remoteAddr: sout.daddr,
      spiIn: sin.spi,
      spiOut: sout.spi,
      esn: false,
      encap: false,
      ifIdIn: rt.spec.cfg.if_id,
      ifIdOut: rt.spec.cfg.if_id,
    };
    applyOwnedChild(state, childKey(rt.spec.name, rec.uniqueid), info, ownerOf(rt.spec, this.#cfg.device, rec.software));
    for (const s of rec.sas) {
      try {
        const st = await this.#d.xfrm.getState({ daddr: s.daddr, spi: s.spi, proto: 'esp', family: s.family });
        state.now = this.#clock();
        if (!isLarval(st)) applyKernelSa(state, kernelSaInfo(st));
        wipeStateKeys(st);
      } catch (e) {
        if (!isErrno(e, ESRCH)) throw e;
      }
    }
  }

  async #del(rt: Runtime, uniqueid: number): Promise<Answer> {
    const own = this.#own.vfs.get(rt.spec.name);
    const c = own?.children.get(uniqueid);
    if (!c) return { error: 'unknown-child', message: `VF ${rt.spec.name} has no CHILD_SA #${uniqueid}` };
    const r = await this.#removeChildren(rt, [uniqueid]);
    this.#d.log.event('vf.sa_removed', { vf: rt.spec.name, uniqueid, child: c.name, count: r.sas, reason: 'sa.del' });
    return { ok: { removed: r.sas } };
  }

  async #sync(rt: Runtime, uniqueids: readonly number[]): Promise<Answer> {
    const own = this.#own.vfs.get(rt.spec.name);
    const listed = new Set(uniqueids);
    const stale = own ? [...own.children.keys()].filter((u) => !listed.has(u)) : [];
    let removed = 0;
    if (stale.length) {
      const r = await this.#removeChildren(rt, stale);
      removed = r.sas;
      this.#cleanupDone(rt, 'sync', { count: r.sas, children: stale.length, policies: r.policies, iface: false });
    }
    const have = new Set(own ? own.children.keys() : []);
    const missing = [...listed].filter((u) => !have.has(u)).sort((a, b) => a - b);
    return { ok: { missing, removed } };
  }

  // ---- removal ------------------------------------------------------------------

  /**
   * Removes CHILD_SAs of a VF: the planner deletes their SAs (it serialises
   * with any swap in flight); whatever is still there afterwards is deleted
   * here. Then their policies and routes no other child needs, then the
   * record. Returns how many SAs and policies were removed.
   */
  async #removeChildren(rt: Runtime, uniqueids: readonly number[]): Promise<{ sas: number; policies: number }> {
    const name = rt.spec.name;
    const own = this.#own.vfs.get(name);
    if (!own || uniqueids.length === 0) return { sas: 0, policies: 0 };
    const children = uniqueids.map((u) => own.children.get(u)).filter((c): c is OwnedChild => c !== undefined);
    const all = children.flatMap((c) => c.sas);
    const present = new Set<string>();
    for (const s of all) if (await this.#kernelHas(s)) present.add(saId(s));
    const state = this.#d.offload.state;
    state.now = this.#clock();
    for (const c of children) applyOwnedChildDown(state, childKey(name, c.uniqueid));
    this.#d.offload.schedule();
    await this.#d.offload.idle();
    for (const s of all) {
      if (!(await this.#kernelHas(s))) continue;
      try {
        const final = await this.#d.xfrm.deleteState({ daddr: s.daddr, spi: s.spi, proto: 'esp', family: s.family });
        wipeStateKeys(final);
      } catch (e) {
        if (!isErrno(e, ESRCH) && !(e instanceof XfrmFinalStateUnavailableError)) throw e;
      }
      state.now = this.#clock();
      applyKernelSaDeleted(state, saKey({ daddr: s.daddr, spi: s.spi, proto: 50, family: s.family === 'ipv6' ? 10 : 2, ifId: own.ifId }));
    }
    let policies = 0;
    const retireUntil = this.#clock() + this.#cfg.retire_for;
    for (const c of children) {
      const freed = removeOwnedChild(this.#own, name, c.uniqueid, retireUntil);
      policies += await this.#domains.removePolicies(name, freed.policies, own.ifId);
      if (freed.routes.length && rt.ifindex !== undefined && rt.spec.cfg.route_table !== undefined) {
        await this.#domains.removeRoutes(name, freed.routes, rt.ifindex, rt.spec.cfg.route_table).catch((e: unknown) => this.#domainError(rt, e));
      }
      rt.rekeyAsked.delete(c.uniqueid);
    }
    this.#save();
    this.#d.offload.schedule();
    return { sas: present.size, policies };
  }

  /** Everything of a VF goes: its CHILD_SAs, policies, routes and interface. Returns the SAs removed. */
  async #cleanup(name: string, reason: string, o: { close?: boolean }): Promise<number> {
    const rt = this.#rt.get(name);
    if (!rt) return 0;
    const own = this.#own.vfs.get(name);
    const uniqueids = own ? [...own.children.keys()] : [];
    const r = await this.#removeChildren(rt, uniqueids);
    let iface = false;
    try {
      iface = await this.#domains.removeInterface(name, rt.spec.interface, rt.spec.cfg.if_id);
    } catch (e) {
      this.#domainError(rt, e);
    }
    rt.ifindex = undefined;
    if (o.close && rt.conn) rt.conn.close(`cleanup: ${reason}`);
    rt.phase = 'idle';
    rt.graceUntil = undefined;
    this.#cleanupDone(rt, reason, { count: r.sas, children: uniqueids.length, policies: r.policies, iface });
    return r.sas;
  }

  #cleanupDone(rt: Runtime, reason: string, r: { count: number; children: number; policies: number; iface: boolean }): void {
    rt.lastCleanup = { reason, at: this.#clock(), count: r.count };
    if (r.children === 0 && !r.iface && r.policies === 0) return;
    this.#d.log.event('vf.stale_cleanup', { vf: rt.spec.name, reason, count: r.count, children: r.children, policies: r.policies, interface: r.iface }, 'warn');
  }

  async #kernelHas(s: OwnedSa): Promise<boolean> {
    try {
      const st = await this.#d.xfrm.getState({ daddr: s.daddr, spi: s.spi, proto: 'esp', family: s.family });
      const real = !isLarval(st);
      wipeStateKeys(st);
      return real;
    } catch (e) {
      if (isErrno(e, ESRCH)) return false;
      throw e;
    }
  }

  // ---- domain -----------------------------------------------------------------

  async #ensureDomain(rt: Runtime): Promise<void> {
    try {
      const r = await this.#domains.ensureInterface(rt.spec.name, rt.spec.interface, rt.spec.cfg.if_id);
      rt.ifindex = r.ifindex;
      rt.error = undefined;
      const table = rt.spec.cfg.route_table;
      const own = this.#own.vfs.get(rt.spec.name);
      if (table !== undefined && own && own.children.size) {
        const routes = [...new Set([...own.children.values()].flatMap((c) => c.routes))];
        await this.#domains.addRoutes(rt.spec.name, routes, r.ifindex, table);
      }
    } catch (e) {
      this.#domainError(rt, e);
    }
  }

  #domainError(rt: Runtime, e: unknown): void {
    const msg = e instanceof VfDomainError ? e.message : errText(e);
    if (rt.error !== msg) this.#d.log.event('vf.error', { vf: rt.spec.name, op: e instanceof VfDomainError ? e.op : 'domain', error: msg }, 'warn');
    rt.error = msg;
  }

  // ---- triggers -----------------------------------------------------------------

  #onTick(): void {
    if (this.#stopped) return;
    const now = this.#clock();
    for (const rt of this.#rt.values()) {
      const why = staleNow(rt, now, this.#cfg.stale_timeout);
      if (why) {
        // Marked at once so the next tick does not queue it again.
        rt.phase = 'idle';
        void this.#locked(rt.spec.name, () => this.#cleanup(rt.spec.name, why, { close: true }));
      }
    }
    this.#askRekeys();
  }

  /** Outbound SAs of VFs near sequence exhaustion: their agents are asked to rekey (once per CHILD_SA). */
  #askRekeys(): void {
    const state = this.#d.offload.state;
    for (const sa of state.sas.values()) {
      const child = state.children.get(sa.child);
      if (!child?.owner || child.gone || sa.dir !== 'out' || sa.shape.esn || !sa.seq || sa.seq.oseq < this.#d.seqRekeyAt) continue;
      const rt = this.#rt.get(child.owner.vf);
      if (rt) this.#askRekey(rt, child.uniqueid, 'seq-exhaustion');
    }
  }

  #askRekey(rt: Runtime, uniqueid: number, reason: RekeyReasonName): void {
    if (rt.rekeyAsked.has(uniqueid) || !rt.conn) return;
    if (!rt.conn.notice({ uniqueid, rekeyReason: REKEY_REASONS[reason] })) return;
    rt.rekeyAsked.add(uniqueid);
    this.#d.log.event('vf.rekey_asked', { vf: rt.spec.name, uniqueid, reason });
  }

  #onXfrm(e: XfrmEvent): void {
    if (e.kind !== 'expire') return;
    const s = e.state;
    wipeStateKeys(s);
    if (!s.ifId) return;
    const id = { family: s.family, daddr: s.daddr, spi: s.spi };
    for (const rt of this.#rt.values()) {
      if (rt.spec.cfg.if_id !== s.ifId) continue;
      const own = this.#own.vfs.get(rt.spec.name);
      const c = own ? [...own.children.values()].find((x) => x.sas.some((y) => saId(y) === saId(id))) : undefined;
      if (!c) return;
      if (!e.hard) this.#askRekey(rt, c.uniqueid, 'soft-expire');
      else {
        void this.#locked(rt.spec.name, async () => {
          const r = await this.#removeChildren(rt, [c.uniqueid]);
          this.#d.log.event('vf.sa_removed', { vf: rt.spec.name, uniqueid: c.uniqueid, child: c.name, count: r.sas, reason: 'hard-expire' });
        });
      }
      return;
    }
  }

  #settingsSoon(): void {
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => void this.#readSettings(true), 100);
    this.#debounce.unref();
  }

  #restartPoll(): void {
    clearInterval(this.#poll);
    if (this.#stopped) return;
    this.#poll = setInterval(() => void this.#readSettings(true), Math.max(500, this.#cfg.vf_poll));
    this.#poll.unref();
  }

  /** Reads the PF's VF settings; with `act`, VFs whose settings changed are cleaned up. */
  async #readSettings(act: boolean): Promise<void> {
    let vfs: Map<number, { mac: string; vlan: number; linkState?: 'auto' | 'enable' | 'disable' }> | undefined;
    try {
      const pf = await this.#d.links.getLink(this.#cfg.device, { vf: true });
      this.#pfIndex = pf.index;
      vfs = new Map((pf.vfs ?? []).map((v) => [v.vf, { mac: v.mac, vlan: v.vlan, ...(v.linkState ? { linkState: v.linkState } : {}) }]));
    } catch (e) {
      // The PF itself is gone: so are its VFs. Any other failure: try again later.
      if (!isErrno(e, ENODEV)) return;
      vfs = new Map();
    }
    for (const rt of this.#rt.values()) {
      const c = rt.spec.cfg;
      const v = c.vf !== undefined ? vfs.get(c.vf) : undefined;
      const next: VfSettings = c.vf === undefined ? { present: true, mac: c.mac ?? '', vlan: c.vlan ?? 0 } : v ? { present: true, ...v } : { present: false, mac: '', vlan: 0 };
      const change = settingsChange(rt.settings, next);
      rt.settings = next;
      if (!act || !change) continue;
      const has = rt.phase !== 'idle' || (this.#own.vfs.get(rt.spec.name)?.children.size ?? 0) > 0 || rt.ifindex !== undefined;
      if (has) void this.#locked(rt.spec.name, () => this.#cleanup(rt.spec.name, change, { close: true }));
    }
  }

  /** New hardware quotas (reload) reach the planner through the owners of the VF's children. */
  #refreshOwners(name: string): void {
    const rt = this.#rt.get(name);
    if (!rt) return;
    for (const c of this.#d.offload.state.children.values()) if (c.owner && c.owner.vf === name) c.owner.hwSlots = rt.spec.cfg.hw_slots;
  }

  // ---- restart ------------------------------------------------------------------

  #loadStore(): void {
    try {
      this.#own = this.#store.load() ?? emptyOwnership();
    } catch (e) {
      if (!(e instanceof OwnershipStoreError)) throw e;
      this.#own = emptyOwnership();
      this.#d.log.event('vf.store_unusable', { path: e.path, problem: e.problem, ...(e.movedTo ? { movedTo: e.movedTo } : {}) }, 'error');
    }
  }

  /**
   * After a restart: the kernel's SAs are matched to the VFs through the
   * store. A CHILD_SA whose SAs are all there is kept as it is (the planner
   * manages it again, its policies are completed if need be); one that lost
   * an SA is removed (an SA is never reinstalled from a tenant's copy: it is
   * rekeyed). A VF with something kept gets restart_grace for its agent.
   */
  async #restore(): Promise<void> {
    const now = this.#clock();
    const present = new Map<string, XfrmState>();
    for (const s of await this.#d.xfrm.dumpStates({ proto: 'esp' })) {
      if (!isLarval(s)) present.set(saId({ family: s.family, daddr: s.daddr, spi: s.spi }), s);
      wipeStateKeys(s);
    }
    const policies = new Set<string>();
    for (const p of await this.#d.xfrm.dumpPolicies()) if (p.ifId) policies.add(`${p.ifId} ${policyId({ dir: p.dir as 'in', selector: p.selector })}`);
    for (const [name, own] of [...this.#own.vfs]) {
      const rt = this.#rt.get(name);
      if (!rt || rt.spec.cfg.if_id !== own.ifId) {
        await this.#dropUnconfigured(name, own.ifId, present);
        continue;
      }
      let kept = 0;
      let sas = 0;
      const lost: number[] = [];
      for (const c of own.children.values()) {
        const whole = c.sas.every((s) => present.get(saId(s))?.ifId === own.ifId);
        if (!whole) {
          lost.push(c.uniqueid);
          continue;
        }
        const missingPolicies = c.policies.filter((p) => !policies.has(`${own.ifId} ${policyId(p)}`));
        if (missingPolicies.length) await this.#domains.addPolicies(name, missingPolicies, c, own.ifId).catch((e: unknown) => this.#domainError(rt, e));
        await this.#register(rt, c);
        kept++;
        sas += c.sas.length;
      }
      // Registered first (so the planner can remove them), then removed.
      for (const u of lost) {
        const c = own.children.get(u);
        if (c) await this.#register(rt, c);
      }
      if (lost.length) await this.#removeChildren(rt, lost);
      if (kept > 0) {
        rt.phase = 'restoring';
        rt.lastSeen = now;
        rt.graceUntil = now + this.#cfg.restart_grace;
        await this.#ensureDomain(rt);
      }
      if (kept > 0 || lost.length) this.#d.log.event('vf.restored', { vf: name, children: kept, sas, dropped: lost.length, graceMs: this.#cfg.restart_grace });
    }
    this.#d.offload.schedule();
  }

  /** A VF in the store that the config no longer has: its SAs and policies go (it is not managed, so directly). */
  async #dropUnconfigured(name: string, ifId: number, present: ReadonlyMap<string, XfrmState>): Promise<void> {
    const own = this.#own.vfs.get(name);
    if (!own) return;
    let count = 0;
    let policies = 0;
    const children = own.children.size;
    for (const c of own.children.values()) {
      for (const s of c.sas) {
        if (present.get(saId(s))?.ifId !== ifId) continue;
        try {
          wipeStateKeys(await this.#d.xfrm.deleteState({ daddr: s.daddr, spi: s.spi, proto: 'esp', family: s.family }));
          count++;
        } catch (e) {
          if (e instanceof XfrmFinalStateUnavailableError) count++;
          else if (!isErrno(e, ESRCH)) throw e;
        }
      }
      policies += await this.#domains.removePolicies(name, c.policies, ifId).catch(() => 0);
    }
    this.#own.vfs.delete(name);
    if (children) this.#d.log.event('vf.stale_cleanup', { vf: name, reason: 'unconfigured', count, children, policies, interface: false }, 'warn');
  }

  // ---- plumbing -------------------------------------------------------------------

  /** Runs `fn` after everything queued for this VF. */
  #locked<T>(vf: string, fn: () => Promise<T>): Promise<T> {
    const rt = this.#rt.get(vf);
    if (!rt) return fn();
    const p = rt.chain.then(fn, fn);
    rt.chain = p.catch((e: unknown) => this.#d.log.event('daemon.error', { what: `vf ${vf}`, error: (e as Error).message }, 'error'));
    return p;
  }

  #save(): void {
    this.#store.save(this.#own);
  }
}

function fresh(spec: VfSpec): Runtime {
  return {
    spec,
    phase: 'idle',
    conn: undefined,
    peer: undefined,
    epoch: undefined,
    lastSeen: 0,
    graceUntil: undefined,
    settings: undefined,
    ifindex: undefined,
    error: undefined,
    lastCleanup: undefined,
    refusals: 0,
    lastRefusal: undefined,
    rekeyAsked: new Set(),
    chain: Promise.resolve(),
  };
}
