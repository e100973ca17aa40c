// The offload service: keeps the offload model in step with charon (VICI),
// the kernel (XFRM) and the links (rtnetlink), and runs the plan/execute loop.
// All decisions are the planner's; all kernel changes are the executor's.
import type { XfrmClient } from '../xfrm/client.js';
import type { XfrmMonitor } from '../xfrm/monitor.js';
import type { XfrmEvent } from '../xfrm/events.js';
import type { XfrmState, XfrmStateId } from '../xfrm/state.js';
import { wipeStateKeys } from '../xfrm/state.js';
import type { LinkClient } from '../link/client.js';
import type { LinkMonitor } from '../link/monitor.js';
import type { EthtoolClient } from '../link/ethtool.js';
import type { Link } from '../link/link-view.js';
import type { ViciClient } from '../vici/client/client.js';
import type { ViciSession } from '../vici/session/session.js';
import type { ViciEvent } from '../vici/session/session.js';
import { parseChildRekey, parseChildUpdown, parseIkeRekey, parseIkeUpdown } from '../vici/views/events.js';
import { NetlinkError } from '../netlink/errors.js';
import type { EventLogger } from '../log/logger.js';
import { spiText } from '../log/events.js';
import { Executor, type ExecutorOptions } from '../offload/executor.js';
import { KeyStore } from '../offload/keystore.js';
import { isLarval, kernelSaInfo, keyOfState } from '../offload/kernel-view.js';
import { readWithTwin, shadowedStates } from '../offload/larval.js';
import { saFields } from '../offload/log-fields.js';
import {
  applyCharonSynced,
  applyChildDown,
  applyChildRekey,
  applyChildren,
  applyDevice,
  applyDeviceGone,
  applyIkeDown,
  applyIkeRekey,
  applyKernelSa,
  applyKernelSaDeleted,
  applyKernelSnapshot,
  applyPin,
  applySeq,
  childSaIds,
  type ChildInfo,
} from '../offload/model.js';
import { plan, type Action, type Plan } from '../offload/planner.js';
import type { PlannerConfig } from '../offload/policy.js';
import { emptyState, type OffloadState, type SaRecord } from '../offload/types.js';
import { childInfo, childrenOf, deviceInfo } from './adapters.js';
import { Cooldowns } from './cooldowns.js';

const ESRCH = 3;
/** Plan/execute rounds per wake-up; a plan that keeps asking is stopped here and retried on the next event. */
const MAX_ROUNDS = 50;

export interface OffloadServiceDeps {
  xfrm: XfrmClient;
  xfrmMonitor: XfrmMonitor;
  links: LinkClient;
  linkMonitor: LinkMonitor;
  ethtool: EthtoolClient;
  vici: ViciClient;
  session: ViciSession;
  log: EventLogger;
  planner: PlannerConfig;
  executor: ExecutorOptions;
  /** how often to re-dump the SAD (traffic, presence) */
  resyncIntervalMs: number;
}

export class OffloadService {
  readonly state: OffloadState = emptyState(Date.now());
  readonly keys = new KeyStore();
  #planner: PlannerConfig;
  #last: Plan = { actions: [], decisions: new Map() };
  readonly #executor: Executor;
  #running = false;
  #again = false;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  /** actions that failed recently are held off for backoffMs */
  readonly #cooldown = new Cooldowns<Action>(actionKey);
  /** SAs whose sa.installed has been logged (a record lives as long as the model keeps the SA) */
  readonly #announced = new WeakSet<SaRecord>();
  /** SAs a resync dump found shadowed by a larval stand-in (offload/larval.ts); cleared by the loop */
  readonly #shadowed = new Set<string>();
  /** resolves when the loop is idle (tests, CLI `--wait`) */
  #idle: (() => void)[] = [];

  constructor(private readonly d: OffloadServiceDeps) {
    this.#planner = d.planner;
    // Nothing is changed until charon's view has been read once.
    this.state.charonSynced = false;
    this.#executor = new Executor({
      xfrm: d.xfrm,
      keys: this.keys,
      charon: { rekeyChild: async (uniqueid) => void (await d.vici.rekey({ childId: uniqueid })) },
      log: d.log,
      deviceName: (i) => this.state.devices.get(i)?.name ?? `if${i}`,
      clock: () => performance.now(),
      options: d.executor,
    });
  }

  get plan(): Plan {
    return this.#last;
  }

  /** Full initial sync, then event-driven. */
  async start(): Promise<void> {
    this.d.linkMonitor.on('newlink', (l) => this.#bg('link event', this.#onLink(l)));
    this.d.linkMonitor.on('dellink', (l) => this.#onLinkGone(l));
    this.d.linkMonitor.on('newaddr', () => this.#bg('address sync', this.#syncDevices('address')));
    this.d.linkMonitor.on('deladdr', () => this.#bg('address sync', this.#syncDevices('address')));
    this.d.linkMonitor.on('overrun', () => this.#bg('link resync', this.#syncDevices('overrun')));
    this.d.xfrmMonitor.on('event', (e) => this.#bg('xfrm event', this.#onXfrm(e)));
    this.d.xfrmMonitor.on('overrun', () => {
      this.d.log.event('xfrm.overrun', { group: 'sa/aevents' }, 'warn');
      this.#bg('xfrm resync', this.resyncKernel('xfrm overrun'));
    });
    this.d.session.on('event', (e) => this.#onVici(e));
    this.d.session.on('disconnected', () => applyCharonSynced(this.state, false));
    this.d.session.on('reconnected', () => this.#bg('charon resync', this.resyncCharon('vici reconnected')));

    await this.#syncDevices('startup');
    await this.#connectCharon();
    await this.resyncKernel('startup');
    this.#timer = setInterval(() => this.#bg('periodic resync', this.resyncKernel('periodic')), this.d.resyncIntervalMs);
    this.#timer.unref();
    this.schedule();
  }

  /** Subscribe and read charon's SAs; charon may be slow or not up yet: retry, saying where we look. */
  async #connectCharon(): Promise<void> {
    for (let attempt = 1; !this.#stopped; attempt++) {
      try {
        await this.d.session.subscribe(['child-updown', 'child-rekey', 'ike-updown', 'ike-rekey']);
        await this.resyncCharon('startup');
        return;
      } catch (e) {
        this.d.log.event('vici.disconnected', { socket: this.d.session.socketPath, error: `${(e as Error).message} (attempt ${attempt}, retrying)` }, 'warn');
        await new Promise((r) => setTimeout(r, Math.min(500 * attempt, 5000)));
      }
    }
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
    this.keys.dropAll();
  }

  reconfigure(p: PlannerConfig, e: ExecutorOptions): void {
    this.#planner = p;
    Object.assign(this.d.executor, e);
    this.schedule();
  }

  /** charon's complete view (list-sas). */
  async resyncCharon(reason: string): Promise<void> {
    const requestedAt = this.state.epoch;
    const ikes = await this.d.vici.listSas();
    this.state.now = Date.now();
    applyChildren(this.state, childrenOf(ikes), true, requestedAt);
    applyCharonSynced(this.state, true);
    this.d.log.event('resync', { source: 'vici', children: this.state.children.size, sas: this.state.sas.size, reason });
    this.schedule();
  }

  /** The kernel's complete view (SAD dump). */
  async resyncKernel(reason: string): Promise<void> {
    let states: XfrmState[];
    const requestedAt = this.state.epoch;
    try {
      states = await this.d.xfrm.dumpStates({ proto: 'esp' });
    } catch (e) {
      this.d.log.pino.error({ event: 'resync.failed', source: 'xfrm', error: (e as Error).message });
      return;
    }
    this.state.now = Date.now();
    const lost = applyKernelSnapshot(
      this.state,
      states.filter((s) => !isLarval(s)).map((s) => kernelSaInfo(s)),
      requestedAt,
    );
    for (const { sa, repair } of lost) this.d.log.event('sa.vanished', { ...saFields(this.state, sa), during: 'resync', lookup: 'dump', repair }, 'warn');
    for (const s of shadowedStates(states)) {
      const key = keyOfState(s);
      if (this.state.sas.has(key)) this.#shadowed.add(key);
    }
    for (const s of states) wipeStateKeys(s);
    for (const sa of this.state.sas.values()) if (sa.seq) this.#esnWindow(sa);
    if (reason !== 'periodic') this.d.log.event('resync', { source: 'xfrm', children: this.state.children.size, sas: this.state.sas.size, reason });
    this.schedule();
  }

  /** Runs event-triggered work; a failure is logged, never an unhandled rejection. */
  #bg(what: string, p: Promise<unknown>): void {
    p.catch((e: unknown) => this.d.log.pino.error({ event: 'daemon.error', what, error: (e as Error).message }));
  }

  /** Wakes the plan/execute loop (coalesced). */
  schedule(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    setImmediate(() => this.#bg('plan loop', this.#loop()));
  }

  /** Resolves once the loop has nothing left to do. */
  idle(): Promise<void> {
    if (!this.#running) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  async #loop(): Promise<void> {
    try {
      for (let round = 0; round < MAX_ROUNDS && !this.#stopped; round++) {
        this.#again = false;
        // In the loop, so no swap of the same SA runs meanwhile.
        for (const key of this.#shadowed) {
          this.#shadowed.delete(key);
          await this.#executor.unshadow(this.state, key);
        }
        this.state.now = Date.now();
        this.#last = plan(this.state, this.#planner);
        const due = this.#cooldown.due(this.#last.actions, Date.now());
        if (due.length === 0 && !this.#again) break;
        for (const a of due) {
          if (this.#stopped) break;
          const ok = await this.#executor.run(this.state, a);
          if (!ok) this.#cooldown.hold(a, Date.now() + this.#planner.backoffMs);
        }
      }
      this.state.now = Date.now();
      this.#last = plan(this.state, this.#planner);
    } finally {
      this.#running = false;
      // More work came in meanwhile: the waiters wait for that loop too.
      if (this.#again && !this.#stopped) this.schedule();
      else {
        const waiters = this.#idle;
        this.#idle = [];
        for (const w of waiters) w();
      }
    }
  }

  // ---- events ----------------------------------------------------------------

  #onVici(e: ViciEvent): void {
    this.state.now = Date.now();
    try {
      switch (e.name) {
        case 'child-updown': {
          const ev = parseChildUpdown(e.message);
          if (ev.up) {
            const infos = ev.children.map((c) => childInfo(ev.ike, c));
            applyChildren(this.state, infos, false);
            // charon installed the SAs before raising the event: their NEWSA
            // notifications came when no CHILD_SA claimed them. Read them now.
            this.#bg('fetch child SAs', this.#fetchChildSas(infos));
          } else for (const c of ev.children) applyChildDown(this.state, c.uniqueid);
          break;
        }
        case 'child-rekey': {
          const ev = parseChildRekey(e.message);
          const fresh = ev.rekeys.map((r) => childInfo(ev.ike, r.new));
          for (const [i, r] of ev.rekeys.entries()) applyChildRekey(this.state, r.old.uniqueid, fresh[i] as ChildInfo);
          this.#bg('fetch child SAs', this.#fetchChildSas(fresh));
          break;
        }
        case 'ike-updown': {
          const ev = parseIkeUpdown(e.message);
          if (!ev.up) applyIkeDown(this.state, ev.ike.uniqueid);
          break;
        }
        case 'ike-rekey': {
          const ev = parseIkeRekey(e.message);
          applyIkeRekey(this.state, ev.old.uniqueid, { name: ev.new.name, uniqueid: ev.new.uniqueid });
          break;
        }
        default:
          return;
      }
    } catch (err) {
      this.d.log.pino.warn({ event: 'vici.bad_event', name: e.name, error: (err as Error).message });
      return;
    }
    this.schedule();
  }

  /** GETSA for the SAs of these CHILD_SAs (absent ones are simply not there yet). */
  async #fetchChildSas(children: readonly ChildInfo[]): Promise<void> {
    for (const c of children) {
      const family = c.localAddr.includes(':') ? 10 : 2;
      const ids = childSaIds(c, family);
      for (const [dir, id] of [['in', ids.in], ['out', ids.out]] as const) {
        if (!id) continue;
        try {
          const s = await this.#readBehindLarval({
            daddr: id.daddr,
            spi: id.spi,
            proto: 'esp',
            family: family === 10 ? 'ipv6' : 'ipv4',
            saddr: dir === 'in' ? c.remoteAddr : c.localAddr,
            ...(id.mark ? { mark: id.mark } : {}),
          });
          this.state.now = Date.now();
          if (!s) continue;
          const rec = applyKernelSa(this.state, kernelSaInfo(s));
          wipeStateKeys(s);
          if (rec) this.#announce(rec);
        } catch (e) {
          if (!(e instanceof NetlinkError && e.errno === ESRCH)) this.d.log.pino.warn({ event: 'xfrm.getsa_failed', spi: spiText(id.spi), error: (e as Error).message });
        }
      }
    }
    this.schedule();
  }

  /**
   * GETSA outside the plan loop. A larval stand-in in front of the SA (see
   * offload/larval.ts) is not the SA: the keyed state behind it is, and the
   * loop removes the stand-in (deleting here could race a swap). undefined:
   * only a stand-in. Throws NetlinkError (ESRCH: nothing at all).
   */
  async #readBehindLarval(id: XfrmStateId): Promise<XfrmState | undefined> {
    const { state, twin } = await readWithTwin(this.d.xfrm, id);
    if (!twin) return isLarval(state) ? undefined : state;
    this.#shadowed.add(keyOfState(twin));
    this.schedule();
    return twin;
  }

  async #onXfrm(e: XfrmEvent): Promise<void> {
    this.state.now = Date.now();
    // Notifications our own requests caused carry our port id: the executor
    // already knows what it did (and verifies it by re-reading).
    if ((e.kind === 'newsa' || e.kind === 'updsa' || e.kind === 'delsa') && e.pid === this.d.xfrm.portId && e.pid !== 0) {
      if (e.kind !== 'delsa') wipeStateKeys(e.state);
      else if (e.state) wipeStateKeys(e.state);
      return;
    }
    switch (e.kind) {
      case 'newsa':
      case 'updsa': {
        if (isLarval(e.state)) return;
        const rec = applyKernelSa(this.state, kernelSaInfo(e.state));
        wipeStateKeys(e.state);
        if (rec && rec.present && !rec.keysHeld) this.schedule();
        if (rec) this.#announce(rec);
        return;
      }
      case 'delsa': {
        if (e.state) wipeStateKeys(e.state);
        const key = keyOfState({ ...e.id, family: e.id.family ?? 'ipv4' });
        const sa = this.state.sas.get(key);
        if (!sa || sa.busy) return;
        // Our own swaps delete and re-add: only a GETSA tells a swap from a real delete.
        let gone: boolean;
        try {
          const s = await this.#readBehindLarval({ ...e.id });
          gone = s === undefined;
          if (s) {
            applyKernelSa(this.state, kernelSaInfo(s));
            wipeStateKeys(s);
          }
        } catch (err) {
          gone = err instanceof NetlinkError && err.errno === ESRCH;
        }
        if (gone && !sa.busy) applyKernelSaDeleted(this.state, key);
        this.schedule();
        return;
      }
      case 'newae': {
        const ae = e.ae;
        const key = keyOfState({ daddr: ae.daddr, spi: ae.spi, proto: ae.proto, family: ae.family === 'ipv6' ? 'ipv6' : 'ipv4', ...(ae.mark ? { mark: ae.mark } : {}), ...(ae.ifId ? { ifId: ae.ifId } : {}) });
        const sa = this.state.sas.get(key);
        if (!sa) return;
        const seq = ae.esn
          ? { oseq: ae.esn.oseq, oseqHi: ae.esn.oseqHi, seq: ae.esn.seq, seqHi: ae.esn.seqHi }
          : ae.replay
            ? { oseq: ae.replay.oseq, oseqHi: 0, seq: ae.replay.seq, seqHi: 0 }
            : undefined;
        if (!seq) return;
        const prev = sa.seq;
        applySeq(this.state, key, seq);
        this.#esnWindow(sa, prev);
        if (sa.dir === 'out' && !sa.shape.esn && seq.oseq >= this.#planner.seqRekeyAt) this.schedule();
        return;
      }
      default:
        return;
    }
  }

  /** The ESN scheme of stateless offload hardware (mlx5) updates itself when the window crosses a half of the 32-bit space: log those crossings. */
  #esnWindow(sa: SaRecord, prev?: SaRecord['seq']): void {
    if (!sa.shape.esn || !sa.seq || !prev) return;
    const lo = sa.dir === 'out' ? sa.seq.oseq : sa.seq.seq;
    const hi = sa.dir === 'out' ? sa.seq.oseqHi : sa.seq.seqHi;
    const plo = sa.dir === 'out' ? prev.oseq : prev.seq;
    const phi = sa.dir === 'out' ? prev.oseqHi : prev.seqHi;
    const half = (n: number): 'lower' | 'upper' => (n >= 0x80000000 ? 'upper' : 'lower');
    if (hi === phi && half(lo) === half(plo)) return;
    this.d.log.event('esn.window', {
      ...saFields(this.state, sa),
      seqHi: hi,
      half: half(lo),
      oseq: lo,
    });
  }

  /** First sight of an SA charon installed. */
  #announce(sa: SaRecord): void {
    if (sa.reinstalledByUs || this.#announced.has(sa)) return;
    this.#announced.add(sa);
    this.d.log.event('sa.installed', {
      ...saFields(this.state, sa),
      state: sa.offloadIfindex !== undefined ? 'offloaded' : 'software',
    });
  }

  async #onLink(l: Link): Promise<void> {
    const prev = this.state.devices.get(l.index);
    if (prev && prev.up === l.up && prev.name === l.name) return;
    this.state.now = Date.now();
    const lost = prev && prev.up && !l.up ? [...this.state.sas.values()].filter((s) => s.offloadIfindex === l.index).length : 0;
    const esp = prev ? prev.espOffload : await this.#espOffload(l.name);
    applyDevice(this.state, deviceInfo(l, esp, prev?.addresses ?? []));
    if (prev && prev.up && !l.up) this.d.log.event('device.down', { dev: l.name, ifindex: l.index, lostSas: lost }, lost ? 'warn' : 'info');
    if (prev && !prev.up && l.up) this.d.log.event('device.up', { dev: l.name, ifindex: l.index });
    this.schedule();
  }

  #onLinkGone(l: Link): void {
    this.state.now = Date.now();
    const lost = [...this.state.sas.values()].filter((s) => s.offloadIfindex === l.index).length;
    applyDeviceGone(this.state, l.index);
    this.d.log.event('device.removed', { dev: l.name, ifindex: l.index, lostSas: lost }, lost ? 'warn' : 'info');
    this.schedule();
  }

  async #espOffload(name: string): Promise<boolean> {
    try {
      return (await this.d.ethtool.feature(name, 'esp-hw-offload')).active;
    } catch {
      return false;
    }
  }

  /** Links, their addresses and ESP offload capability. */
  async #syncDevices(reason: string): Promise<void> {
    const [links, addrs] = await Promise.all([this.d.links.listLinks(), this.d.links.listAddresses()]);
    this.state.now = Date.now();
    const seen = new Set<number>();
    for (const l of links) {
      if (l.name === 'lo') continue;
      seen.add(l.index);
      const prev = this.state.devices.get(l.index);
      const esp = prev && reason === 'address' ? prev.espOffload : await this.#espOffload(l.name);
      applyDevice(this.state, deviceInfo(l, esp, addrs.filter((a) => a.ifindex === l.index).map((a) => a.address)));
    }
    for (const i of [...this.state.devices.keys()]) if (!seen.has(i)) applyDeviceGone(this.state, i);
    this.schedule();
  }

  // ---- operator actions --------------------------------------------------------

  /** `sa promote|demote|unpin`: pins SAs (by key) and replans. */
  pin(keys: readonly string[], pin: 'offload' | 'software' | undefined): void {
    for (const k of keys) applyPin(this.state, k, pin);
    this.schedule();
  }
}

function actionKey(a: Action): string {
  return a.type === 'rekey' ? `rekey:${a.child}` : a.type === 'probe' ? `probe:${a.ifindex}` : `${a.type}:${a.sa}`;
}
