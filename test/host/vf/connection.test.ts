// A PF connection over a real unix socket pair: a frame that arrives while
// an earlier request is still being handled counts as a sign of life at once
// (found in the lab under TCG: heartbeats queued behind a slow sa.add let the
// stale timeout clean up a live VF). Requests are still answered in order.
import { mkdtempSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PfConnection, type Answer } from '../../../src/vf/pf/connection.js';
import { encodeFrame, readHeader } from '../../../src/vf/protocol/codec.js';
import type { AnyFrame } from '../../../src/vf/protocol/codec.js';
import { FrameReader } from '../../../src/vf/protocol/framer.js';

let dir: string;
let server: Server;
let accepted: Promise<Socket>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vf-conn-'));
  server = createServer();
  accepted = new Promise((r) => server.once('connection', r));
  await new Promise<void>((r) => server.listen(join(dir, 's.sock'), r));
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('PfConnection', () => {
  it('sees a heartbeat when it arrives, not when its turn comes; answers stay in order', async () => {
    const client = createConnection(join(dir, 's.sock'));
    const sock = await accepted;
    const seen: { at: number; handled: number }[] = [];
    const handled: string[] = [];
    let slowDone = 0;
    const conn = new PfConnection(
      sock,
      { transport: 'unix', pid: process.pid, uid: 0, gid: 0, netns: { dev: 1, ino: 1 } },
      't0',
      {
        handle: async (_c, f: AnyFrame): Promise<Answer> => {
          if (f.kind === 'sync') {
            await new Promise((r) => setTimeout(r, 800));
            slowDone = Date.now();
          }
          handled.push(f.kind);
          return { ok: {} };
        },
        closed: () => undefined,
        refused: () => undefined,
        seen: () => void seen.push({ at: Date.now(), handled: handled.length }),
      },
      { helloTimeoutMs: 5000, maxQueued: 64, maxBad: 8 },
    );
    const answers: number[] = [];
    const reader = new FrameReader();
    client.on('data', (b: Buffer) => {
      for (const f of reader.push(b)) answers.push(readHeader(f).id);
    });
    client.write(encodeFrame('hello', 1, { epoch: 1n, agent: 'test' }));
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toHaveLength(0); // hello itself is not a sign of life of an identified agent yet
    client.write(Buffer.concat([encodeFrame('sync', 2, { uniqueids: [] }), encodeFrame('heartbeat', 3)]));
    await new Promise((r) => setTimeout(r, 1500));
    expect(handled).toEqual(['hello', 'sync', 'heartbeat']);
    expect(seen).toHaveLength(2);
    // both were seen while the slow sync was still being handled
    for (const s of seen) expect(s.at).toBeLessThan(slowDone);
    expect(answers).toEqual([1, 2, 3]);
    conn.close('done');
    client.destroy();
    sock.destroy();
  });
});
