// The executor: the only part of offload/ that talks to the kernel and to
// charon. It carries out one planner action at a time and records what
// happened in the state (through the reducers in model.ts).
//
// A swap (promote/demote) is delete + add of the same SA: the kernel cannot
// add or remove offload on an existing state (DESIGN §5). The rules:
//  1. the new copy's replay state is the FINAL state of the old one, from the
//     kernel's DELSA notification, so no outbound sequence number is reused
//     (AES-GCM IVs are sequence numbers: a repeat leaks the key);
//  2. lifetimes and counters (XFRMA_LTIME_VAL) are carried;
//  3. software first: if the offloaded add fails, the same state goes back
//     in software at once;
//  4. offload is verified by re-reading the SA (XFRMA_OFFLOAD_DEV).
import { NetlinkError } from '../netlink/errors.js';
import { XfrmFinalStateUnavailableError } from '../xfrm/errors.js';
import type { XfrmClient } from '../xfrm/client.js';
import { wipeStateKeys, type XfrmState, type XfrmStateId } from '../xfrm/state.js';
import type { EventLogger } from '../log/logger.js';
import { spiText } from '../log/events.js';
import { saFields } from './log-fields.js';
import type { Action } from './planner.js';
import type { KeyStore } from './keystore.js';
import {
  applyBusy,
  applyForget,
  applyInstalled,
  applyKernelSaGone,
  applyKernelSaMissing,
  applyKeysHeld,
  applyOffloadFailure,
  applyProbe,
  applyRekeyRequested,
  applySeq,
  type Learned,
} from './model.js';
import { isLarval, kernelSaInfo } from './kernel-view.js';
import { applyKernelSa } from './model.js';
import type { OffloadState, Reason, SaRecord } from './types.js';
import { probeState } from './probe.js';
import { faultPoint } from './fault.js';
import { addReplacingLarval, readPastLarval } from './larval.js';

const ESRCH = 3;
const EINVAL = 22;
const ENOSPC = 28;

export interface ExecutorOptions {
  /**
   * Outbound sequence numbers skipped when the final state of an SA is not
   * known (lost DELSA notification, or the kernel deleted it silently on
   * device loss): the copy starts at last-known + margin, never below.
   */
  seqMargin: number;
  /** XFRMA_REPLAY_THRESH set on managed SAs: an AEVENT at least every N packets */
  replayThreshold: number;
}

/** What the executor needs from charon: a rekey of one CHILD_SA by uniqueid. */
export interface RekeyRequester {
  rekeyChild(uniqueid: number): Promise<void>;
}

export interface ExecutorDeps {
  xfrm: XfrmClient;
  keys: KeyStore;
  charon: RekeyRequester;
  log: EventLogger;
  deviceName(ifindex: number): string;
  /** monotonic milliseconds, for swap gaps */
  clock(): number;
  options: ExecutorOptions;
}

export class Executor {
  constructor(private readonly d: ExecutorDeps) {}

  /**
   * Carries out one action. Never throws: failures are recorded in the state
   * and logged; returns false when the action failed outright (the caller
   * holds it back for a while).
   */
  async run(state: OffloadState, a: Action): Promise<boolean> {
    try {
      switch (a.type) {
        case 'load-keys':
          await this.#loadKeys(state, a.sa);
          break;
        case 'promote':
          await this.#swap(state, a.sa, a.ifindex, 'offloaded');
          break;
        case 'demote':
          await this.#swap(state, a.sa, undefined, a.reason);
          break;
        case 'reinstall':
          await this.#reinstall(state, a.sa);
          break;
        case 'remove':
          await this.#remove(state, a.sa);
          break;
        case 'forget':
          this.d.keys.drop(a.sa);
          applyForget(state, a.sa);
          break;
        case 'rekey':
          await this.#rekey(state, a.child, a.reason);
          break;
        case 'probe':
          await this.#probe(state, a.ifindex);
          break;
      }
      return true;
    } catch (e) {
      const sa = 'sa' in a ? state.sas.get(a.sa) : undefined;
      this.d.log.pino.error({
        event: 'executor.error',
        action: a.type,
        ...(sa ? { spi: spiText(sa.id.spi), dir: sa.dir } : {}),
        error: (e as Error).message,
      });
      return false;
    }
  }

  /** GETSA: hold the complete state, and ask for AEVENTs every replayThreshold packets. */
  async #loadKeys(state: OffloadState, key: string): Promise<void> {
    const sa = state.sas.get(key);
    if (!sa) return;
    let s: XfrmState;
    try {
      s = await this.#read(state, sa, 'load');
    } catch (e) {
      if (isErrno(e, ESRCH)) return applyKernelSaGone(state, key);
      throw e;
    }
    if (isLarval(s)) return applyKernelSaGone(state, key);
    this.d.keys.set(key, s);
    applyKeysHeld(state, key, true);
    applyKernelSa(state, kernelSaInfo(s));
    try {
      await this.d.xfrm.setAe({ id: aeIdOf(sa), replayThresh: this.d.options.replayThreshold });
    } catch (e) {
      // Not fatal: the sysctl default (2 packets, 1 s) still reports.
      this.d.log.pino.warn({ event: 'xfrm.aevent_threshold', spi: spiText(sa.id.spi), error: (e as Error).message });
    }
  }

  async #swap(state: OffloadState, key: string, ifindex: number | undefined, reason: Reason): Promise<void> {
    const sa = state.sas.get(key);
    const held = this.d.keys.get(key);
    if (!sa || !held) return;
    const fields = saFields(state, sa);
    applyBusy(state, key, true);
    try {
      // A fresh read: the base of the new copy, and the fallback replay state.
      let before: XfrmState;
      try {
        before = await this.#read(state, sa, 'swap');
      } catch (e) {
        if (isErrno(e, ESRCH)) return this.#vanished(state, key, 'esrch');
        throw e;
      }
      if (isLarval(before)) return this.#vanished(state, key, 'larval');
      this.d.keys.set(key, before);

      const t0 = this.d.clock();
      let final: XfrmState | undefined;
      try {
        final = await this.d.xfrm.deleteState(idOf(sa));
      } catch (e) {
        // Gone under us between our read and our delete.
        if (isErrno(e, ESRCH)) return this.#vanished(state, key, 'esrch');
        if (!(e instanceof XfrmFinalStateUnavailableError)) throw e;
      }
      // The SA is gone from the kernel now; only this process holds its keys.
      faultPoint('after-delsa');
      const finalSource = final ? 'delsa' : 'margin';
      const base = withReplay(before, final, sa.dir === 'out' && finalSource === 'margin' ? this.d.options.seqMargin : 0);
      if (final) wipeStateKeys(final);

      const op = ifindex === undefined ? 'demote' : 'promote';
      const dev = ifindex ?? before.offload?.ifindex;
      const wanted: XfrmState = { ...base, replayThresh: this.d.options.replayThreshold };
      if (ifindex !== undefined) wanted.offload = { ifindex, dir: sa.dir, packet: false };
      else delete wanted.offload;

      let failure: { learned: Learned; reason: Reason; errno?: string; kernel?: string; errnoNum?: number } | undefined;
      try {
        await addReplacingLarval(this.d.xfrm, wanted, idOf(sa));
      } catch (e) {
        if (ifindex === undefined) throw e; // a software add failing is not an offload failure
        failure = this.#classify(state, ifindex, e, sa);
        // Software first: the same state, without offload, at once.
        const soft: XfrmState = { ...wanted };
        delete soft.offload;
        await addReplacingLarval(this.d.xfrm, soft, idOf(sa));
      }
      const gapUs = Math.round((this.d.clock() - t0) * 1000);

      // Verify, don't trust: a device without offload ops makes the kernel
      // accept the request and install in software, silently.
      const after = await this.#read(state, sa, 'swap');
      const landed = after.offload?.ifindex;
      wipeStateKeys(after);
      this.d.keys.set(key, wanted);
      applyInstalled(state, key, landed);
      const seqNow = wanted.esn?.oseq ?? wanted.replay?.oseq ?? 0;
      this.d.log.event('sa.swap', { ...fields, op, gapUs, oseq: seqNow, finalState: finalSource });

      if (failure) {
        applyOffloadFailure(state, key, ifindex as number, failure.reason, failure.learned, {
          ...(failure.errnoNum !== undefined ? { errno: failure.errnoNum } : {}),
          ...(failure.kernel !== undefined ? { message: failure.kernel } : {}),
        });
        this.d.log.event('sa.fallback', {
          ...fields,
          dev: this.d.deviceName(ifindex as number),
          reason: failure.reason,
          ...(failure.errno ? { errno: failure.errno } : {}),
          ...(failure.kernel ? { kernel: failure.kernel } : {}),
          gapUs,
        }, 'warn');
      } else if (ifindex !== undefined && landed !== ifindex) {
        applyOffloadFailure(state, key, ifindex, 'silent-fallback', { silentFallback: true });
        this.d.log.event('sa.fallback', { ...fields, dev: this.d.deviceName(ifindex), reason: 'silent-fallback', gapUs }, 'warn');
      } else if (ifindex !== undefined) {
        this.d.log.event('sa.offloaded', { ...fields, dev: this.d.deviceName(ifindex), gapUs });
      } else {
        this.d.log.event('sa.demoted', { ...fields, dev: dev !== undefined ? this.d.deviceName(dev) : '-', reason, gapUs });
      }
    } finally {
      applyBusy(state, key, false);
    }
  }

  #classify(state: OffloadState, ifindex: number, e: unknown, sa: SaRecord): { learned: Learned; reason: Reason; errno?: string; kernel?: string; errnoNum?: number } {
    if (!(e instanceof NetlinkError)) return { learned: {}, reason: 'backoff' };
    const base = { errno: e.code, errnoNum: e.errno, ...(e.extack ? { kernel: e.extack } : {}) };
    if (e.errno === ENOSPC) {
      const onDevice = [...state.sas.values()].filter((s) => s.present && s.offloadIfindex === ifindex && s.key !== sa.key).length;
      this.d.log.event('device.capacity', { dev: this.d.deviceName(ifindex), ifindex, capacity: onDevice, source: 'learned' });
      return { ...base, learned: { capacity: onDevice }, reason: 'capacity' };
    }
    if (e.errno === EINVAL && sa.shape.esn && /ESN/i.test(e.extack ?? '')) return { ...base, learned: { esnUnsupported: true }, reason: 'esn-unsupported' };
    return { ...base, learned: {}, reason: 'backoff' };
  }

  /** A swap found the kernel lacking the SA: device loss or someone's delete, as applyKernelSaMissing decides. */
  #vanished(state: OffloadState, key: string, lookup: 'esrch' | 'larval'): void {
    const sa = state.sas.get(key);
    if (!sa) return;
    const repair = applyKernelSaMissing(state, sa);
    this.d.log.event('sa.vanished', { ...saFields(state, sa), during: 'swap', lookup, repair }, 'warn');
  }

  /**
   * A resync dump showed a larval stand-in ahead of this SA (one that came
   * after the swap's last read): remove it before it expires and reports a
   * hard EXPIRE of the SA's SPI to charon. Errors are logged, never thrown.
   */
  async unshadow(state: OffloadState, key: string): Promise<void> {
    const sa = state.sas.get(key);
    if (!sa || sa.busy || !sa.present) return;
    applyBusy(state, key, true);
    try {
      wipeStateKeys(await this.#read(state, sa, 'resync'));
    } catch (e) {
      if (!isErrno(e, ESRCH)) this.d.log.pino.error({ event: 'executor.error', action: 'unshadow', spi: spiText(sa.id.spi), dir: sa.dir, error: (e as Error).message });
    } finally {
      applyBusy(state, key, false);
    }
  }

  /** GETSA of the SA past larval stand-ins that shadow it (see larval.ts); each removal is logged. */
  async #read(state: OffloadState, sa: SaRecord, during: 'swap' | 'load' | 'reinstall' | 'resync'): Promise<XfrmState> {
    const shadows = { removed: 0 };
    try {
      return await readPastLarval(this.d.xfrm, idOf(sa), shadows);
    } finally {
      if (shadows.removed) this.d.log.event('sa.larval_removed', { ...saFields(state, sa), during, count: shadows.removed }, 'warn');
    }
  }

  /** Device loss: the kernel deleted the SA without telling anyone; add it back in software. */
  async #reinstall(state: OffloadState, key: string): Promise<void> {
    const sa = state.sas.get(key);
    const held = this.d.keys.get(key);
    if (!sa || !held) return;
    applyBusy(state, key, true);
    try {
      let larval = false;
      try {
        const present = await this.#read(state, sa, 'reinstall');
        if (!isLarval(present)) {
          // Still (or again) there: nothing lost after all.
          applyKernelSa(state, kernelSaInfo(present));
          wipeStateKeys(present);
          return;
        }
        larval = true;
      } catch (e) {
        if (!isErrno(e, ESRCH)) throw e;
      }
      const tracked = sa.seq;
      const base = withTrackedReplay(held, tracked, sa.dir === 'out' ? this.d.options.seqMargin : 0);
      const soft: XfrmState = { ...base, replayThresh: this.d.options.replayThreshold };
      delete soft.offload;
      // A larval ACQUIRE stand-in holds the SPI already: UPDSA replaces it.
      if (larval) await this.d.xfrm.addState(soft, { update: true });
      else await addReplacingLarval(this.d.xfrm, soft, idOf(sa));
      this.d.keys.set(key, soft);
      applyInstalled(state, key, undefined);
      const oseq = soft.esn?.oseq ?? soft.replay?.oseq ?? 0;
      if (tracked) applySeq(state, key, { oseq, oseqHi: soft.esn?.oseqHi ?? 0, seq: tracked.seq, seqHi: tracked.seqHi });
      this.d.log.event('sa.reinstalled', { ...saFields(state, sa), reason: 'device-loss', oseq, margin: sa.dir === 'out' ? this.d.options.seqMargin : 0 }, 'warn');
    } finally {
      applyBusy(state, key, false);
    }
  }

  async #remove(state: OffloadState, key: string): Promise<void> {
    const sa = state.sas.get(key);
    if (!sa) return;
    try {
      const final = await this.d.xfrm.deleteState(idOf(sa));
      wipeStateKeys(final);
    } catch (e) {
      if (!isErrno(e, ESRCH) && !(e instanceof XfrmFinalStateUnavailableError)) throw e;
    }
    applyKernelSaGone(state, key);
    this.d.keys.drop(key);
    applyKeysHeld(state, key, false);
    this.d.log.event('sa.removed', { ...saFields(state, sa), reason: 'child-gone' });
  }

  async #rekey(state: OffloadState, childKey: string, reason: 'keys-lost' | 'seq-exhaustion'): Promise<void> {
    const c = state.children.get(childKey);
    if (!c) return;
    applyRekeyRequested(state, childKey, reason);
    const dirs = [
      ['in', c.spiIn, c.saIn, c.remoteAddr, c.localAddr],
      ['out', c.spiOut, c.saOut, c.localAddr, c.remoteAddr],
    ] as const;
    for (const [dir, spi, key, src, dst] of dirs) {
      if (spi === undefined) continue;
      const sa = key ? state.sas.get(key) : undefined;
      const base = { spi: spiText(spi), dir, conn: c.ike.name, child: c.name, uniqueid: c.uniqueid, src, dst };
      if (reason === 'keys-lost' && (!sa || !sa.present)) this.d.log.event('sa.keys_lost', { ...base, action: 'rekey' }, 'warn');
      if (reason === 'seq-exhaustion' && dir === 'out' && sa) {
        this.d.log.event('seq.exhaustion', { ...base, oseq: sa.seq?.oseq ?? 0, threshold: 0 }, 'warn');
      }
    }
    this.d.log.event('sa.rekey_requested', { conn: c.ike.name, child: c.name, uniqueid: c.uniqueid, reason });
    await this.d.charon.rekeyChild(c.uniqueid);
  }

  /** Installs a throwaway ESN SA with offload on the device to learn whether it can offload ESN. */
  async #probe(state: OffloadState, ifindex: number): Promise<void> {
    const dev = state.devices.get(ifindex);
    if (!dev) return;
    const s = probeState(ifindex);
    let esn: 'supported' | 'unsupported' | 'unknown' = 'unknown';
    try {
      await this.d.xfrm.addState(s);
      const back = await this.d.xfrm.getState({ daddr: s.daddr, spi: s.spi, proto: 'esp', family: s.family });
      if (back.offload?.ifindex === ifindex) esn = 'supported';
      else applyOffloadFailure(state, '', ifindex, 'silent-fallback', { silentFallback: true });
      wipeStateKeys(back);
      const final = await this.d.xfrm.deleteState({ daddr: s.daddr, spi: s.spi, proto: 'esp', family: s.family }).catch(() => undefined);
      if (final) wipeStateKeys(final);
    } catch (e) {
      if (isErrno(e, EINVAL) && /ESN/i.test((e as NetlinkError).extack ?? '')) esn = 'unsupported';
      // ENOSPC (table full) or anything else: unknown, learned on a real SA instead.
    } finally {
      wipeStateKeys(s);
    }
    applyProbe(state, ifindex, esn);
    this.d.log.event('device.probed', { dev: dev.name, ifindex, esn });
  }
}

function idOf(sa: SaRecord): XfrmStateId {
  return {
    daddr: sa.id.daddr,
    spi: sa.id.spi,
    proto: sa.id.proto,
    family: sa.id.family === 10 ? 'ipv6' : 'ipv4',
    saddr: sa.saddr,
    ...(sa.id.mark ? { mark: sa.id.mark } : {}),
  };
}

function aeIdOf(sa: SaRecord): { daddr: string; spi: number; proto: number; family: 'ipv4' | 'ipv6'; saddr: string; mark?: { value: number; mask: number } } {
  return { daddr: sa.id.daddr, spi: sa.id.spi, proto: sa.id.proto, family: sa.id.family === 10 ? 'ipv6' : 'ipv4', saddr: sa.saddr, ...(sa.id.mark ? { mark: sa.id.mark } : {}) };
}

function isErrno(e: unknown, errno: number): boolean {
  return e instanceof NetlinkError && e.errno === errno;
}

/**
 * The new copy's replay state: the old copy's final state (from its DELSA
 * notification) when we have it; otherwise what we read just before the
 * delete, with the outbound counter moved on by `margin` so that whatever the
 * old copy sent in between is never sent again.
 */
export function withReplay(before: XfrmState, final: XfrmState | undefined, margin: number): XfrmState {
  const src = final ?? before;
  const out = reAddable(before);
  if (src.esn) out.esn = { ...src.esn, bitmap: [...src.esn.bitmap] };
  if (src.replay) out.replay = { ...src.replay };
  if (src.current) out.current = { ...src.current };
  if (!final && margin > 0) advanceOseq(out, margin);
  return out;
}

/** After device loss: the tracked replay state (AEVENTs), outbound advanced by `margin`. */
export function withTrackedReplay(held: XfrmState, tracked: SaRecord['seq'], margin: number): XfrmState {
  const out = reAddable(held);
  if (held.esn) out.esn = { ...held.esn, bitmap: [...held.esn.bitmap] };
  if (held.replay) out.replay = { ...held.replay };
  if (tracked) {
    if (out.esn) {
      if (tracked.oseqHi > out.esn.oseqHi || (tracked.oseqHi === out.esn.oseqHi && tracked.oseq > out.esn.oseq)) {
        out.esn.oseq = tracked.oseq;
        out.esn.oseqHi = tracked.oseqHi;
      }
      if (tracked.seqHi > out.esn.seqHi || (tracked.seqHi === out.esn.seqHi && tracked.seq > out.esn.seq)) {
        out.esn.seq = tracked.seq;
        out.esn.seqHi = tracked.seqHi;
      }
    } else if (out.replay) {
      out.replay.oseq = Math.max(out.replay.oseq, tracked.oseq);
      out.replay.seq = Math.max(out.replay.seq, tracked.seq);
    }
  }
  advanceOseq(out, margin);
  return out;
}

/**
 * A copy fit for NEWSA: km seq 0 (non-zero makes the kernel look for an
 * ACQUIRE to bind to), no last-used stamp (not an input).
 */
function reAddable(s: XfrmState): XfrmState {
  const out: XfrmState = { ...s, seq: 0 };
  delete out.lastUsed;
  delete out.stats;
  return out;
}

/** Moves the outbound sequence number forward (never back); carries into oseq_hi for ESN. */
function advanceOseq(s: XfrmState, margin: number): void {
  if (s.esn) {
    const next = s.esn.oseq + margin;
    if (next > 0xffffffff) {
      s.esn.oseq = next - 0x100000000;
      s.esn.oseqHi = (s.esn.oseqHi + 1) >>> 0;
    } else s.esn.oseq = next;
    return;
  }
  if (s.replay) s.replay.oseq = Math.min(0xffffffff, s.replay.oseq + margin);
}
