// Larval ACQUIRE states that hold an SA's (daddr, SPI): reading and adding
// the SA past them.
//
// charon's outbound policy templates carry the SA's SPI, so a packet that
// finds no outbound SA (a swap gap, a device loss) makes the kernel create a
// larval stand-in with that very SPI (see isLarval). The packet path looks
// for an SA without the state lock and inserts its stand-in afterwards, so a
// packet sent in a swap gap can insert it just after our NEWSA put the SA
// back. Both then hold (daddr, SPI); the stand-in, newer, comes first in the
// kernel's SPI hash, and GETSA and DELSA by SPI reach it, not the SA. Left
// alone it hides the SA from every later swap and, when it expires
// (net.core.xfrm_acq_expires, 30 s), the kernel reports a hard EXPIRE for the
// SA's SPI to charon. Seen in the lab's 50-cycle run (test/lab/offload/offload-cycles).
import { NetlinkError } from '../netlink/errors.js';
import type { XfrmClient } from '../xfrm/client.js';
import { wipeStateKeys, type XfrmState, type XfrmStateId } from '../xfrm/state.js';
import { isLarval } from './kernel-view.js';

const EEXIST = 17;
/** Stand-ins removed per read before giving up (one is the race above; more means packets keep racing us). */
const MAX_SHADOWS = 4;

/**
 * The keyed states of a dump that a larval stand-in shadows (same daddr,
 * SPI, proto and family). A dump lists every state, whatever the hash order.
 */
export function shadowedStates(states: readonly XfrmState[]): XfrmState[] {
  const id = (s: XfrmState): string => `${s.family}/${s.daddr}/${String(s.proto)}/${s.spi}`;
  const larval = new Set(states.filter((s) => isLarval(s) && s.spi !== 0).map(id));
  return states.filter((s) => !isLarval(s) && larval.has(id(s)));
}

export interface ShadowReport {
  /** larval stand-ins deleted ahead of the SA */
  removed: number;
}

/**
 * GETSA; when it answers with a larval stand-in, also the keyed state that
 * stand-in hides (same daddr, SPI, proto; from a dump, which lists every
 * state whatever the hash order), if there is one. Deletes nothing. The
 * caller wipes both states' keys. Throws NetlinkError (ESRCH: nothing at all).
 */
export async function readWithTwin(xfrm: XfrmClient, id: XfrmStateId): Promise<{ state: XfrmState; twin?: XfrmState }> {
  const state = await xfrm.getState(id);
  if (!isLarval(state)) return { state };
  const states = await xfrm.dumpStates({ proto: id.proto });
  const twin = shadowedStates(states).find((s) => s.spi === id.spi && s.daddr === id.daddr);
  for (const s of states) if (s !== twin) wipeStateKeys(s);
  return twin ? { state, twin } : { state };
}

/**
 * GETSA of an SA, past larval stand-ins that shadow it: while a keyed state
 * with the same (daddr, SPI, proto) exists behind one, the stand-in (which
 * GETSA just returned, so DELSA by SPI reaches it too) is deleted. Returns
 * the larval state when it is all the kernel has (the SA is missing). Throws
 * NetlinkError (ESRCH: nothing at all).
 */
export async function readPastLarval(xfrm: XfrmClient, id: XfrmStateId, report?: ShadowReport): Promise<XfrmState> {
  for (let removed = 0; ; removed++) {
    const { state, twin } = await readWithTwin(xfrm, id);
    if (!twin) return state;
    wipeStateKeys(twin);
    if (removed === MAX_SHADOWS) return state;
    const gone = await xfrm.deleteState(id);
    if (!isLarval(gone)) {
      // The SA moved ahead of its stand-in between our GETSA and DELSA (a
      // hash resize reorders chains): put it back exactly as it ended.
      try {
        await addReplacingLarval(xfrm, gone, id);
      } finally {
        wipeStateKeys(gone);
      }
      continue;
    }
    if (report) report.removed++;
  }
}

/**
 * NEWSA; if a larval stand-in holds the (daddr, SPI), UPDSA, which the
 * kernel defines to replace an ACQ state with the full one.
 */
export async function addReplacingLarval(xfrm: XfrmClient, s: XfrmState, id: XfrmStateId): Promise<void> {
  try {
    await xfrm.addState(s);
  } catch (e) {
    if (!(e instanceof NetlinkError && e.errno === EEXIST)) throw e;
    const there = await xfrm.getState(id).catch(() => undefined);
    if (!there || !isLarval(there)) {
      if (there) wipeStateKeys(there);
      throw e;
    }
    await xfrm.addState(s, { update: true });
  }
}
