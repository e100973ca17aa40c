// One JSON object per line (pino), to a file and optionally stderr. Events are
// typed by the catalogue in events.ts. Key material never reaches a log line:
// SecretBytes renders as "[redacted]" in JSON, every byte buffer is replaced
// by its length before serialisation (scrub), and pino's redaction removes any
// field named like a key as a third line of defence.
import pino, { type Logger as PinoLogger, type DestinationStream } from 'pino';
import { build as prettyStream } from 'pino-pretty';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LogEventName, LogEvents } from './events.js';
import { PRETTY_OPTIONS } from './pretty.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface LogOptions {
  file?: string;
  stderr?: boolean;
  /** stderr as coloured text instead of JSON (a person is watching a terminal) */
  prettyStderr?: boolean;
  level?: Level;
}

const REDACT = ['key', '*.key', '*.*.key', 'keys', '*.keys', 'aead.key', 'auth.key', 'crypt.key', 'secret', '*.secret', 'psk', '*.psk'];

export interface EventLogger {
  event<E extends LogEventName>(name: E, fields: LogEvents[E], level?: Level): void;
  /** reopen the file (after logrotate moved it) */
  reopen(): void;
  flush(): void;
  /** change the level (config reload) */
  setLevel(level: Level): void;
  readonly file: string | undefined;
  readonly pino: PinoLogger;
}

export function createLogger(opts: LogOptions): EventLogger {
  const streams: { stream: DestinationStream; level: pino.Level }[] = [];
  let file: ReturnType<typeof pino.destination> | undefined;
  // Streams take everything; the logger's own level decides (and can change on reload).
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true, mode: 0o750 });
    file = pino.destination({ dest: opts.file, mkdir: true, sync: true, mode: 0o640 });
    streams.push({ stream: file, level: 'trace' });
  }
  if (opts.stderr || !opts.file) {
    const stream = opts.prettyStderr ? prettyStream({ ...PRETTY_OPTIONS, colorize: true, destination: 2, sync: true }) : pino.destination(2);
    streams.push({ stream, level: 'trace' });
  }
  const logger = pino(
    {
      level: opts.level ?? 'info',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      formatters: { level: (label) => ({ level: label }), log: (o) => scrub(o) as Record<string, unknown> },
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    pino.multistream(streams),
  );
  return {
    pino: logger,
    file: opts.file,
    event(name, fields, level = 'info') {
      logger[level]({ event: name, ...fields });
    },
    reopen() {
      file?.reopen();
    },
    flush() {
      file?.flushSync();
    },
    setLevel(level) {
      logger.level = level;
    },
  };
}

const MAX_DEPTH = 8;

/**
 * Byte buffers never reach a log line: a Buffer serialises as an array of
 * numbers (which no hex grep would catch), so every Uint8Array becomes
 * "[N bytes]" and bigints become strings. Objects with their own toJSON
 * (SecretBytes) are left to it.
 */
export function scrub(v: unknown, depth = 0): unknown {
  if (v instanceof Uint8Array) return `[${v.length} bytes]`;
  if (typeof v === 'bigint') return v.toString();
  if (typeof v !== 'object' || v === null) return v;
  if (depth >= MAX_DEPTH) return '[deep]';
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return v;
  if (Array.isArray(v)) return v.map((x) => scrub(x, depth + 1));
  if (v instanceof Error) return { name: v.name, message: v.message };
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = scrub(x, depth + 1);
  return out;
}

/** A logger that drops everything (tests, one-shot CLI paths). */
export function silentLogger(): EventLogger {
  const logger = pino({ level: 'silent' });
  return { pino: logger, file: undefined, event() {}, reopen() {}, flush() {}, setLevel() {} };
}
