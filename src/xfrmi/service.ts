// The edge of the xfrm interface module: follows charon's CHILD_SAs (list-sas
// at start and after a reconnect, then child/IKE events), reads the
// namespace's links and routes, runs the pure planner and applies its
// actions - round after round until nothing is left - and re-plans when a
// grace period ends, a link/address changes, or the resync interval passes.
import { Cooldowns } from '../daemon/cooldowns.js';
import type { LinkClient } from '../link/client.js';
import type { LinkMonitor } from '../link/monitor.js';
import type { EventLogger } from '../log/logger.js';
import type { ViciClient } from '../vici/client/client.js';
import type { ViciEvent } from '../vici/session/session.js';
import { parseChildRekey, parseChildUpdown, parseIkeRekey, parseIkeUpdown } from '../vici/views/events.js';
import { XfrmiApplyError, applyAction } from './apply.js';
import { applyChildRekey, applyChildUpdown, applyIkeDown, applyIkeRekey, childrenFromList, type ChildMap } from './children.js';
import { configuredTables, xfrmiSettings, type XfrmiConfig, type XfrmiSettings } from './config.js';
import { observe } from './observe.js';
import { isOurs } from './ownership.js';
import { planXfrmi } from './plan.js';
import type { Action, Conflict, XfrmiPlan, XfrmiRow } from './types.js';

const EVENTS = ['child-updown', 'child-rekey', 'ike-updown', 'ike-rekey'] as const;
/** rtnetlink events that can change the plan (overrun: some were lost, read again). */
const LINK_EVENTS = ['newlink', 'dellink', 'newaddr', 'deladdr', 'overrun'] as const;
/** Plan/apply rounds per pass: create, then set up, then routes need three. */
const MAX_ROUNDS = 8;
/** A failed action is not retried before this (the next pass after it does). */
const RETRY_MS = 5000;
/** Coalesces bursts of link/address events into one pass. */
const DEBOUNCE_MS = 50;

export interface XfrmiServiceDeps {
  /** rtnetlink in the namespace the SAs (and so the interfaces) live in */
  links: LinkClient;
  linkMonitor: LinkMonitor;
  vici: ViciClient;
  log: EventLogger;
  config: XfrmiConfig;
  /** epoch ms (tests may drive it) */
  clock?: () => number;
}

export class XfrmiService {
  readonly #d: XfrmiServiceDeps;
  readonly #clock: () => number;
  #config: XfrmiConfig;
  #settings: XfrmiSettings;
  #children: ChildMap = new Map();
  #synced = false;
  #resyncing = false;
  #resyncAgain: string | undefined;
  #buffered: ViciEvent[] = [];
  #idleSince = new Map<string, number>();
  #last: XfrmiPlan | undefined;
  readonly #cooldown = new Cooldowns<Action>(actionKey);
  /** interfaces seen or created by this process (the rest are announced as adopted) */
  readonly #known = new Set<number>();
  /** keys of the conflicts the last plan had (logged when they appeared) */
  #reported = new Set<string>();
  /** if_id -> the last change the kernel refused, until one succeeds */
  readonly #errors = new Map<number, string>();
  #running = false;
  #again = false;
  #stopped = false;
  #started = false;
  #debounce: NodeJS.Timeout | undefined;
  #wake: NodeJS.Timeout | undefined;
  #periodic: NodeJS.Timeout | undefined;
  #idleWaiters: (() => void)[] = [];
  readonly #off: (() => void)[] = [];

  constructor(d: XfrmiServiceDeps) {
    this.#d = d;
    this.#clock = d.clock ?? Date.now;
    this.#config = d.config;
    this.#settings = xfrmiSettings(d.config);
  }

  /** The last plan's rows (what `xfrmi list` shows), with the last refused change per if_id. */
  get rows(): XfrmiRow[] {
    return (this.#last?.rows ?? []).map((r) => ({ ...r, error: this.#errors.get(r.ifId) ?? null }));
  }

  get conflicts(): Conflict[] {
    return this.#last?.conflicts ?? [];
  }

  get synced(): boolean {
    return this.#synced;
  }

  async start(): Promise<void> {
    this.#started = true;
    const { vici, linkMonitor } = this.#d;
    const onEvent = (e: ViciEvent): void => this.#onVici(e);
    // Stale from a disconnect on: nothing is removed until list-sas is complete again.
    const onDown = (): void => {
      this.#synced = false;
      this.schedule();
    };
    const onUp = (): void => void this.resync('vici reconnected');
    const onLink = (): void => this.schedule();
    vici.on('event', onEvent);
    vici.on('disconnected', onDown);
    vici.on('reconnected', onUp);
    for (const ev of LINK_EVENTS) linkMonitor.on(ev, onLink);
    this.#off.push(() => {
      vici.off('event', onEvent);
      vici.off('disconnected', onDown);
      vici.off('reconnected', onUp);
      for (const ev of LINK_EVENTS) linkMonitor.off(ev, onLink);
    });
    // A no-op for names the offload service subscribed on this session already.
    await vici.subscribe([...EVENTS]);
    await this.resync('startup');
    this.#restartPeriodic();
    await this.idle();
  }

  stop(): void {
    // Interfaces and routes stay: a restarted daemon adopts them without a flap.
    this.#stopped = true;
    for (const off of this.#off.splice(0)) off();
    clearTimeout(this.#debounce);
    this.#debounce = undefined;
    clearTimeout(this.#wake);
    clearInterval(this.#periodic);
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  reconfigure(c: XfrmiConfig): void {
    this.#config = c;
    this.#settings = xfrmiSettings(c);
    if (this.#started && !this.#stopped) this.#restartPeriodic();
    this.schedule();
  }

  /** Re-reads charon's CHILD_SAs; events arriving meanwhile are applied after the list. */
  async resync(reason: string): Promise<void> {
    if (this.#resyncing) {
      // A reconnect during a list-sas: that list may be cut short, list again after it.
      this.#resyncAgain = reason;
      return;
    }
    this.#resyncing = true;
    this.#buffered = [];
    try {
      const ikes = await this.#d.vici.listSas();
      this.#children = childrenFromList(ikes);
      for (const e of this.#buffered) this.#applyVici(e);
      this.#synced = true;
      this.#d.log.event('xfrmi.resync', { children: this.#children.size, reason });
    } catch (e) {
      this.#synced = false;
      this.#d.log.event('resync.failed', { source: 'vici', error: `xfrmi: ${(e as Error).message}` });
    } finally {
      this.#resyncing = false;
      this.#buffered = [];
    }
    this.schedule();
    const again = this.#resyncAgain;
    this.#resyncAgain = undefined;
    if (again !== undefined && !this.#stopped) await this.resync(again);
  }

  /** Wakes the plan/apply loop (coalesced). */
  schedule(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#debounce) return;
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      void this.#loop();
    }, DEBOUNCE_MS);
  }

  /** Resolves once no pass is pending or running. */
  idle(): Promise<void> {
    if (!this.#running && !this.#debounce) return Promise.resolve();
    return new Promise((r) => this.#idleWaiters.push(r));
  }

  // ---- VICI ----

  #onVici(e: ViciEvent): void {
    if (!(EVENTS as readonly string[]).includes(e.name)) return;
    if (this.#resyncing) {
      this.#buffered.push(e);
      return;
    }
    this.#applyVici(e);
    this.schedule();
  }

  #applyVici(e: ViciEvent): void {
    try {
      switch (e.name) {
        case 'child-updown':
          applyChildUpdown(this.#children, parseChildUpdown(e.message));
          break;
        case 'child-rekey':
          applyChildRekey(this.#children, parseChildRekey(e.message));
          break;
        case 'ike-updown': {
          const ev = parseIkeUpdown(e.message);
          if (!ev.up) applyIkeDown(this.#children, ev.ike.uniqueid);
          break;
        }
        case 'ike-rekey': {
          const ev = parseIkeRekey(e.message);
          applyIkeRekey(this.#children, ev.old.uniqueid, { ikeId: ev.new.uniqueid, conn: ev.new.name });
          break;
        }
      }
    } catch (err) {
      this.#d.log.event('vici.bad_event', { name: e.name, error: `xfrmi: ${(err as Error).message}` });
    }
  }

  // ---- the loop ----

  async #loop(): Promise<void> {
    if (this.#stopped) return;
    this.#running = true;
    try {
      for (let round = 0; round < MAX_ROUNDS && !this.#stopped; round++) {
        this.#again = false;
        const plan = await this.#plan();
        if (!plan) break;
        const due = this.#cooldown.due(plan.actions, this.#clock());
        if (due.length === 0) break;
        for (const a of due) {
          if (this.#stopped) break;
          try {
            const created = await applyAction(this.#d.links, this.#d.log, a);
            if (created !== undefined) this.#known.add(created);
            this.#cooldown.clear(a);
            this.#errors.delete(a.ifId);
          } catch (e) {
            // Logged as xfrmi.error by applyAction; the plan will ask again.
            this.#cooldown.hold(a, this.#clock() + RETRY_MS);
            this.#errors.set(a.ifId, e instanceof XfrmiApplyError ? e.summary : String(e));
          }
        }
      }
    } finally {
      this.#running = false;
      this.#armWake();
      if (this.#again) this.schedule();
      if (!this.#debounce) {
        const waiters = this.#idleWaiters;
        this.#idleWaiters = [];
        for (const w of waiters) w();
      }
    }
  }

  async #plan(): Promise<XfrmiPlan | undefined> {
    let observed;
    try {
      observed = await observe(this.#d.links, configuredTables(this.#config));
    } catch (e) {
      this.#d.log.event('xfrmi.error', { op: 'read', ifId: 0, subject: 'links, addresses and routes', error: (e as Error).message }, 'warn');
      return undefined;
    }
    const plan = planXfrmi(
      { children: [...this.#children.values()], synced: this.#synced, observed, now: this.#clock(), idle: this.#idleSince },
      this.#settings,
    );
    this.#idleSince = plan.idle;
    this.#last = plan;
    for (const id of this.#errors.keys()) if (!plan.rows.some((r) => r.ifId === id)) this.#errors.delete(id);
    this.#announceAdopted(plan, new Set(observed.links.filter(isOurs).map((l) => l.index)));
    this.#reportConflicts(plan.conflicts);
    return plan;
  }

  /** First sight of an interface of ours this process did not create: a restart adopted it. */
  #announceAdopted(plan: XfrmiPlan, present: Set<number>): void {
    for (const r of plan.rows) {
      if (r.owner !== 'ipsec-offload' || r.ifindex === null || this.#known.has(r.ifindex)) continue;
      this.#known.add(r.ifindex);
      this.#d.log.event('xfrmi.adopted', {
        ifId: r.ifId,
        name: r.name,
        ifindex: r.ifindex,
        up: r.state === 'up',
        ...(r.mtu !== null ? { mtu: r.mtu } : {}),
        inUse: r.state !== 'idle',
      });
    }
    for (const i of this.#known) if (!present.has(i)) this.#known.delete(i);
  }

  /** Each conflict is logged when it appears (again after it was resolved). */
  #reportConflicts(conflicts: readonly Conflict[]): void {
    const now = new Map(conflicts.map((c) => [`${c.kind}:${c.ifId}:${c.subject}`, c]));
    for (const [k, c] of now) {
      if (this.#reported.has(k)) continue;
      this.#d.log.event(
        'xfrmi.conflict',
        { ifId: c.ifId, kind: c.kind, subject: c.subject, ...(c.ifindex !== undefined ? { ifindex: c.ifindex } : {}), message: c.message },
        'warn',
      );
    }
    this.#reported = new Set(now.keys());
  }

  /** A timer for the next grace expiry or retry. */
  #armWake(): void {
    clearTimeout(this.#wake);
    this.#wake = undefined;
    if (this.#stopped) return;
    const now = this.#clock();
    const times = [this.#last?.wakeAt ?? undefined, this.#cooldown.nextAfter(now)].filter((t): t is number => t !== undefined);
    if (times.length === 0) return;
    const at = Math.min(...times);
    this.#wake = setTimeout(() => this.schedule(), Math.max(0, at - now) + 5);
    this.#wake.unref();
  }

  #restartPeriodic(): void {
    clearInterval(this.#periodic);
    this.#periodic = setInterval(() => {
      // A list-sas that failed is retried here; until it succeeds nothing is removed.
      if (!this.#synced && !this.#resyncing && this.#d.vici.connected) void this.resync('retry');
      this.schedule();
    }, Math.max(1000, this.#config.resync_interval));
    this.#periodic.unref();
  }
}

function actionKey(a: Action): string {
  return a.type.startsWith('route-') && 'route' in a ? `${a.type}:${a.ifId}:${a.route.dst}@${a.route.table}/${a.route.metric}` : `${a.type}:${a.ifId}`;
}
