// In-process decode throughput of a recorded list-sas byte stream (as charon
// sent it: EVENT_CONFIRM, one list-sa EVENT per IKE_SA, CMD_RESPONSE), for
// the VICI benchmarks. Two levels: segments -> packets -> messages, and the
// same plus the typed IkeSa/ChildSa views that listSas() returns.
import { connect } from 'node:net';
import { decodeMessage } from '../src/vici/wire/elements.js';
import { SegmentReader } from '../src/vici/wire/framing.js';
import { decodePacket, encodePacket, PacketType } from '../src/vici/wire/packet.js';
import { parseListSa } from '../src/vici/views/ike-sa.js';

export interface DecodeRate {
  streamBytes: number;
  events: number;
  children: number;
  /** passes over the stream per timed slice */
  reps: number;
  decodeMBps: number;
  viewsMBps: number;
}

/** Decodes the whole stream once; returns list-sa events and CHILD_SAs (views) or message entries. */
function decodeAll(stream: Buffer, views: boolean): { events: number; n: number } {
  let events = 0;
  let n = 0;
  for (const seg of new SegmentReader().push(stream)) {
    const p = decodePacket(seg);
    if (p.type !== PacketType.EVENT || !p.message) continue;
    events++;
    const m = decodeMessage(p.message);
    n += views ? parseListSa(m).reduce((k, s) => k + s.childSas.length, 0) : m.size;
  }
  return { events, n };
}

/** CHILD_SAs in a recorded list-sas stream. */
export function childrenIn(stream: Buffer): number {
  return decodeAll(stream, true).n;
}

/**
 * MB/s (10^6 bytes) after one warm-up pass: the best of 5 slices of about
 * budgetBytes / 5 each (on a shared machine the best slice is the one least
 * disturbed by others).
 */
export function decodeThroughput(stream: Buffer, budgetBytes = 64 << 20): DecodeRate {
  const reps = Math.max(3, Math.ceil(budgetBytes / 5 / stream.length));
  const rate = (views: boolean): number => {
    decodeAll(stream, views);
    let best = 0;
    for (let slice = 0; slice < 5; slice++) {
      const t = performance.now();
      for (let i = 0; i < reps; i++) decodeAll(stream, views);
      best = Math.max(best, (stream.length * reps) / ((performance.now() - t) / 1000) / 1e6);
    }
    return best;
  };
  const { events, n: children } = decodeAll(stream, true);
  return { streamBytes: stream.length, events, children, reps, decodeMBps: rate(false), viewsMBps: rate(true) };
}

/**
 * One list-sas on a plain socket, bytes kept as they arrive: the stream for
 * decodeThroughput(), and (ms) the floor any client pays - charon's own time
 * plus the transport, no decoding.
 */
export function recordListSas(path: string): Promise<{ stream: Buffer; ms: number }> {
  return new Promise((res, rej) => {
    const t0 = performance.now();
    const s = connect({ path });
    const chunks: Buffer[] = [];
    const reader = new SegmentReader();
    let ms = 0;
    s.on('data', (b: Buffer) => {
      chunks.push(b);
      for (const seg of reader.push(b)) {
        if (decodePacket(seg).type === PacketType.CMD_RESPONSE) {
          ms = performance.now() - t0;
          s.end();
        }
      }
    });
    s.on('error', rej);
    s.on('close', () => res({ stream: Buffer.concat(chunks), ms }));
    s.on('connect', () => {
      s.write(encodePacket({ type: PacketType.EVENT_REGISTER, name: 'list-sa' }));
      s.write(encodePacket({ type: PacketType.CMD_REQUEST, name: 'list-sas', message: Buffer.alloc(0) }));
    });
  });
}
