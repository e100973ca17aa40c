// Key material never reaches a log line, whatever shape it is logged in:
// SecretBytes, raw Buffers (which JSON would print as decimal arrays), fields
// named like keys, nested states. Checked on the bytes in the file.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, scrub } from '../../../src/log/logger.js';
import { SecretBytes } from '../../../src/netlink/codec/secret.js';

const dir = mkdtempSync(join(tmpdir(), 'ipsec-offload-log-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Every way the key's bytes could appear in text. */
function renderings(key: Buffer): string[] {
  return [key.toString('hex'), key.toString('hex').toUpperCase(), key.toString('base64'), [...key].join(','), key.toString('latin1')];
}

describe('logger', () => {
  it('writes one JSON object per line with time, level and event first', () => {
    const file = join(dir, 'lines.log');
    const log = createLogger({ file, level: 'info' });
    log.event('device.up', { dev: 'nsim0', ifindex: 3 });
    log.event('control.request', { cmd: 'status', uid: 0, ok: true }, 'debug'); // below the level
    log.flush();
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toEqual({ level: 'info', time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), event: 'device.up', dev: 'nsim0', ifindex: 3 });
  });

  it('setLevel changes what is written (config reload)', () => {
    const file = join(dir, 'level.log');
    const log = createLogger({ file, level: 'info' });
    log.setLevel('debug');
    log.event('control.request', { cmd: 'status', uid: 0, ok: true }, 'debug');
    log.flush();
    expect(readFileSync(file, 'utf8')).toContain('"event":"control.request"');
  });

  it('never writes key bytes, however they are passed', () => {
    const file = join(dir, 'keys.log');
    const log = createLogger({ file, level: 'debug' });
    const keys = Array.from({ length: 6 }, () => randomBytes(20));
    const [k0, k1, k2, k3, k4, k5] = keys as [Buffer, Buffer, Buffer, Buffer, Buffer, Buffer];
    // Raw pino calls bypass the typed catalogue: the scrubbing must still hold.
    log.pino.info({ event: 'test.secret', aead: { name: 'rfc4106(gcm(aes))', key: new SecretBytes(Buffer.from(k0)), icvBits: 128 } });
    log.pino.info({ event: 'test.buffer', state: { enc: { key: Buffer.from(k1) }, raw: Buffer.from(k2) } });
    log.pino.info({ event: 'test.named', key: k3.toString('hex'), psk: k4.toString('hex') });
    log.pino.info({ event: 'test.deep', a: { b: { c: { d: { e: { f: { g: { h: { i: Buffer.from(k5) } } } } } } } } });
    log.flush();
    const text = readFileSync(file, 'utf8');
    expect(text.trim().split('\n')).toHaveLength(4);
    for (const k of keys) for (const r of renderings(k)) expect(text).not.toContain(r);
    expect(text).toContain('"name":"rfc4106(gcm(aes))"'); // the rest of the object is kept
    expect(text).toContain('[20 bytes]');
    expect(text).toContain('[redacted]');
  });
});

describe('scrub', () => {
  it('replaces byte arrays and bigints, keeps other values, cuts deep nesting', () => {
    expect(scrub({ a: new Uint8Array(3), b: 5n, c: 'x', d: [Buffer.alloc(2)], e: null })).toEqual({ a: '[3 bytes]', b: '5', c: 'x', d: ['[2 bytes]'], e: null });
    let deep: Record<string, unknown> = { leaf: Buffer.alloc(1) };
    for (let i = 0; i < 20; i++) deep = { n: deep };
    expect(JSON.stringify(scrub(deep))).not.toContain('leaf');
  });
});
