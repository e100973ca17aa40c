// Typed commands on top of the session: arguments in camelCase, results as
// views. Every method is a thin call()/streamedCall(); anything not covered
// here is one session.call(name, message) away.
import type { ViciMessage } from '../wire/message.js';
import type { ViciInputSection } from '../wire/values.js';
import { ViciSession, type CallOptions } from '../session/session.js';
import { parseListSa, type IkeSa } from '../views/ike-sa.js';
import { parseListConn, type ConnConfig } from '../views/conn.js';
import { parseStats, parseVersion, type Stats, type Version } from '../views/daemon.js';
import { parseLog, type LogEvent } from '../views/events.js';

export interface ListSasFilter {
  /** IKE config name */
  ike?: string;
  /** IKE_SA unique id */
  ikeId?: number;
  /** CHILD config name (5.9.6+; filters only the child-sas of each IKE_SA) */
  child?: string;
  /** CHILD_SA unique id (5.9.6+) */
  childId?: number;
  /** skip IKE_SAs that are busy instead of waiting for them (fast, maybe incomplete) */
  noblock?: boolean;
}

export interface ControlOptions extends CallOptions {
  /** each control-log line as charon reports progress */
  onLog?: (log: LogEvent) => void;
}

export interface InitiateArgs {
  child?: string;
  ike?: string;
  /**
   * charon's own wait in ms: 0 (charon's default) waits until established or
   * failed, -1 returns at once (no control-log). Blocking initiates hold a
   * charon worker thread each; prefer -1 or a bound plus the events.
   */
  timeout?: number;
  /** respect charon's IKE_SA initiation limits */
  initLimits?: boolean;
  /** control-log verbosity (charon default 1) */
  loglevel?: number;
}

export interface TerminateArgs {
  child?: string;
  ike?: string;
  childId?: number;
  ikeId?: number;
  /** delete without waiting for the peer (5.6.3+) */
  force?: boolean;
  timeout?: number;
  loglevel?: number;
}

export interface RekeyArgs {
  child?: string;
  ike?: string;
  childId?: number;
  ikeId?: number;
  /** reauthenticate instead of rekeying an IKE_SA (5.7.0+) */
  reauth?: boolean;
}

export interface ControlResult {
  /** control-log lines streamed during the command */
  logs: LogEvent[];
  response: ViciMessage;
}

export interface TerminateResult extends ControlResult {
  matches?: number;
  terminated?: number;
}

export interface RekeyResult {
  /** SAs for which charon queued a rekey; outcomes arrive as child-rekey/ike-rekey events */
  matches?: number;
  response: ViciMessage;
}

/** A CHILD_SA unique id charon never hands out (its counter would have to wrap). */
const NO_CHILD_ID = 0xffffffff;

/** Our own deadline when charon's `timeout` bounds the command: charon's plus this margin. */
const CONTROL_MARGIN_MS = 5000;

export class ViciClient extends ViciSession {
  async version(options?: CallOptions): Promise<Version> {
    return parseVersion(await this.call('version', undefined, options));
  }

  async stats(options?: CallOptions): Promise<Stats> {
    return parseStats(await this.call('stats', undefined, options));
  }

  /** All IKE_SAs with their CHILD_SAs (list-sas, streamed as one list-sa event per IKE_SA). */
  async listSas(filter: ListSasFilter = {}, options?: CallOptions): Promise<IkeSa[]> {
    const out: IkeSa[] = [];
    const msg = {
      ike: filter.ike,
      'ike-id': filter.ikeId,
      child: filter.child,
      'child-id': filter.childId,
      noblock: filter.noblock ? 'yes' : undefined,
    };
    await this.streamedCall('list-sas', 'list-sa', msg, {
      ...options,
      collect: false,
      onEvent: (m) => {
        for (const ike of parseListSa(m)) out.push(ike);
      },
    });
    return out;
  }

  /**
   * The IKE_SAs alone, without their CHILD_SAs. charon drops any message above
   * 512 KiB without a word, and one IKE_SA with ~1400 CHILD_SAs makes its
   * list-sa event that big, so listSas() then silently lacks that IKE_SA.
   * This listing stays small: it asks for a CHILD_SA id no CHILD_SA has
   * (child-id filter, charon 5.9.6+; older charons ignore it and list the
   * children too). Compare with listSas() to find IKE_SAs that went missing,
   * then list those per child config name ({ ikeId, child }).
   */
  async listIkeSas(filter: Omit<ListSasFilter, 'child' | 'childId'> = {}, options?: CallOptions): Promise<IkeSa[]> {
    return this.listSas({ ...filter, childId: NO_CHILD_ID }, options);
  }

  /** Loads (or replaces) a connection: `tree` is its swanctl.conf section, e.g. { local_addrs: [...], children: {...} }. */
  async loadConn(name: string, tree: ViciInputSection, options?: CallOptions): Promise<void> {
    await this.call('load-conn', new Map([[name, tree]]), options);
  }

  async unloadConn(name: string, options?: CallOptions): Promise<void> {
    await this.call('unload-conn', { name }, options);
  }

  /** Names of the connections loaded over VICI. */
  async getConns(options?: CallOptions): Promise<string[]> {
    return (await this.call('get-conns', undefined, options)).strings('conns') ?? [];
  }

  async listConns(filter: { ike?: string } = {}, options?: CallOptions): Promise<ConnConfig[]> {
    const out: ConnConfig[] = [];
    await this.streamedCall('list-conns', 'list-conn', { ike: filter.ike }, {
      ...options,
      collect: false,
      onEvent: (m) => {
        for (const c of parseListConn(m)) out.push(c);
      },
    });
    return out;
  }

  /** Initiates a CHILD_SA (and its IKE_SA if needed); `success = no` rejects with ViciCommandError. */
  async initiate(args: InitiateArgs, options: ControlOptions = {}): Promise<ControlResult> {
    return this.#control('initiate', { child: args.child, ike: args.ike, timeout: args.timeout, 'init-limits': args.initLimits, loglevel: args.loglevel }, args.timeout, options);
  }

  async terminate(args: TerminateArgs, options: ControlOptions = {}): Promise<TerminateResult> {
    const r = await this.#control(
      'terminate',
      { child: args.child, ike: args.ike, 'child-id': args.childId, 'ike-id': args.ikeId, force: args.force, timeout: args.timeout, loglevel: args.loglevel },
      args.timeout,
      options,
    );
    const out: TerminateResult = { ...r };
    const matches = r.response.number('matches');
    const terminated = r.response.number('terminated');
    if (matches !== undefined) out.matches = matches;
    if (terminated !== undefined) out.terminated = terminated;
    return out;
  }

  /**
   * Queues a rekey of the matching SAs; returns once charon accepted the job.
   * This is how SAs whose kernel state was lost get fresh keys.
   */
  async rekey(args: RekeyArgs, options?: CallOptions): Promise<RekeyResult> {
    const response = await this.call('rekey', { child: args.child, ike: args.ike, 'child-id': args.childId, 'ike-id': args.ikeId, reauth: args.reauth }, options);
    const matches = response.number('matches');
    return matches !== undefined ? { matches, response } : { response };
  }

  async #control(command: string, msg: ViciInputSection, charonTimeout: number | undefined, options: ControlOptions): Promise<ControlResult> {
    const logs: LogEvent[] = [];
    const timeoutMs = options.timeoutMs ?? (charonTimeout !== undefined && charonTimeout > 0 ? charonTimeout + CONTROL_MARGIN_MS : undefined);
    const { response } = await this.streamedCall(command, 'control-log', msg, {
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      // collected too, so a ViciCommandError carries the control-log in `events`
      onEvent: (m) => {
        const log = parseLog(m);
        logs.push(log);
        options.onLog?.(log);
      },
    });
    return { logs, response };
  }
}
