// Reading and following the log file: rotated history in order (gzip too),
// and a follower that survives rename-and-reopen (logrotate's default),
// copytruncate, a missing file, and lines written in pieces.
import { appendFileSync, mkdtempSync, renameSync, rmSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { LogFollower, readLines, rotatedFiles } from '../../../src/log/reader.js';

const dir = mkdtempSync(join(tmpdir(), 'ipsec-offload-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('rotatedFiles and readLines', () => {
  it('lists logrotate history oldest first and reads gzipped files', async () => {
    const d = mkdtempSync(join(dir, 'hist-'));
    const f = join(d, 'offload.log');
    writeFileSync(f, 'now\n');
    writeFileSync(`${f}.1`, 'yesterday\n');
    writeFileSync(`${f}.2.gz`, gzipSync('two days ago\n'));
    writeFileSync(`${f}.10.gz`, gzipSync('ten days ago\n'));
    writeFileSync(join(d, 'other.log.1'), 'not ours\n');
    const old = new Date(Date.now() - 10 * 86_400_000);
    utimesSync(`${f}.10.gz`, old, old);
    expect(rotatedFiles(f)).toEqual([`${f}.10.gz`, `${f}.2.gz`, `${f}.1`]);
    expect(rotatedFiles(f, Date.now() - 5 * 86_400_000)).toEqual([`${f}.2.gz`, `${f}.1`]);
    const lines: string[] = [];
    for (const x of [...rotatedFiles(f), f]) await readLines(x, (l) => lines.push(l));
    expect(lines).toEqual(['ten days ago', 'two days ago', 'yesterday', 'now']);
  });

  it('reads up to a byte offset', async () => {
    const f = join(dir, 'upto.log');
    writeFileSync(f, 'a\nb\nc\n');
    const lines: string[] = [];
    await readLines(f, (l) => lines.push(l), 4);
    expect(lines).toEqual(['a', 'b']);
  });
});

describe('LogFollower', () => {
  function follower(file: string, from = 0): { lines: string[]; f: LogFollower } {
    const lines: string[] = [];
    const f = new LogFollower(file, (l) => lines.push(l), { from });
    return { lines, f };
  }

  it('emits complete lines only, from the given offset', () => {
    const file = join(dir, 'partial.log');
    writeFileSync(file, 'old\n');
    const { lines, f } = follower(file, 4);
    f.start();
    appendFileSync(file, 'one\ntw');
    f.poll();
    expect(lines).toEqual(['one']);
    appendFileSync(file, 'o\n');
    f.poll();
    expect(lines).toEqual(['one', 'two']);
    f.stop();
  });

  it('follows a rename + reopen (logrotate create): the old file to its end, then the new one', () => {
    const file = join(dir, 'rotate.log');
    writeFileSync(file, '');
    const { lines, f } = follower(file);
    f.start();
    appendFileSync(file, 'before\n');
    f.poll();
    renameSync(file, `${file}.1`);
    appendFileSync(`${file}.1`, 'written before the daemon reopened\n');
    f.poll(); // new file not there yet: keep reading the old one
    writeFileSync(file, 'after\n');
    f.poll();
    expect(lines).toEqual(['before', 'written before the daemon reopened', 'after']);
    f.stop();
  });

  it('restarts at 0 after copytruncate', () => {
    const file = join(dir, 'truncate.log');
    writeFileSync(file, 'a long first line\n');
    const { lines, f } = follower(file);
    f.start();
    truncateSync(file, 0);
    appendFileSync(file, 'b\n');
    f.poll();
    expect(lines).toEqual(['a long first line', 'b']);
    f.stop();
  });

  it('waits for a file that does not exist yet', () => {
    const file = join(dir, 'later.log');
    const { lines, f } = follower(file);
    f.start();
    f.poll();
    expect(lines).toEqual([]);
    writeFileSync(file, 'hello\n');
    f.poll();
    expect(lines).toEqual(['hello']);
    f.stop();
  });

  it('keeps a multi-byte character split across reads intact', () => {
    const file = join(dir, 'utf8.log');
    writeFileSync(file, '');
    const { lines, f } = follower(file);
    f.start();
    const b = Buffer.from('µs\n');
    appendFileSync(file, b.subarray(0, 1));
    f.poll();
    appendFileSync(file, b.subarray(1));
    f.poll();
    expect(lines).toEqual(['µs']);
    f.stop();
  });
});
