// XfrmClient: the XFRM operations the project needs, over one
// NetlinkRequester (request/ack/dump) per network namespace.
//
// Every request is encoded against the running kernel's probed features, so a
// message that depends on an attribute the kernel would silently ignore is
// refused before it is sent (XfrmUnsupportedError). Encoded requests that held
// keys are zeroed once the kernel has answered; decoded replies are zeroed as
// soon as their keys sit in SecretBytes.
import { AF_INET } from '../netlink/codec/address.js';
import { NetlinkError } from '../netlink/errors.js';
import { NETLINK_XFRM, NLM_F_REPLACE, wipeOutgoing, type NetlinkMessage, type OutgoingMessage } from '../netlink/message.js';
import type { NetnsSpec } from '../netlink/netns.js';
import { NetlinkRequester } from '../netlink/requester.js';
import { aeFromWire, aeIdToWire, aeUpdateToWire, type XfrmAe, type XfrmAeId, type XfrmAeUpdate } from './ae.js';
import { XFRM_POLICY_TYPE, XFRM_PROTO, type AeFlag, type PolicyType, type XfrmProtoName } from './constants.js';
import { XfrmFinalStateUnavailableError, XfrmProtocolError } from './errors.js';
import { probeKernelFeatures, type KernelFeatures } from './features.js';
import { DelsaCollector } from './final-state.js';
import { decodeXfrm, encodeXfrm, xfrmDescriber, type XfrmEncodeInput, type XfrmMessageKind } from './messages.js';
import { describePolicyId, policyFromWire, policyIdToWire, policyToWire, type XfrmPolicy, type XfrmPolicyId } from './policy.js';
import { stateFromWire, stateToWire, type XfrmState } from './state.js';
import {
  describeStateId,
  spiRequestToWire,
  stateFilterToWire,
  stateIdToWire,
  type XfrmSpiRequest,
  type XfrmStateFilter,
  type XfrmStateId,
} from './state-requests.js';

export interface XfrmClientOptions {
  netns?: NetnsSpec;
  /** per-request deadline (default 5000 ms) */
  timeoutMs?: number;
  /** use these instead of probing the kernel */
  features?: KernelFeatures;
  /** how long deleteState waits for its DELSA notification after the ack (default 2000 ms) */
  notificationTimeoutMs?: number;
}

export type XfrmBatchResult = { ok: true } | { ok: false; error: Error };

export interface SadInfo {
  count: number;
  hashBuckets: number;
  hashMaxBuckets: number;
}

export interface SpdInfo {
  in: number;
  out: number;
  fwd: number;
  inSocket: number;
  outSocket: number;
  fwdSocket: number;
  hashBuckets: number;
  hashMaxBuckets: number;
  ipv4Thresh?: { lbits: number; rbits: number };
  ipv6Thresh?: { lbits: number; rbits: number };
}

/** The GETSA that marks a batch's sequence numbers: spi 0 is never hashed, so it always fails ESRCH. */
const SEQ_MARKER: XfrmEncodeInput<'GETSA'> = { header: { family: AF_INET, daddr: '0.0.0.0', spi: 0, proto: 50 } };
const ESRCH = 3;
/** Below the requester's 256 requests per sendmsg, so one chunk is numbered without gaps. */
const DELETE_CHUNK = 200;

export type XfrmDeleteResult = { ok: true; state: XfrmState } | { ok: false; error: Error };

export class XfrmClient {
  readonly features: KernelFeatures;
  readonly #requester: NetlinkRequester;
  readonly #netns: NetnsSpec | undefined;
  readonly #timeoutMs: number;
  readonly #notificationTimeoutMs: number;
  #delsa: DelsaCollector | undefined;

  private constructor(requester: NetlinkRequester, features: KernelFeatures, opts: XfrmClientOptions) {
    this.#requester = requester;
    this.features = features;
    this.#netns = opts.netns;
    this.#timeoutMs = opts.timeoutMs ?? 5000;
    this.#notificationTimeoutMs = opts.notificationTimeoutMs ?? 2000;
  }

  /** Opens the socket (in `netns` if given) and probes the kernel once. */
  static async open(opts: XfrmClientOptions = {}): Promise<XfrmClient> {
    const requester = NetlinkRequester.open(NETLINK_XFRM, opts.netns ? { netns: opts.netns } : {});
    try {
      const features = opts.features ?? (await probeKernelFeatures(requester));
      return new XfrmClient(requester, features, opts);
    } catch (e) {
      requester.close();
      throw e;
    }
  }

  get portId(): number {
    return this.#requester.portId;
  }

  close(): void {
    this.#delsa?.close();
    this.#delsa = undefined;
    this.#requester.close();
  }

  // ---- states ----------------------------------------------------------------

  /** NEWSA (or UPDSA with update: true; UPDSA cannot change keys, replay or offload). */
  async addState(state: XfrmState, opts: { update?: boolean } = {}): Promise<void> {
    await this.#request(opts.update ? 'UPDSA' : 'NEWSA', stateToWire(state));
  }

  /** Many NEWSA/UPDSA in as few sendmsg calls as possible; one result per state, in order. */
  async addStates(states: readonly XfrmState[], opts: { update?: boolean } = {}): Promise<XfrmBatchResult[]> {
    const kind = opts.update ? 'UPDSA' : 'NEWSA';
    const results: XfrmBatchResult[] = new Array<XfrmBatchResult>(states.length);
    const messages: OutgoingMessage[] = [];
    const slots: number[] = [];
    states.forEach((s, i) => {
      try {
        messages.push(encodeXfrm(kind, stateToWire(s), { features: this.features }));
        slots.push(i);
      } catch (error) {
        results[i] = { ok: false, error: error as Error };
      }
    });
    try {
      const sent = await this.#requester.requestBatch(messages, { describe: xfrmDescriber, timeoutMs: this.#timeoutMs });
      sent.forEach((r, n) => {
        results[slots[n] as number] = r.ok ? { ok: true } : { ok: false, error: r.error };
      });
    } finally {
      for (const m of messages) wipeOutgoing(m);
    }
    return results;
  }

  /** GETSA: the state with its keys (wipe them when done). NetlinkError ESRCH if absent. */
  async getState(id: XfrmStateId): Promise<XfrmState> {
    const replies = await this.#request('GETSA', stateIdToWire(id));
    return this.#onlyState(replies, `GETSA ${describeStateId(id)}`);
  }

  /** GETSA dump, optionally filtered by the kernel. */
  async dumpStates(filter: XfrmStateFilter = {}): Promise<XfrmState[]> {
    const replies = await this.#dump('GETSA_DUMP', { attrs: stateFilterToWire(filter) });
    return replies.map((m) => this.#state(m, 'GETSA dump'));
  }

  /**
   * DELSA; resolves with the SA's FINAL state, taken from the kernel's DELSA
   * notification (replay counters after the SA stopped advancing). Throws
   * NetlinkError if the kernel refused; XfrmFinalStateUnavailableError if the
   * SA is gone but its notification was lost.
   */
  async deleteState(id: XfrmStateId): Promise<XfrmState> {
    const [r] = await this.deleteStates([id]);
    if (!r) throw new XfrmProtocolError('DELSA', 'no result');
    if (!r.ok) throw r.error;
    return r.state;
  }

  /** deleteState for many SAs, batched (up to DELETE_CHUNK per sendmsg). */
  async deleteStates(ids: readonly XfrmStateId[]): Promise<XfrmDeleteResult[]> {
    const out: XfrmDeleteResult[] = [];
    for (let i = 0; i < ids.length; i += DELETE_CHUNK) out.push(...(await this.#deleteChunk(ids.slice(i, i + DELETE_CHUNK))));
    return out;
  }

  async #deleteChunk(ids: readonly XfrmStateId[]): Promise<XfrmDeleteResult[]> {
    const collector = (this.#delsa ??= new DelsaCollector(this.#netns));
    const end = collector.begin();
    const messages: OutgoingMessage[] = [encodeXfrm('GETSA', SEQ_MARKER)];
    try {
      for (const id of ids) messages.push(encodeXfrm('DELSA', stateIdToWire(id), { features: this.features }));
      // One requestBatch numbers its requests consecutively: the marker's
      // error tells us its seq, so DELSA i has marker + 1 + i.
      const [marker, ...acks] = await this.#requester.requestBatch(messages, { describe: xfrmDescriber, timeoutMs: this.#timeoutMs });
      const base = marker && !marker.ok && marker.error instanceof NetlinkError && marker.error.errno === ESRCH ? marker.error.seq : undefined;
      return await Promise.all(
        ids.map(async (id, i) => {
          const ack = acks[i];
          if (!ack) return { ok: false as const, error: new XfrmProtocolError('DELSA', 'no result') };
          if (!ack.ok) return { ok: false as const, error: ack.error };
          const what = describeStateId(id);
          if (base === undefined) return { ok: false as const, error: new XfrmFinalStateUnavailableError(what, 'timeout') };
          const seq = (base + 1 + i) >>> 0 || 1;
          const outcome = await collector.wait(seq, this.#requester.portId, id, this.#notificationTimeoutMs);
          if ('state' in outcome) return { ok: true as const, state: outcome.state };
          return { ok: false as const, error: new XfrmFinalStateUnavailableError(what, outcome.missing) };
        }),
      );
    } finally {
      end();
      for (const m of messages) wipeOutgoing(m);
    }
  }

  /**
   * FLUSHSA: deletes every SA of `proto` (default: all) in the namespace.
   * The daemon must NEVER call this: it removes charon's SAs too. Tests and
   * throwaway namespaces only.
   */
  async flushStates(proto: XfrmProtoName | number = 0): Promise<void> {
    await this.#request('FLUSHSA', { header: { proto: XFRM_PROTO.toNumber(proto) } });
  }

  /** ALLOCSPI: reserves an SPI in [min, max] by creating a larval (ACQ) state, returned. */
  async allocSpi(r: XfrmSpiRequest): Promise<XfrmState> {
    const replies = await this.#request('ALLOCSPI', spiRequestToWire(r));
    return this.#onlyState(replies, 'ALLOCSPI');
  }

  // ---- async events (replay/lifetime counters) ----------------------------------

  /** GETAE; with thresholds: true the kernel adds REPLAY_THRESH/ETIMER_THRESH. */
  async getAe(id: XfrmAeId, opts: { thresholds?: boolean } = {}): Promise<XfrmAe> {
    const flags: AeFlag[] = opts.thresholds ? ['rthr', 'ethr'] : [];
    const replies = await this.#request('GETAE', aeIdToWire(id, flags));
    const [m] = replies;
    if (replies.length !== 1 || !m || m.type !== 30) throw new XfrmProtocolError('GETAE', `expected one NEWAE reply, got ${replies.length}`);
    try {
      const d = decodeXfrm('NEWAE', m);
      return aeFromWire(d.header, d.attrs);
    } finally {
      m.payload.fill(0);
    }
  }

  /** NEWAE with NLM_F_REPLACE: overwrites replay state / counters / thresholds of a VALID SA. */
  async setAe(update: XfrmAeUpdate): Promise<void> {
    await this.#request('NEWAE', { ...aeUpdateToWire(update), flags: NLM_F_REPLACE });
  }

  // ---- counts ------------------------------------------------------------------

  async sadInfo(): Promise<SadInfo> {
    const [m] = await this.#request('GETSADINFO', { header: { flags: 0xffffffff } });
    if (!m || m.type !== 34) throw new XfrmProtocolError('GETSADINFO', 'no NEWSADINFO reply');
    const d = decodeXfrm('NEWSADINFO', m);
    return { count: d.attrs.cnt ?? 0, hashBuckets: d.attrs.hinfo?.sadhcnt ?? 0, hashMaxBuckets: d.attrs.hinfo?.sadhmcnt ?? 0 };
  }

  async spdInfo(): Promise<SpdInfo> {
    const [m] = await this.#request('GETSPDINFO', { header: { flags: 0xffffffff } });
    if (!m || m.type !== 36) throw new XfrmProtocolError('GETSPDINFO', 'no NEWSPDINFO reply');
    const d = decodeXfrm('NEWSPDINFO', m);
    const i = d.attrs.info;
    const out: SpdInfo = {
      in: i?.incnt ?? 0,
      out: i?.outcnt ?? 0,
      fwd: i?.fwdcnt ?? 0,
      inSocket: i?.inscnt ?? 0,
      outSocket: i?.outscnt ?? 0,
      fwdSocket: i?.fwdscnt ?? 0,
      hashBuckets: d.attrs.hinfo?.spdhcnt ?? 0,
      hashMaxBuckets: d.attrs.hinfo?.spdhmcnt ?? 0,
    };
    if (d.attrs.ipv4Hthresh) out.ipv4Thresh = { ...d.attrs.ipv4Hthresh };
    if (d.attrs.ipv6Hthresh) out.ipv6Thresh = { ...d.attrs.ipv6Hthresh };
    return out;
  }

  // ---- policies -----------------------------------------------------------------

  async addPolicy(policy: XfrmPolicy): Promise<void> {
    await this.#request('NEWPOLICY', policyToWire(policy));
  }

  /** UPDPOLICY: replaces the policy with the same selector/dir/mark/if_id (or adds it). */
  async updatePolicy(policy: XfrmPolicy): Promise<void> {
    await this.#request('UPDPOLICY', policyToWire(policy));
  }

  async getPolicy(id: XfrmPolicyId): Promise<XfrmPolicy> {
    const replies = await this.#request('GETPOLICY', policyIdToWire(id));
    const [m] = replies;
    const what = `GETPOLICY ${describePolicyId(id)}`;
    if (replies.length !== 1 || !m || m.type !== 19) throw new XfrmProtocolError(what, `expected one NEWPOLICY reply, got ${replies.length}`);
    const d = decodeXfrm('NEWPOLICY', m);
    return policyFromWire(d.header, d.attrs, d.unknown.map((u) => u.type));
  }

  /** GETPOLICY dump (main and sub policies). */
  async dumpPolicies(): Promise<XfrmPolicy[]> {
    const replies = await this.#dump('GETPOLICY_DUMP', {});
    return replies.map((m) => {
      if (m.type !== 19) throw new XfrmProtocolError('GETPOLICY dump', `unexpected message type ${m.type}`);
      const d = decodeXfrm('NEWPOLICY', m);
      return policyFromWire(d.header, d.attrs, d.unknown.map((u) => u.type));
    });
  }

  async deletePolicy(id: XfrmPolicyId): Promise<void> {
    await this.#request('DELPOLICY', policyIdToWire(id));
  }

  /**
   * FLUSHPOLICY: deletes every policy (of `type`, default main) in the
   * namespace. Like flushStates, never for the daemon.
   */
  async flushPolicies(type?: PolicyType | number): Promise<void> {
    await this.#request('FLUSHPOLICY', type === undefined ? {} : { attrs: { policyType: { type: XFRM_POLICY_TYPE.toNumber(type) } } });
  }

  // ---- plumbing -------------------------------------------------------------------

  async #request<K extends XfrmMessageKind>(kind: K, input: XfrmEncodeInput<K>): Promise<NetlinkMessage[]> {
    const m = encodeXfrm(kind, input, { features: this.features });
    try {
      return await this.#requester.request(m, { describe: xfrmDescriber, timeoutMs: this.#timeoutMs });
    } finally {
      wipeOutgoing(m);
    }
  }

  async #dump<K extends XfrmMessageKind>(kind: K, input: XfrmEncodeInput<K>): Promise<NetlinkMessage[]> {
    const m = encodeXfrm(kind, input, { features: this.features });
    return this.#requester.dump(m, { describe: xfrmDescriber, timeoutMs: this.#timeoutMs });
  }

  #onlyState(replies: NetlinkMessage[], what: string): XfrmState {
    const [m] = replies;
    if (replies.length !== 1 || !m) throw new XfrmProtocolError(what, `expected one NEWSA reply, got ${replies.length}`);
    return this.#state(m, what);
  }

  #state(m: NetlinkMessage, what: string): XfrmState {
    if (m.type !== 16) throw new XfrmProtocolError(what, `unexpected message type ${m.type}`);
    try {
      const d = decodeXfrm('NEWSA', m);
      return stateFromWire(d.header, d.attrs, d.unknown.map((u) => u.type));
    } finally {
      m.payload.fill(0);
    }
  }
}
