// Reading the daemon's log file: the current file and its logrotate history
// (file.1, file.2.gz, ...), and following it across rotation (rename +
// reopen, or copytruncate) the way `tail -F` does.
import { closeSync, createReadStream, existsSync, fstatSync, openSync, readSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { StringDecoder } from 'node:string_decoder';

/** Rotated files of `path`, oldest first, optionally only those written to since `sinceMs`. */
export function rotatedFiles(path: string, sinceMs?: number): string[] {
  const dir = dirname(path);
  const base = basename(path);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .map((n) => ({ n, m: new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)(\\.gz)?$`).exec(n) }))
    .filter((x): x is { n: string; m: RegExpExecArray } => x.m !== null)
    .map((x) => ({ file: join(dir, x.n), index: Number(x.m[1]) }))
    .filter((x) => sinceMs === undefined || statSync(x.file).mtimeMs >= sinceMs)
    .sort((a, b) => b.index - a.index)
    .map((x) => x.file);
}

/**
 * Calls onLine for each line of `file` (gunzipped when it ends in .gz), up to
 * byte `end` (exclusive) when given.
 */
export async function readLines(file: string, onLine: (line: string) => void, end?: number): Promise<void> {
  if (end === 0) return;
  const raw = createReadStream(file, end !== undefined ? { end: end - 1 } : {});
  const input = file.endsWith('.gz') ? raw.pipe(createGunzip()) : raw;
  const rl = createInterface({ input, crlfDelay: Infinity });
  for await (const line of rl) onLine(line);
}

export interface FollowOptions {
  /** byte offset in the current file to start at */
  from: number;
  intervalMs?: number;
}

/**
 * Follows `path`: every new complete line goes to onLine. When the file is
 * renamed away (logrotate) the rest of the old file is read, then the new one
 * from its start; when it shrinks (copytruncate) reading restarts at 0; when
 * it is missing, the follower waits for it. stop() ends it.
 */
export class LogFollower {
  #fd: number | undefined;
  #ino = -1;
  #pos: number;
  #partial = '';
  #decoder = new StringDecoder('utf8');
  #timer: NodeJS.Timeout | undefined;
  readonly #buf = Buffer.alloc(64 * 1024);

  constructor(
    readonly path: string,
    private readonly onLine: (line: string) => void,
    private readonly o: FollowOptions,
  ) {
    this.#pos = o.from;
  }

  start(): void {
    this.#open(this.#pos);
    this.poll();
    this.#timer = setInterval(() => this.poll(), this.o.intervalMs ?? 200);
  }

  stop(): void {
    clearInterval(this.#timer);
    if (this.#fd !== undefined) closeSync(this.#fd);
    this.#fd = undefined;
  }

  /** One round: drain what is there, then check for rotation. */
  poll(): void {
    this.#drain();
    let st: { ino: number; size: number } | undefined;
    try {
      st = existsSync(this.path) ? statSync(this.path) : undefined;
    } catch {
      st = undefined;
    }
    if (!st) return; // rotated away, new file not there yet: keep the old one open
    if (this.#fd === undefined) {
      this.#open(0);
      this.#drain();
      return;
    }
    if (st.ino !== this.#ino) {
      // Renamed away: whatever the daemon wrote before it reopened is in the old file.
      this.#drain();
      this.#flushPartial();
      closeSync(this.#fd);
      this.#fd = undefined;
      this.#open(0);
      this.#drain();
    } else if (st.size < this.#pos) {
      // Truncated in place (copytruncate).
      this.#pos = 0;
      this.#partial = '';
      this.#decoder = new StringDecoder('utf8');
      this.#drain();
    }
  }

  #open(at: number): void {
    try {
      this.#fd = openSync(this.path, 'r');
      this.#ino = fstatSync(this.#fd).ino;
      this.#pos = at;
      this.#partial = '';
      this.#decoder = new StringDecoder('utf8');
    } catch {
      this.#fd = undefined;
    }
  }

  #drain(): void {
    if (this.#fd === undefined) return;
    for (;;) {
      const n = readSync(this.#fd, this.#buf, 0, this.#buf.length, this.#pos);
      if (n <= 0) return;
      this.#pos += n;
      const text = this.#partial + this.#decoder.write(this.#buf.subarray(0, n));
      const lines = text.split('\n');
      this.#partial = lines.pop() ?? '';
      for (const l of lines) this.onLine(l);
    }
  }

  #flushPartial(): void {
    if (this.#partial !== '') this.onLine(this.#partial);
    this.#partial = '';
  }
}
