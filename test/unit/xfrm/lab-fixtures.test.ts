// Kernel dumps captured in the lab VM (Debian 6.1 + netdevsim): states with
// ALG_AEAD, OFFLOAD_DEV, REPLAY_ESN_VAL, LTIME_VAL... that this host's kernel
// cannot produce (no ESP here). Drop captures into fixtures/lab/ in the same
// JSON shape as fixtures/iproute2/ (name, description, captured{command,
// kernel, ...}, datagrams[{direction, hex}]), optionally with
//   "expect": [{ "kind": "<XfrmEvent kind>", "match": {...partial event...} }]
// meaning: some message of the capture decodes into an event of that kind
// matching `match` (numbers and strings only; JSON has no bigints). The
// expectations are written by the capturing program from what it asked the
// kernel to do, not from our decoder. test/lab/xfrm/capture-fixtures.ts
// records them. Every fixture found is decoded, re-encoded and checked here.
import { describe, expect, it } from 'vitest';
import { eventFromMessage } from '../../../src/xfrm/events.js';
import { decodeAnyXfrm, encodeXfrm, decodeXfrm, type AnyDecodedXfrm } from '../../../src/xfrm/messages.js';
import { captureNames, loadCapture, messages, type XfrmCapture } from './fixtures.js';

interface LabCapture extends XfrmCapture {
  expect?: { kind: string; match: Record<string, unknown> }[];
}

/** Re-encodes a decoded message: the canonical bytes of its values. */
function reencode(d: AnyDecodedXfrm): Buffer {
  return Buffer.concat(encodeXfrm(d.kind, { header: d.header as never, attrs: d.attrs as never }).payload);
}

const names = captureNames('lab');

describe('lab kernel captures (fixtures/lab)', () => {
  it('has captures recorded in the lab (test/lab/xfrm/capture-fixtures.ts)', () => {
    expect(names.length).toBeGreaterThan(0);
  });

  for (const name of names) {
    it(name, () => {
      const c = loadCapture(name, 'lab') as LabCapture;
      expect(c.captured.kernel, 'fixture must say which kernel it came from').toBeTruthy();
      expect(c.captured.command, 'fixture must say how it was captured').toBeTruthy();
      const received = messages(c, 'received').filter((m) => m.type >= 16);
      expect(received.length).toBeGreaterThan(0);
      const decoded = received.map((m) => {
        const d = decodeAnyXfrm(m);
        if (!d) throw new Error(`${name}: unknown XFRM message type ${m.type}`);
        // decode -> encode -> decode -> encode is stable (nothing lost or invented)
        const once = reencode(d);
        const again = reencode(decodeXfrm(d.kind, { ...m, payload: once }) as AnyDecodedXfrm);
        expect(again.equals(once), `${name}: ${d.name} re-encodes stably`).toBe(true);
        return d;
      });
      const events = decoded.map((d) => eventFromMessage(d));
      for (const e of c.expect ?? []) {
        const candidates = events.filter((ev) => ev.kind === e.kind);
        expect(candidates.length, `${name}: a ${e.kind} event`).toBeGreaterThan(0);
        const matching = candidates.filter((ev) => {
          try {
            expect(ev).toMatchObject(e.match);
            return true;
          } catch {
            return false;
          }
        });
        expect(matching.length, `${name}: some ${e.kind} event matches ${JSON.stringify(e.match)}`).toBeGreaterThan(0);
      }
    });
  }
});
