// Loads the golden VICI streams captured from charon 5.9.8 (see each JSON's
// `capturedWith`, and test/host/vici/support/capture-fixtures.ts which wrote them).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SegmentReader } from '../../../src/vici/wire/framing.js';
import { decodePacket, type Packet } from '../../../src/vici/wire/packet.js';

export interface Fixture {
  description: string;
  capturedWith: string;
  strongswan: string;
  kernel: string;
  datapath: string;
  date: string;
  toCharon: Buffer;
  fromCharon: Buffer;
}

export const FIXTURES = ['version', 'stats', 'load-conn', 'initiate', 'list-sas', 'list-conns', 'terminate-failed', 'events', 'unknown-and-log'] as const;
export type FixtureName = (typeof FIXTURES)[number];

export function fixture(name: FixtureName): Fixture {
  const raw = JSON.parse(readFileSync(join(import.meta.dirname, 'fixtures', `${name}.json`), 'utf8')) as Record<string, string>;
  return {
    ...(raw as unknown as Fixture),
    toCharon: Buffer.from(raw.toCharon ?? '', 'hex'),
    fromCharon: Buffer.from(raw.fromCharon ?? '', 'hex'),
  };
}

export function segments(stream: Buffer): Buffer[] {
  const r = new SegmentReader();
  const out = r.push(stream);
  if (r.pendingBytes) throw new Error(`${r.pendingBytes} bytes left over`);
  return out;
}

export function packets(stream: Buffer): Packet[] {
  return segments(stream).map(decodePacket);
}
