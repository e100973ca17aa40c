// shadowedStates: which keyed SAs of a SAD dump a larval ACQUIRE state
// shadows (offload/larval.ts). The states are decoded from real kernel
// replies: keyed ones from the lab VM's dump (fixtures/lab/lab-state-dump,
// Debian 6.1), the larval one from this host's kernel (fixtures/iproute2/
// state-get: the state allocspi made, no algorithms).
import { describe, expect, it } from 'vitest';
import { decodeXfrm } from '../../../src/xfrm/messages.js';
import { stateFromWire, type XfrmState } from '../../../src/xfrm/state.js';
import { isLarval } from '../../../src/offload/kernel-view.js';
import { shadowedStates } from '../../../src/offload/larval.js';
import { loadCapture, messages } from '../xfrm/fixtures.js';

function states(name: string, sub: string): XfrmState[] {
  return messages(loadCapture(name, sub), 'received')
    .filter((m) => m.type === 16)
    .map((m) => {
      const d = decodeXfrm('NEWSA', m);
      return stateFromWire(d.header, d.attrs);
    });
}

const keyed = states('lab-state-dump', 'lab').filter((s) => !isLarval(s));
const [larval] = states('state-get', 'iproute2');
const sa = keyed.find((s) => s.family === 'ipv4' && s.proto === 'esp');
if (!larval || !isLarval(larval) || !sa) throw new Error('fixtures: need a larval and a keyed IPv4 ESP state');
/** The larval state, moved onto `s`'s (daddr, SPI): what a packet in a swap gap leaves. */
const standIn = (s: XfrmState, over: Partial<XfrmState> = {}): XfrmState => ({ ...larval, daddr: s.daddr, spi: s.spi, family: s.family, ...over });

describe('shadowedStates', () => {
  it('finds the keyed SA a larval state with its (daddr, SPI, proto, family) stands in front of', () => {
    expect(shadowedStates([...keyed, standIn(sa)])).toEqual([sa]);
    expect(shadowedStates([standIn(sa), ...keyed])).toEqual([sa]);
  });

  it('nothing when the larval state is for another SPI, address or family', () => {
    expect(shadowedStates([...keyed, standIn(sa, { spi: (sa.spi + 1) >>> 0 })])).toEqual([]);
    expect(shadowedStates([...keyed, standIn(sa, { daddr: '192.0.2.99' })])).toEqual([]);
    expect(shadowedStates([...keyed, standIn(sa, { family: 'ipv6' })])).toEqual([]);
  });

  it('a larval state with SPI 0 (a template without SPI) shadows nothing', () => {
    expect(shadowedStates([{ ...sa, spi: 0 }, standIn(sa, { spi: 0 })])).toEqual([]);
  });

  it('a larval state alone, or keyed states alone, are no shadowing', () => {
    expect(shadowedStates([standIn(sa)])).toEqual([]);
    expect(shadowedStates(keyed)).toEqual([]);
  });
});
