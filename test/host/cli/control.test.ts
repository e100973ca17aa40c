// The control socket against hostile or clumsy clients, on the real daemon:
// created 0600, peer credentials checked even when the file mode would let a
// process in, malformed / oversized / slow-loris / flooding input answered
// with an error or cut off, and the daemon keeps serving everyone else.
import { statSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import { createConnection, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/cli/context.js';
import { MAX_REQUEST_BYTES } from '../../../src/daemon/control/protocol.js';
import { TestDaemon } from './support.js';

let d: TestDaemon;
beforeAll(async () => {
  d = await TestDaemon.start();
});
afterAll(async () => {
  await d?.destroy();
});

interface Raw {
  s: Socket;
  /** complete response lines so far */
  lines: string[];
  closed: Promise<void>;
  /** resolves with the next response line (or rejects when the socket closes first) */
  next(timeoutMs?: number): Promise<Record<string, unknown>>;
}

function raw(path: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    const lines: string[] = [];
    let buf = '';
    let taken = 0;
    let closed = false;
    const closedP = new Promise<void>((r) => s.once('close', () => ((closed = true), r())));
    s.setEncoding('utf8');
    s.on('data', (c: string) => {
      buf += c;
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        lines.push(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
      }
    });
    s.on('error', () => {});
    s.once('connect', () =>
      resolve({
        s,
        lines,
        closed: closedP,
        async next(timeoutMs = 10_000) {
          const deadline = Date.now() + timeoutMs;
          while (lines.length <= taken) {
            if (closed || Date.now() > deadline) throw new Error(closed ? 'closed without an answer' : 'no answer in time');
            await new Promise((r) => setTimeout(r, 20));
          }
          return JSON.parse(lines[taken++] as string) as Record<string, unknown>;
        },
      }),
    );
    s.once('error', reject);
  });
}

/** The daemon still answers a well-behaved client promptly. */
async function stillServing(): Promise<void> {
  const t0 = Date.now();
  const s = (await d.call('status')) as { vici: { connected: boolean } };
  expect(s.vici.connected).toBe(true);
  expect(Date.now() - t0).toBeLessThan(5000);
}

describe('the socket file', () => {
  it('is a socket, root-owned, mode 0600', () => {
    const st = statSync(d.socket);
    expect(st.isSocket()).toBe(true);
    expect(st.uid).toBe(0);
    expect(st.mode & 0o777).toBe(0o600);
  });
});

describe('permissions', () => {
  it('a non-root user cannot connect: exit 5, naming the socket', () => {
    const r = d.cli(['status'], { as: { uid: 65534, gid: 65534 } });
    expect(r.code).toBe(EXIT.permission);
    expect(r.stderr).toBe(`ipsec-offload: permission denied on ${d.socket}: the control socket is for root (or the group set in control.group); run the command with sudo\n`);
  });

  it('peer credentials are checked even when the file mode lets the process in', async () => {
    const before = d.logLines().length;
    const dir = dirname(d.socket);
    chmodSync(d.socket, 0o666);
    chmodSync(dir, 0o755);
    try {
      const r = d.cli(['status'], { as: { uid: 65534, gid: 65534 } });
      expect(r.code).toBe(EXIT.permission);
      expect(r.stderr).toBe(`ipsec-offload: permission denied on ${d.socket}: the control socket is for root (or the group set in control.group); run the command with sudo\n`);
    } finally {
      chmodSync(d.socket, 0o600);
      chmodSync(dir, 0o750);
    }
    expect(await d.waitForEvent('control.rejected', before)).toMatchObject({ reason: 'permission', uid: 65534, level: 'warn' });
  });
});

describe('malformed input', () => {
  it.each([
    ['not JSON', 'hello'],
    ['JSON but not an object', '[1,2,3]'],
    ['an object without cmd', '{"v":1,"id":3}'],
    ['deeply nested', `${'['.repeat(20_000)}${']'.repeat(20_000)}`],
  ])('%s: EPROTO, and the connection stays usable', async (_what, line) => {
    const c = await raw(d.socket);
    c.s.write(`${line}\n`);
    expect(await c.next()).toMatchObject({ v: 1, ok: false, error: { code: 'EPROTO' } });
    c.s.write('{"v":1,"id":9,"cmd":"status"}\n');
    expect(await c.next()).toMatchObject({ v: 1, id: 9, ok: true });
    c.s.destroy();
  });

  it('an unsupported protocol version and an unknown command say so', async () => {
    const c = await raw(d.socket);
    c.s.write('{"v":2,"id":1,"cmd":"status"}\n{"v":1,"id":2,"cmd":"format-disk"}\n{"v":1,"id":3,"cmd":"commands"}\n');
    expect(await c.next()).toEqual({ v: 1, id: 1, ok: false, error: { code: 'EPROTO', message: 'protocol version 2 not supported (daemon speaks 1)' } });
    expect(await c.next()).toEqual({ v: 1, id: 2, ok: false, error: { code: 'ENOSYS', message: 'unknown command "format-disk" (the "commands" command lists them)' } });
    const cmds = await c.next();
    expect(cmds).toMatchObject({ id: 3, ok: true, result: { protocol: 1 } });
    expect((cmds.result as { commands: string[] }).commands).toEqual(expect.arrayContaining(['status', 'sa.list', 'sa.show', 'sa.pin', 'device.list', 'idle', 'resync', 'commands']));
    c.s.destroy();
  });

  it('bad arguments: EINVAL with the argument named', async () => {
    const c = await raw(d.socket);
    c.s.write('{"v":1,"id":1,"cmd":"sa.list","args":{"state":"sideways"}}\n{"v":1,"id":2,"cmd":"sa.show","args":{"ref":42}}\n');
    expect(await c.next()).toMatchObject({ id: 1, ok: false, error: { code: 'EINVAL', message: 'state must be one of offloaded, software, pending, missing' } });
    expect(await c.next()).toMatchObject({ id: 2, ok: false, error: { code: 'EINVAL', message: 'ref is required' } });
    c.s.destroy();
  });

  it('random bytes on many connections leave the daemon serving (property, 30 runs)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2048 }), async (bytes) => {
        const c = await raw(d.socket);
        c.s.end(Buffer.from(bytes));
        await Promise.race([c.closed, new Promise((r) => setTimeout(r, 3000))]);
        c.s.destroy();
        for (const l of c.lines) expect((JSON.parse(l) as { ok: boolean }).ok).toBe(false);
      }),
      { numRuns: 30 },
    );
    await stillServing();
  });
});

describe('abuse', () => {
  it('an oversized request: E2BIG and the connection is closed', async () => {
    const before = d.logLines().length;
    const c = await raw(d.socket);
    c.s.write(`{"v":1,"id":1,"cmd":"status","args":"${'x'.repeat(MAX_REQUEST_BYTES)}"}\n`);
    expect(await c.next()).toMatchObject({ ok: false, error: { code: 'E2BIG' } });
    await c.closed;
    expect(await d.waitForEvent('control.rejected', before)).toMatchObject({ reason: 'oversized request', uid: 0 });
    await stillServing();
  });

  it('slow-loris: a request trickling in is cut off after 5 s while others are served', async () => {
    const c = await raw(d.socket);
    const t0 = Date.now();
    const drip = setInterval(() => c.s.write('{'), 500);
    try {
      await stillServing(); // served meanwhile
      expect(await c.next(15_000)).toMatchObject({ ok: false, error: { code: 'ETIMEDOUT' } });
      await c.closed;
    } finally {
      clearInterval(drip);
    }
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(4500);
    expect(took).toBeLessThan(12_000);
  });

  it('a connection that sends nothing is closed after the idle time', async () => {
    const c = await raw(d.socket);
    const t0 = Date.now();
    await c.closed;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(9000);
    expect(c.lines).toEqual([]);
  }, 30_000);

  it('flooding one connection with requests: answered up to the queue limit, then EBUSY and cut off', async () => {
    const c = await raw(d.socket);
    c.s.write('{"v":1,"id":1,"cmd":"status"}\n'.repeat(100));
    await c.closed;
    const replies = c.lines.map((l) => JSON.parse(l) as { ok: boolean; error?: { code: string } });
    expect(replies.some((r) => r.error?.code === 'EBUSY')).toBe(true);
    expect(replies.length).toBeLessThan(100);
    await stillServing();
  });

  it('many connections at once are all served', async () => {
    const answers = await Promise.all(Array.from({ length: 40 }, () => d.call('status')));
    expect(answers).toHaveLength(40);
  });
});
