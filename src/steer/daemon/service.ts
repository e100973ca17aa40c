// Steering inside the daemon: one Steering per configured uplink, opened
// (pinned maps reused), VLAN RX offload checked (warned about, or turned off),
// attached, and then kept in step with the desired state: the uplink's
// configuration, the PF's VF list and the ESP exceptions of the SAs in the
// offload model. Every change runs in one queue (a pass, or an operator's
// add/del/detach), so no two ever interleave.
//
// What wakes a pass:
// - the config (SIGHUP reload), the operator (`steer add|del|detach`);
// - rtnetlink link events (VF MAC/VLAN set on the PF, ports appearing,
//   the uplink coming back), coalesced;
// - the SA model: the offload service has no change notification, so its
//   inbound SAs are compared every `pollMs` (a set of keys over the SA map,
//   no I/O) and a pass runs only when they changed;
// - a periodic pass (routes, anything missed) and retries after failures.
//
// On stop the programs and maps stay attached and pinned: a restarted daemon
// reuses them and traffic keeps flowing. Only `steer detach` removes them.
import type { LinkClient } from '../../link/client.js';
import type { Link } from '../../link/link-view.js';
import type { LinkMonitor } from '../../link/monitor.js';
import { spiText } from '../../log/events.js';
import type { EventLogger } from '../../log/logger.js';
import type { NetnsSpec } from '../../netlink/netns.js';
import type { OffloadState } from '../../offload/types.js';
import type { AppliedOp } from '../apply.js';
import { SteerApplyError } from '../apply.js';
import { desiredFromConfig, type SteerConfig, type SteerUplinkConfig } from '../config.js';
import { SteerBpfError, SteerInvalidError, type SteerIssue } from '../errors.js';
import { detachSteering, Steering, type SteerAttachReport, type SteerDetachReport, type SteerReader } from '../steering.js';
import { normalizeMac } from '../records.js';
import { isValid } from '../validate.js';
import type { VfSkip, VfSteeringInfo } from '../vf.js';
import { enforceVlanOffload, type VlanOffloadControl, type VlanOffloadReport } from '../vlan-offload.js';
import type { SteerFdbView } from '../views.js';
import { espExceptions, inboundKeys, inboundSas, sameKeys, type InboundSa } from './esp.js';
import type { SteerDaemonView } from './views.js';

export interface SteerServiceDeps {
  /** rtnetlink in the namespace the uplinks live in */
  links: LinkClient;
  linkMonitor: LinkMonitor;
  /** ethtool in that namespace (EthtoolClient) */
  ethtool: VlanOffloadControl;
  log: EventLogger;
  netns: NetnsSpec | undefined;
  config: SteerConfig;
  /** the offload model, read for its inbound SAs */
  model: () => Pick<OffloadState, 'sas'>;
  /** steer.o to load (default: dist/bpf/steer.o of this package) */
  objectFile?: string;
  /** how often the SA model is compared (default 500 ms) */
  pollMs?: number;
  /** a full pass this often (default 30 s) */
  periodicMs?: number;
  /** a failed uplink or reconcile is retried after (default 10 s) */
  retryMs?: number;
  clock?: () => number;
}

interface Failure {
  op: string;
  message: string;
  code: string;
  at: number;
}

interface Uplink {
  config: SteerUplinkConfig;
  steering: Steering | undefined;
  attach: SteerAttachReport | undefined;
  vlanOffload: VlanOffloadReport | undefined;
  /** removed by `steer detach`: left alone until its config changes or the daemon restarts */
  detached: boolean;
  error: Failure | undefined;
  /** no open attempt before (epoch ms) */
  retryAt: number;
  last: { at: number; reason: string; applied: number; issues: SteerIssue[]; skippedVfs: VfSkip[]; esp: number } | undefined;
  /** the last issues logged, so a repeated refusal is not logged every pass */
  issuesLogged: string;
}

/** An uplink the operator named is not one this daemon steers now. */
export class SteerNotManagedError extends Error {
  override readonly name = 'SteerNotManagedError';
  constructor(
    readonly uplink: string,
    reason: string,
  ) {
    super(`${uplink} ${reason}`);
  }
}

/** The keys whose change needs the uplink opened and attached again (the rest is a reconcile). */
const REOPEN_KEYS = ['mode', 'rx_vlan_offload'] as const;
const DEBOUNCE_MS = 100;
const MAX_LOGGED_OPS = 40;

export class SteerService {
  readonly #d: SteerServiceDeps;
  readonly #clock: () => number;
  /** the pin root the daemon started with (a reload does not move pins) */
  readonly #pinRoot: string;
  readonly #uplinks = new Map<string, Uplink>();
  #chain: Promise<unknown> = Promise.resolve();
  #queued = false;
  #pendingReason = new Set<string>();
  #debounce: NodeJS.Timeout | undefined;
  #poll: NodeJS.Timeout | undefined;
  #periodic: NodeJS.Timeout | undefined;
  #inbound: Set<string> = new Set();
  #stopped = false;
  readonly #off: (() => void)[] = [];

  constructor(d: SteerServiceDeps) {
    this.#d = d;
    this.#clock = d.clock ?? Date.now;
    this.#pinRoot = d.config.pin_root;
    for (const u of d.config.uplinks) this.#uplinks.set(u.device, fresh(u));
  }

  get pinRoot(): string {
    return this.#pinRoot;
  }

  get netns(): NetnsSpec | undefined {
    return this.#d.netns;
  }

  /** Uplinks in the config in force. */
  get configured(): string[] {
    return [...this.#uplinks.keys()];
  }

  /** First pass (open, attach, reconcile every uplink), then the triggers. */
  async start(): Promise<void> {
    const onLink = (l?: Link): void => {
      // A configured uplink that was missing (or failed) is tried again at once when its device shows up.
      const u = l ? this.#uplinks.get(l.name) : undefined;
      if (u && !u.steering && !u.detached) u.retryAt = 0;
      this.schedule('link');
    };
    const onOverrun = (): void => onLink();
    this.#d.linkMonitor.on('newlink', onLink);
    this.#d.linkMonitor.on('dellink', onLink);
    this.#d.linkMonitor.on('overrun', onOverrun);
    this.#off.push(() => {
      this.#d.linkMonitor.off('newlink', onLink);
      this.#d.linkMonitor.off('dellink', onLink);
      this.#d.linkMonitor.off('overrun', onOverrun);
    });
    this.#inbound = inboundKeys(this.#d.model());
    await this.#exclusive(() => this.#pass(new Set(['startup'])));
    this.#poll = setInterval(() => this.#tick(), this.#d.pollMs ?? 500);
    this.#poll.unref();
    this.#periodic = setInterval(() => this.schedule('periodic'), this.#d.periodicMs ?? 30_000);
    this.#periodic.unref();
  }

  /** Stops following; every program and map stays as it is (closing only our fds). */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const off of this.#off.splice(0)) off();
    clearTimeout(this.#debounce);
    clearInterval(this.#poll);
    clearInterval(this.#periodic);
    await this.#chain.catch(() => undefined);
    for (const u of this.#uplinks.values()) {
      u.steering?.close();
      u.steering = undefined;
    }
  }

  /** A reloaded config: uplinks added, removed, changed. */
  reconfigure(next: SteerConfig): void {
    if (next.pin_root !== this.#pinRoot) {
      this.#d.log.event(
        'steer.error',
        { uplink: '*', op: 'reconfigure', error: `steer.pin_root ${next.pin_root}: takes effect after a restart (pins stay in ${this.#pinRoot}; steer detach each uplink first)`, code: 'RESTART' },
        'warn',
      );
    }
    void this.#exclusive(() => {
      const wanted = new Map(next.uplinks.map((u) => [u.device, u]));
      for (const [name, u] of this.#uplinks) {
        if (wanted.has(name)) continue;
        u.steering?.close();
        this.#uplinks.delete(name);
        if (u.steering || u.attach) this.#d.log.event('steer.unmanaged', { uplink: name, reason: `removed from the config: left attached as it is (steer detach ${name} removes it)` }, 'warn');
      }
      for (const [name, cfg] of wanted) {
        const u = this.#uplinks.get(name);
        if (!u) {
          this.#uplinks.set(name, fresh(cfg));
          continue;
        }
        const changed = JSON.stringify(u.config) !== JSON.stringify(cfg);
        const reopen = REOPEN_KEYS.some((k) => u.config[k] !== cfg[k]);
        u.config = cfg;
        if (changed && u.detached) {
          u.detached = false;
          u.retryAt = 0;
        } else if (reopen && u.steering) {
          u.steering.close();
          u.steering = undefined;
          u.retryAt = 0;
        }
      }
    });
    this.schedule('config');
  }

  /** Wakes a pass (coalesced). */
  schedule(reason: string): void {
    if (this.#stopped) return;
    this.#pendingReason.add(reason);
    if (this.#queued || this.#debounce) return;
    this.#debounce = setTimeout(() => {
      this.#debounce = undefined;
      this.#queued = true;
      void this.#exclusive(async () => {
        this.#queued = false;
        const reasons = this.#pendingReason;
        this.#pendingReason = new Set();
        await this.#pass(reasons);
      });
    }, DEBOUNCE_MS);
  }

  /** Resolves once everything queued so far (passes, commands) has run. */
  async idle(): Promise<void> {
    for (;;) {
      const c = this.#chain;
      await c.catch(() => undefined);
      if (c === this.#chain && !this.#debounce && !this.#queued) return;
      if (this.#debounce) await new Promise((r) => setTimeout(r, DEBOUNCE_MS));
    }
  }

  // ---- what the control commands use ----

  /** The daemon's handle for a managed, attached uplink (read-only use). */
  reader(uplink: string): SteerReader | undefined {
    return this.#uplinks.get(uplink)?.steering;
  }

  daemonView(uplink: string): SteerDaemonView | null {
    const u = this.#uplinks.get(uplink);
    if (!u) return null;
    const now = this.#clock();
    const secs = (at: number): number => Math.max(0, Math.round((now - at) / 1000));
    return {
      configured: true,
      state: u.detached ? 'detached' : u.steering ? 'attached' : 'error',
      mode: u.config.mode,
      rxVlanOffload: u.config.rx_vlan_offload,
      attach: u.attach ?? null,
      vlanOffload: u.vlanOffload ?? null,
      error: u.error ? { op: u.error.op, message: u.error.message, code: u.error.code, secondsAgo: secs(u.error.at) } : null,
      lastReconcile: u.last
        ? { secondsAgo: secs(u.last.at), reason: u.last.reason, applied: u.last.applied, issues: u.last.issues, skippedVfs: u.last.skippedVfs, esp: u.last.esp }
        : null,
    };
  }

  /** A view for an uplink that is pinned but not configured. */
  unmanagedView(): SteerDaemonView {
    return { configured: false, state: 'unmanaged', mode: null, rxVlanOffload: null, attach: null, vlanOffload: null, error: null, lastReconcile: null };
  }

  /** `steer add`: a manual entry on the uplink that has `port` (or the one named). */
  add(entry: { uplink?: string; mac: string; vlan?: number; port: string }): Promise<{ uplink: string; entry: SteerFdbView }> {
    return this.#exclusive(() => {
      const [name, s] = entry.uplink !== undefined ? [entry.uplink, this.#attached(entry.uplink)] : this.#uplinkWithPort(entry.port);
      const view = s.add({ mac: entry.mac, port: entry.port, ...(entry.vlan !== undefined ? { vlan: entry.vlan } : {}) });
      this.#d.log.event('steer.manual', { op: 'add', uplink: name, mac: view.mac, vlan: view.vlan, port: entry.port });
      return { uplink: name, entry: view };
    });
  }

  /** `steer del`: removes a manual entry from the uplink named, or the one that has it. */
  del(key: { uplink?: string; mac: string; vlan?: number }): Promise<{ uplink: string | null; deleted: boolean }> {
    return this.#exclusive(() => {
      const vlan = key.vlan ?? 0;
      if (!isValid(key.mac)) throw new SteerInvalidError([{ at: 'del', message: `${JSON.stringify(key.mac)} is not a MAC address` }]);
      const want = normalizeMac(key.mac);
      let name = key.uplink;
      if (name === undefined) {
        const having = [...this.#uplinks].filter(([, u]) => u.steering?.hasFdb(want, vlan));
        if (having.length > 1) {
          throw new SteerInvalidError([{ at: 'del', message: `${want} vlan ${vlan} is on ${having.map(([n]) => n).join(' and ')}: name the uplink (--uplink)` }]);
        }
        name = having[0]?.[0];
        if (name === undefined) return { uplink: null, deleted: false };
      }
      const deleted = this.#attached(name).del({ mac: want, vlan });
      if (deleted) this.#d.log.event('steer.manual', { op: 'del', uplink: name, mac: want, vlan });
      return { uplink: name, deleted };
    });
  }

  /**
   * `steer detach`: removes everything steering created on the uplink. A
   * managed uplink is then left alone until its config changes or the daemon
   * restarts; any other pinned uplink is detached from its pins.
   */
  detach(uplink: string): Promise<SteerDetachReport> {
    return this.#exclusive(() => {
      const u = this.#uplinks.get(uplink);
      let report: SteerDetachReport;
      if (u?.steering) {
        report = u.steering.detach();
        u.steering = undefined;
      } else {
        report = detachSteering({ uplink, pinRoot: this.#pinRoot, ...(this.#d.netns ? { netns: this.#d.netns } : {}) });
      }
      if (u) {
        u.detached = true;
        u.error = undefined;
      }
      if (report.found) {
        this.#d.log.event('steer.detached', {
          uplink,
          uplinkXdp: report.uplinkXdp,
          portsDetached: report.portsDetached.length,
          pinsRemoved: report.pinsRemoved.length,
          pinsLeft: report.pinsLeft,
        });
      }
      return report;
    });
  }

  #attached(uplink: string): Steering {
    const u = this.#uplinks.get(uplink);
    if (!u) throw new SteerNotManagedError(uplink, `is not a steered uplink of this daemon (configured: ${this.configured.join(', ') || 'none'})`);
    if (u.detached) throw new SteerNotManagedError(uplink, 'was detached (steer detach): it is steered again after a restart or a reload that changes its config');
    if (!u.steering) throw new SteerNotManagedError(uplink, `is not steered now: ${u.error ? `${u.error.op}: ${u.error.message}` : 'not attached yet'}`);
    return u.steering;
  }

  #uplinkWithPort(port: string): [string, Steering] {
    const having = [...this.#uplinks].filter(([, u]) => u.steering?.hasPort(port));
    if (having.length === 1) {
      const [name, u] = having[0] as [string, Uplink];
      return [name, u.steering as Steering];
    }
    if (having.length === 0) {
      const only = [...this.#uplinks.keys()];
      if (only.length === 1) return [only[0] as string, this.#attached(only[0] as string)];
      throw new SteerInvalidError([{ at: 'add', message: `${port} is not a port of any steered uplink (ports come from the config and VF info)` }]);
    }
    throw new SteerInvalidError([{ at: 'add', message: `${port} is a port of ${having.map(([n]) => n).join(' and ')}: name the uplink (--uplink)` }]);
  }

  // ---- the queue and the pass ----

  #exclusive<T>(fn: () => Promise<T> | T): Promise<T> {
    const p = this.#chain.then(fn);
    this.#chain = p.catch(() => undefined);
    return p;
  }

  /** Every pollMs: did the SAs change? Is a failed uplink due for a retry? */
  #tick(): void {
    const keys = inboundKeys(this.#d.model());
    if (!sameKeys(keys, this.#inbound)) {
      this.#inbound = keys;
      this.schedule('sas');
    }
    const now = this.#clock();
    if ([...this.#uplinks.values()].some((u) => !u.detached && (!u.steering || u.error) && u.retryAt <= now && u.retryAt !== 0)) this.schedule('retry');
  }

  async #pass(reasons: Set<string>): Promise<void> {
    if (this.#stopped) return;
    const reason = [...reasons].sort().join(',') || 'periodic';
    const due = [...this.#uplinks.entries()].filter(([, u]) => !u.detached);
    if (due.length === 0) return;
    const facts = new Facts(this.#d.links, inboundSas(this.#d.model()));
    for (const [name, u] of due) {
      if (this.#stopped) return;
      // The uplink was deleted, or re-created under the same name: open again.
      if (u.steering) {
        const link = await facts.link(name).catch(() => undefined);
        if (link === null || (link && link.index !== u.steering.ifindex)) {
          u.steering.close();
          u.steering = undefined;
          u.retryAt = 0;
        }
      }
      if (!u.steering) {
        if (u.retryAt > this.#clock()) continue;
        await this.#open(name, u);
        if (!u.steering) continue;
      }
      await this.#reconcile(name, u, reason, facts);
    }
  }

  async #open(name: string, u: Uplink): Promise<void> {
    const cfg = u.config;
    let op = 'open';
    let s: Steering | undefined;
    try {
      s = Steering.open({
        uplink: name,
        pinRoot: this.#pinRoot,
        mode: cfg.mode,
        ...(this.#d.netns ? { netns: this.#d.netns } : {}),
        ...(this.#d.objectFile ? { objectFile: this.#d.objectFile } : {}),
      });
      op = 'vlan-offload';
      const vlan = await this.#vlanOffload(name, cfg);
      u.vlanOffload = vlan;
      op = 'attach';
      const report = s.attach();
      u.attach = report;
      u.steering = s;
      u.error = undefined;
      u.issuesLogged = '';
      this.#d.log.event('steer.attached', {
        uplink: name,
        ifindex: report.ifindex,
        mode: report.mode,
        action: report.action,
        programId: report.programId,
        portsUpgraded: report.portsUpgraded.length,
        reusedMaps: report.reusedMaps.length,
      });
    } catch (e) {
      s?.close();
      u.steering = undefined;
      this.#fail(name, u, op, e);
    }
  }

  /**
   * rx_vlan_offload: warn, or turn it off. Under `disable`, an offload that
   * stays on (fixed, or the change failed) keeps the uplink unattached: the
   * operator asked for tags to be seen, and without them tagged frames would
   * be keyed as untagged.
   */
  async #vlanOffload(name: string, cfg: SteerUplinkConfig): Promise<VlanOffloadReport | undefined> {
    let r: VlanOffloadReport;
    try {
      r = await enforceVlanOffload(this.#d.ethtool, name, cfg.rx_vlan_offload);
    } catch (e) {
      if (cfg.rx_vlan_offload === 'disable') throw e;
      this.#d.log.event('steer.error', { uplink: name, op: 'vlan-offload', error: (e as Error).message, code: codeOf(e) }, 'warn');
      return undefined;
    }
    if (r.action !== 'ok') {
      this.#d.log.event('steer.vlan_offload', { uplink: name, action: r.action, message: r.message ?? '' }, r.action === 'disabled' ? 'info' : 'warn');
    }
    if (r.action === 'fixed' && cfg.rx_vlan_offload === 'disable') {
      throw new SteerVlanOffloadFixedError(name);
    }
    return r;
  }

  async #reconcile(name: string, u: Uplink, reason: string, facts: Facts): Promise<void> {
    const s = u.steering as Steering;
    let op = 'read';
    try {
      const vfs = Object.keys(u.config.vf_ports).length ? await facts.vfs(name) : [];
      const esp = await facts.esp(name);
      op = 'reconcile';
      const { desired, skipped } = desiredFromConfig(u.config, vfs, esp);
      const r = s.reconcile(desired);
      const issues = [...r.issues, ...skipped.map((v) => ({ at: `vf_ports.${v.vf}`, message: v.reason }))];
      u.last = { at: this.#clock(), reason, applied: r.applied.length, issues: r.issues, skippedVfs: skipped, esp: esp.length };
      const issuesText = issues.map((i) => `${i.at}: ${i.message}`);
      const issuesKey = issuesText.join('\n');
      if (r.applied.length || issuesKey !== u.issuesLogged) {
        u.issuesLogged = issuesKey;
        this.#d.log.event(
          'steer.reconciled',
          { uplink: name, reason, applied: r.applied.length, ops: opsText(r.applied), issues: issuesText, esp: esp.length },
          issues.length ? 'warn' : 'info',
        );
      }
      u.error = undefined;
    } catch (e) {
      this.#fail(name, u, op, e);
    }
  }

  #fail(name: string, u: Uplink, op: string, e: unknown): void {
    const err = e instanceof SteerApplyError ? e.cause : (e as Error);
    const message = err instanceof Error ? err.message : String(err);
    const retryMs = this.#d.retryMs ?? 10_000;
    const now = this.#clock();
    const same = u.error && u.error.op === op && u.error.message === message;
    u.error = { op, message, code: codeOf(err), at: same && u.error ? u.error.at : now };
    u.retryAt = now + retryMs;
    if (!same) this.#d.log.event('steer.error', { uplink: name, op, error: message, code: u.error.code, retryMs }, 'warn');
  }
}

/** rx_vlan_offload: disable, but the device cannot turn it off. */
export class SteerVlanOffloadFixedError extends Error {
  override readonly name = 'SteerVlanOffloadFixedError';
  constructor(readonly device: string) {
    super(`${device}: rx-vlan-offload is fixed on and cannot be turned off (rx_vlan_offload: disable); not attached`);
  }
}

function fresh(config: SteerUplinkConfig): Uplink {
  return { config, steering: undefined, attach: undefined, vlanOffload: undefined, detached: false, error: undefined, retryAt: 0, last: undefined, issuesLogged: '' };
}

function codeOf(e: unknown): string {
  if (e instanceof SteerBpfError) return e.code;
  const x = e as { code?: unknown; name?: unknown };
  if (typeof x?.code === 'string') return x.code;
  return typeof x?.name === 'string' ? x.name : 'Error';
}

/** Map operations as one line each, for the log. */
export function opsText(applied: readonly AppliedOp[]): string[] {
  const lines = applied.map(({ op: o, mode }) => {
    switch (o.op) {
      case 'esp-add':
      case 'esp-delete':
        return `${o.op} vlan ${o.esp.vlan} ${o.esp.daddr} spi ${spiText(o.esp.spi)}`;
      case 'fdb-set':
        return `fdb-set ${o.entry.mac} vlan ${o.entry.vlan} -> ifindex ${o.entry.ifindex}${o.entry.strip ? ' (pop)' : ''} [${o.entry.origin}]`;
      case 'fdb-delete':
        return `fdb-delete ${o.key.mac} vlan ${o.key.vlan} (${o.reason})`;
      case 'port-set':
        return `port-set ${o.device} vlan ${o.port.vlan}${o.port.mac ? ` mac ${o.port.mac}` : ''}`;
      case 'devmap-set':
        return `devmap-set ${o.device}`;
      case 'port-attach':
        return `port-attach ${o.device}${mode ? ` (${mode})` : ''}`;
      case 'port-stats-reset':
        return `port-stats-reset slot ${o.slot}`;
      case 'port-detach':
      case 'devmap-delete':
      case 'port-delete':
        return `${o.op} ifindex ${o.ifindex}`;
    }
  });
  return lines.length > MAX_LOGGED_OPS ? [...lines.slice(0, MAX_LOGGED_OPS), `... and ${lines.length - MAX_LOGGED_OPS} more`] : lines;
}

/**
 * What one pass reads from the kernel, each at most once: the links (the
 * uplinks and where SA traffic arrives), the route back to each SA's peer,
 * and a PF's VF list.
 */
class Facts {
  #links: Promise<Map<number, Link>> | undefined;
  readonly #routes = new Map<string, Promise<number | undefined>>();

  constructor(
    private readonly client: LinkClient,
    private readonly sas: readonly InboundSa[],
  ) {}

  #all(): Promise<Map<number, Link>> {
    this.#links ??= this.client.listLinks().then((ls) => new Map(ls.map((l) => [l.index, l])));
    return this.#links;
  }

  /** The link by name; null when there is none. */
  async link(name: string): Promise<Link | null> {
    for (const l of (await this.#all()).values()) if (l.name === name) return l;
    return null;
  }

  async vfs(pf: string): Promise<VfSteeringInfo[]> {
    const l = await this.client.getLink(pf, { vf: true });
    return (l.vfs ?? []).map((v) => ({ vf: v.vf, mac: v.mac, vlan: v.vlan, vlanProto: v.vlanProto }));
  }

  /** The device the peer's traffic comes in through: the route back to it from the local address. */
  #arrival(sa: InboundSa): Promise<number | undefined> {
    const key = `${sa.saddr}|${sa.daddr}`;
    let p = this.#routes.get(key);
    if (!p) {
      p = this.client.getRoute(sa.saddr, { src: sa.daddr }).then(
        (r) => r.oif,
        () => undefined,
      );
      this.#routes.set(key, p);
    }
    return p;
  }

  async esp(uplink: string): Promise<ReturnType<typeof espExceptions>> {
    if (this.sas.length === 0) return [];
    const links = await this.#all();
    const up = await this.link(uplink);
    if (!up) return [];
    const arrivals = new Map<InboundSa, number | undefined>();
    for (const sa of this.sas) arrivals.set(sa, await this.#arrival(sa));
    return espExceptions(this.sas, (sa) => arrivals.get(sa), up, links);
  }
}
