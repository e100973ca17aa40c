// The fields every SA event carries (see SaFields in src/log/events.ts).
import { spiText, type SaFields } from '../log/events.js';
import type { OffloadState, SaRecord } from './types.js';

/** An SA as its log events name it: SPI, direction, its CHILD_SA and addresses. */
export function saFields(state: OffloadState, sa: SaRecord): SaFields {
  const c = state.children.get(sa.child);
  return {
    spi: spiText(sa.id.spi),
    dir: sa.dir,
    conn: c?.ike.name ?? '?',
    child: c?.name ?? '?',
    uniqueid: c?.uniqueid ?? 0,
    src: sa.saddr,
    dst: sa.id.daddr,
  };
}
