// Catches the DELSA notification our own DELSA request causes: it carries the
// SA's final state (replay counters taken after the SA died), which is the
// only safe source for the replay state of a re-added copy (DESIGN §5.1).
//
// The kernel multicasts it on XFRMNLGRP_SA during our sendmsg, before the
// ack, stamped with the request's nlmsg_seq and nlmsg_pid (the pid field of
// OUR header — 0 from NetlinkRequester — not the socket's port id). The ack
// comes on the requester's socket, the notification on this listener's, and
// the two are read in no particular order: notifications are parked here by
// seq until their delete asks for them.
import { NetlinkDecodeError } from '../netlink/errors.js';
import { NetlinkListener } from '../netlink/listener.js';
import { NETLINK_XFRM, type NetlinkMessage } from '../netlink/message.js';
import type { NetnsSpec } from '../netlink/netns.js';
import { normalizeAddress } from '../netlink/codec/address.js';
import { XFRMNLGRP, XFRM_PROTO } from './constants.js';
import { eventFromMessage } from './events.js';
import { XFRM_MESSAGES, decodeXfrm } from './messages.js';
import type { XfrmStateId } from './state-requests.js';
import { wipeStateKeys, type XfrmState } from './state.js';

interface Parked {
  pid: number;
  id: XfrmStateId;
  state: XfrmState;
  at: number;
}

type Outcome = { state: XfrmState } | { missing: 'overrun' | 'timeout' | 'closed' };

interface Waiter {
  seq: number;
  portId: number;
  id: XfrmStateId;
  overrun: boolean;
  resolve(o: Outcome): void;
  timer: NodeJS.Timeout | undefined;
}

/** Parked notifications older than this are dropped (their delete gave up). */
const PARK_MS = 30_000;

export class DelsaCollector {
  readonly #listener: NetlinkListener;
  readonly #parked = new Map<number, Parked[]>();
  readonly #waiters = new Set<Waiter>();
  #active = 0;
  #closed = false;

  constructor(netns: NetnsSpec | undefined) {
    this.#listener = NetlinkListener.open(NETLINK_XFRM, [XFRMNLGRP.sa], netns ? { netns } : {});
    this.#listener.keepAlive(false);
    this.#listener.on('message', (m) => this.#onMessage(m));
    this.#listener.on('overrun', () => {
      for (const w of this.#waiters) w.overrun = true;
    });
    // Errors of this private socket surface as a missing notification.
    this.#listener.on('error', () => undefined);
  }

  /** Call before sending DELSA; the returned function after all its waits. */
  begin(): () => void {
    this.#active++;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.#active--;
      if (this.#active === 0) this.#dropParked(() => true);
    };
  }

  /**
   * The final state of the SA deleted by request `seq` (sent with nlmsg_pid 0
   * by a socket with `portId`). Matches on seq AND the SA's identity.
   */
  wait(seq: number, portId: number, id: XfrmStateId, timeoutMs: number): Promise<Outcome> {
    const found = this.#take(seq, portId, id);
    if (found) return Promise.resolve({ state: found });
    if (this.#closed) return Promise.resolve({ missing: 'closed' });
    return new Promise<Outcome>((resolve) => {
      const w: Waiter = { seq, portId, id, overrun: false, resolve, timer: undefined };
      w.timer = setTimeout(() => {
        this.#waiters.delete(w);
        resolve({ missing: w.overrun ? 'overrun' : 'timeout' });
      }, timeoutMs);
      this.#waiters.add(w);
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener.close();
    for (const w of this.#waiters) {
      clearTimeout(w.timer);
      w.resolve({ missing: 'closed' });
    }
    this.#waiters.clear();
    this.#dropParked(() => true);
  }

  #onMessage(m: NetlinkMessage): void {
    if (m.type !== XFRM_MESSAGES.DELSA.type || this.#active === 0) return;
    let parked: Parked | undefined;
    try {
      const ev = eventFromMessage(decodeXfrm('DELSA', m));
      if (ev.kind === 'delsa' && ev.state) parked = { pid: ev.pid, id: ev.id, state: ev.state, at: Date.now() };
    } catch (e) {
      if (!(e instanceof NetlinkDecodeError)) throw e;
    } finally {
      m.payload.fill(0);
    }
    if (!parked) return;
    for (const w of this.#waiters) {
      if (w.seq === m.seq && matches(w, parked)) {
        this.#waiters.delete(w);
        clearTimeout(w.timer);
        w.resolve({ state: parked.state });
        return;
      }
    }
    const now = Date.now();
    this.#dropParked((p) => now - p.at > PARK_MS);
    const list = this.#parked.get(m.seq) ?? [];
    list.push(parked);
    this.#parked.set(m.seq, list);
  }

  #take(seq: number, portId: number, id: XfrmStateId): XfrmState | undefined {
    const list = this.#parked.get(seq);
    if (!list) return undefined;
    const i = list.findIndex((p) => matches({ portId, id }, p));
    if (i < 0) return undefined;
    const [p] = list.splice(i, 1);
    if (!list.length) this.#parked.delete(seq);
    return p?.state;
  }

  #dropParked(which: (p: Parked) => boolean): void {
    for (const [seq, list] of this.#parked) {
      const keep = list.filter((p) => {
        if (!which(p)) return true;
        wipeStateKeys(p.state);
        return false;
      });
      if (keep.length) this.#parked.set(seq, keep);
      else this.#parked.delete(seq);
    }
  }
}

/** The kernel's mark lookup: (lookup value & lookup mask) & SA mask == SA value. */
function markMatches(lookup: XfrmStateId['mark'], sa: XfrmStateId['mark']): boolean {
  const m = lookup ? (lookup.value & lookup.mask) >>> 0 : 0;
  return (m & (sa?.mask ?? 0)) >>> 0 === (sa?.value ?? 0) >>> 0;
}

function matches(w: { portId: number; id: XfrmStateId }, p: Parked): boolean {
  return (
    (p.pid === 0 || p.pid === w.portId) &&
    p.id.spi === w.id.spi >>> 0 &&
    p.id.daddr === normalizeAddress(w.id.daddr) &&
    XFRM_PROTO.toNumber(p.id.proto) === XFRM_PROTO.toNumber(w.id.proto) &&
    markMatches(w.id.mark, p.id.mark)
  );
}
