// The vf role: beside a tenant's charon (whose CHILD_SAs use `policies = no`,
// so the tenant kernel holds the SAs but enforces nothing), it follows the
// CHILD_SAs over VICI, reads each one's SAs with their keys from the tenant
// kernel and hands them to the PF, which terminates them on the host. On
// every (re)connection: hello with the epoch, sync with the complete list of
// CHILD_SAs, then the ones the PF lacks. A CHILD_SA the PF will not take back
// (retired: it was on the host before) is rekeyed by charon, and so is any
// CHILD_SA the PF asks to be rekeyed.
import { readFileSync } from 'node:fs';
import type { EventLogger } from '../../log/logger.js';
import { NetlinkError } from '../../netlink/errors.js';
import type { ViciClient } from '../../vici/client/client.js';
import type { ViciEvent } from '../../vici/session/session.js';
import type { ChildSa } from '../../vici/views/child-sa.js';
import type { IkeSa } from '../../vici/views/ike-sa.js';
import { parseChildRekey, parseChildUpdown, parseIkeUpdown } from '../../vici/views/events.js';
import type { XfrmClient } from '../../xfrm/client.js';
import { XFRM_MODE } from '../../xfrm/constants.js';
import { wipeStateKeys, type XfrmState } from '../../xfrm/state.js';
import type { VfAgentConfig } from '../config.js';
import type { TrafficSelector } from '../protocol/attributes.js';
import { childInput, type AnyFrame } from '../protocol/codec.js';
import { REKEY_REASONS } from '../protocol/constants.js';
import { MailboxClient, MailboxRefusedError } from './client.js';
import { bootId, charonProcess, epochOf } from './epoch.js';
import { BUILTIN_PROTOCOLS, parseNameFiles, parseTs, type NameTables } from './selectors.js';

const ESRCH = 3;
const LIVE = new Set(['INSTALLED', 'REKEYING', 'UPDATING']);
const AGENT = 'ipsec-offload vf agent';

export interface AgentDeps {
  vici: ViciClient;
  /** XFRM in the tenant's namespace (where charon installed the SAs) */
  xfrm: XfrmClient;
  log: EventLogger;
  config: () => VfAgentConfig;
}

/** `vf list` in the vf role. */
export interface AgentView {
  pf: string;
  state: 'connecting' | 'connected' | 'disconnected';
  vf: string | null;
  epoch: string | null;
  heartbeatMs: number | null;
  /** CHILD_SAs the PF holds for us, as far as we know */
  children: number;
  refused: number;
  lastError: string | null;
}

const where = (c: VfAgentConfig): string => c.pf.unix ?? (c.pf.tls ? `${c.pf.tls.host}:${c.pf.tls.port}` : '?');

export class VfAgent {
  readonly #d: AgentDeps;
  #client: MailboxClient | undefined;
  /** the client once its hello is answered: charon's events go to it from then on */
  #ready: MailboxClient | undefined;
  #state: AgentView['state'] = 'connecting';
  #vf: string | undefined;
  #epoch: bigint | undefined;
  #heartbeatMs: number | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #sent = new Set<number>();
  #refused = 0;
  #lastError: string | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #stopped = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #names: NameTables;
  readonly #off: (() => void)[] = [];

  constructor(d: AgentDeps) {
    this.#d = d;
    this.#names = loadNames();
  }

  view(): AgentView {
    return {
      pf: where(this.#d.config()),
      state: this.#state,
      vf: this.#vf ?? null,
      epoch: this.#epoch !== undefined ? this.#epoch.toString(16).padStart(16, '0') : null,
      heartbeatMs: this.#heartbeatMs ?? null,
      children: this.#sent.size,
      refused: this.#refused,
      lastError: this.#lastError ?? null,
    };
  }

  async start(): Promise<void> {
    const onEvent = (e: ViciEvent): void => this.#onVici(e);
    this.#d.vici.on('event', onEvent);
    // charon restarted: its CHILD_SAs are new ones (new epoch); start over.
    const onReconnect = (): void => {
      this.#epoch = undefined;
      this.#client?.close('charon reconnected');
    };
    this.#d.vici.on('reconnected', onReconnect);
    this.#off.push(() => {
      this.#d.vici.off('event', onEvent);
      this.#d.vici.off('reconnected', onReconnect);
    });
    await this.#d.vici.subscribe(['child-updown', 'child-rekey', 'ike-updown']);
    this.#loop = this.#run();
  }

  /** Leaves the PF with `bye keep`: the SAs stay installed while the agent restarts. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const off of this.#off.splice(0)) off();
    clearInterval(this.#heartbeat);
    const c = this.#client;
    if (c && !c.closed) await c.request('bye', { keep: true }).catch(() => undefined);
    c?.close('agent stopping');
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let delay = this.#d.config().reconnect_min;
    while (!this.#stopped) {
      const cfg = this.#d.config();
      this.#state = 'connecting';
      let reason = 'closed';
      try {
        const client = await MailboxClient.connect(cfg.pf, cfg.request_timeout);
        this.#client = client;
        const closed = new Promise<string>((r) => client.once('close', r));
        client.on('notice', (f) => this.#onNotice(f));
        await this.#session(client);
        delay = cfg.reconnect_min;
        reason = await closed;
      } catch (e) {
        reason = (e as Error).message;
        this.#lastError = reason;
        this.#client?.close(reason);
      }
      clearInterval(this.#heartbeat);
      this.#client = undefined;
      this.#ready = undefined;
      this.#state = 'disconnected';
      if (this.#stopped) break;
      this.#d.log.event('vf.agent_disconnected', { pf: where(cfg), reason, retryMs: delay }, 'warn');
      await new Promise<void>((r) => {
        this.#wake = r;
        setTimeout(r, delay).unref();
      });
      delay = Math.min(delay * 2, cfg.reconnect_max);
    }
  }

  /** hello, sync, the missing CHILD_SAs, then heartbeats. */
  async #session(client: MailboxClient): Promise<void> {
    // Kept until VICI reconnects (a charon restart): the fallback identity
    // (stats.uptime.since) can read a second apart from one call to the next.
    if (this.#epoch === undefined) {
      const proc = await charonProcess(this.#d.vici.socketPath);
      this.#epoch = epochOf(bootId(), proc ?? `since ${(await this.#d.vici.stats()).uptime.since}`);
    }
    const epoch = this.#epoch;
    const hello = await client.request('hello', { epoch, agent: AGENT });
    this.#vf = hello.attrs.vfName;
    this.#heartbeatMs = hello.attrs.heartbeatMs;
    // From here on charon's events are forwarded; queued behind the sync
    // below, so none is lost between the sync's list and the session being
    // up (a rekey asked for a retired CHILD_SA completes in that window).
    this.#ready = client;
    await this.#serial(async () => {
      const ikes = await this.#d.vici.listSas();
      const live = ikes.flatMap((ike) => ike.childSas.filter((c) => LIVE.has(c.state) && c.spiIn !== undefined && c.spiOut !== undefined).map((c) => ({ ike, c })));
      const sync = await client.request('sync', { uniqueids: live.map((x) => x.c.uniqueid) });
      const missing = new Set(sync.attrs.missing ?? []);
      this.#sent = new Set(live.map((x) => x.c.uniqueid).filter((u) => !missing.has(u)));
      for (const { ike, c } of live) if (missing.has(c.uniqueid)) await this.#add(client, ike, c);
      this.#d.log.event('vf.agent_connected', { pf: where(this.#d.config()), vf: this.#vf ?? '?', heartbeatMs: this.#heartbeatMs ?? 0, children: live.length, missing: missing.size });
    });
    this.#state = 'connected';
    this.#lastError = undefined;
    const every = Math.max(100, this.#heartbeatMs ?? 5000);
    this.#heartbeat = setInterval(() => {
      client.request('heartbeat').catch((e: unknown) => client.close(`heartbeat: ${(e as Error).message}`));
    }, every);
    this.#heartbeat.unref();
  }

  // ---- charon -------------------------------------------------------------------

  #onVici(e: ViciEvent): void {
    const client = this.#ready;
    if (!client || client.closed) return; // the next session's sync catches up
    try {
      if (e.name === 'child-updown') {
        const ev = parseChildUpdown(e.message);
        for (const c of ev.children) {
          if (ev.up) void this.#serial(() => this.#add(client, ev.ike, c));
          else void this.#serial(() => this.#del(client, c.uniqueid));
        }
      } else if (e.name === 'child-rekey') {
        const ev = parseChildRekey(e.message);
        for (const r of ev.rekeys) {
          // make before break: the new CHILD_SA first
          void this.#serial(async () => {
            await this.#add(client, ev.ike, r.new);
            await this.#del(client, r.old.uniqueid);
          });
        }
      } else if (e.name === 'ike-updown') {
        const ev = parseIkeUpdown(e.message);
        if (!ev.up) for (const c of ev.ike.childSas) void this.#serial(() => this.#del(client, c.uniqueid));
      }
    } catch (err) {
      this.#d.log.event('vici.bad_event', { name: e.name, error: `vf agent: ${(err as Error).message}` }, 'warn');
    }
  }

  async #add(client: MailboxClient, ike: IkeSa, c: ChildSa): Promise<void> {
    if (c.spiIn === undefined || c.spiOut === undefined || !LIVE.has(c.state)) return;
    const fail = (message: string): void => {
      this.#refused++;
      this.#d.log.event('vf.agent_refused', { request: 'sa.add', uniqueid: c.uniqueid, reason: 'local', message }, 'warn');
    };
    const local = parseAll(c.localTs, this.#names);
    const remote = parseAll(c.remoteTs, this.#names);
    if (!local.ok) return fail(local.reason);
    if (!remote.ok) return fail(remote.reason);
    const family = ike.localHost.includes(':') ? 'ipv6' : 'ipv4';
    let saIn: XfrmState | undefined;
    let saOut: XfrmState | undefined;
    try {
      saIn = await this.#d.xfrm.getState({ daddr: ike.localHost, spi: c.spiIn, proto: 'esp', family, ...(c.markIn ? { mark: { value: c.markIn, mask: c.markMaskIn ?? 0xffffffff } } : {}) });
      saOut = await this.#d.xfrm.getState({ daddr: ike.remoteHost, spi: c.spiOut, proto: 'esp', family, ...(c.markOut ? { mark: { value: c.markOut, mask: c.markMaskOut ?? 0xffffffff } } : {}) });
      const mode = c.mode.toLowerCase();
      await client.request('sa.add', {
        child: childInput({
          uniqueid: c.uniqueid,
          name: c.name,
          ike: ike.name,
          reqid: c.reqid,
          mode: XFRM_MODE.names.includes(mode as 'tunnel') ? XFRM_MODE.toNumber(mode as 'tunnel') : 0xff,
          saIn,
          saOut,
          localTs: local.ts,
          remoteTs: remote.ts,
        }),
      });
      this.#sent.add(c.uniqueid);
    } catch (e) {
      if (e instanceof NetlinkError && e.errno === ESRCH) return fail(`SA not in the kernel (yet): ${e.message}`);
      if (!(e instanceof MailboxRefusedError)) throw e;
      this.#refused++;
      this.#d.log.event('vf.agent_refused', { request: 'sa.add', uniqueid: c.uniqueid, reason: e.reason, message: e.detail }, 'warn');
      if (e.reason === 'retired') await this.#rekey(c.uniqueid, 'retired');
    } finally {
      if (saIn) wipeStateKeys(saIn);
      if (saOut) wipeStateKeys(saOut);
    }
  }

  async #del(client: MailboxClient, uniqueid: number): Promise<void> {
    if (!this.#sent.has(uniqueid)) return;
    this.#sent.delete(uniqueid);
    try {
      await client.request('sa.del', { uniqueid });
    } catch (e) {
      if (!(e instanceof MailboxRefusedError)) throw e;
      if (e.reason !== 'unknown-child') this.#d.log.event('vf.agent_refused', { request: 'sa.del', uniqueid, reason: e.reason, message: e.detail }, 'warn');
    }
  }

  #onNotice(f: AnyFrame): void {
    if (f.kind !== 'rekey') return;
    const { uniqueid, rekeyReason } = (f as AnyFrame & { kind: 'rekey' }).attrs;
    const reason = Object.entries(REKEY_REASONS).find(([, v]) => v === rekeyReason)?.[0] ?? `reason ${rekeyReason}`;
    void this.#rekey(uniqueid, reason);
  }

  async #rekey(uniqueid: number, reason: string): Promise<void> {
    this.#d.log.event('vf.agent_rekey', { uniqueid, reason });
    try {
      await this.#d.vici.rekey({ childId: uniqueid });
    } catch (e) {
      this.#lastError = `rekey #${uniqueid}: ${(e as Error).message}`;
    }
  }

  /** One change at a time, in the order charon reported them. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.#chain.then(fn, fn);
    this.#chain = p.catch((e: unknown) => {
      this.#lastError = (e as Error).message;
      this.#client?.close(`request failed: ${(e as Error).message}`);
    });
    return p;
  }
}

function parseAll(list: readonly string[], names: NameTables): { ok: true; ts: TrafficSelector[] } | { ok: false; reason: string } {
  const ts: TrafficSelector[] = [];
  for (const t of list) {
    const r = parseTs(t, names);
    if (!r.ok) return r;
    ts.push(r.ts);
  }
  return ts.length ? { ok: true, ts } : { ok: false, reason: 'no traffic selectors' };
}

function loadNames(): NameTables {
  const read = (p: string): string => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  const t = parseNameFiles(read('/etc/protocols'), read('/etc/services'));
  return { protocols: new Map([...BUILTIN_PROTOCOLS, ...t.protocols]), services: t.services };
}
