// One JSON object per line (pino), to a file and optionally stderr. Events are
// typed by the catalogue in events.ts. Key material never reaches a log line:
// SecretBytes renders as "[redacted]" in JSON, and pino's redaction removes
// any field named like a key as a second line of defence.
import pino, { type Logger as PinoLogger, type DestinationStream } from 'pino';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { LogEventName, LogEvents } from './events.js';

export type Level = 'debug' | 'info' | 'warn' | 'error';

export interface LogOptions {
  file?: string;
  stderr?: boolean;
  level?: Level;
}

const REDACT = ['key', '*.key', '*.*.key', 'keys', '*.keys', 'aead.key', 'auth.key', 'crypt.key', 'secret', '*.secret', 'psk', '*.psk'];

export interface EventLogger {
  event<E extends LogEventName>(name: E, fields: LogEvents[E], level?: Level): void;
  /** reopen the file (after logrotate moved it) */
  reopen(): void;
  flush(): void;
  readonly pino: PinoLogger;
}

export function createLogger(opts: LogOptions): EventLogger {
  const streams: { stream: DestinationStream; level: Level }[] = [];
  let file: ReturnType<typeof pino.destination> | undefined;
  if (opts.file) {
    mkdirSync(dirname(opts.file), { recursive: true, mode: 0o750 });
    file = pino.destination({ dest: opts.file, mkdir: true, sync: true, mode: 0o640 });
    streams.push({ stream: file, level: opts.level ?? 'info' });
  }
  if (opts.stderr || !opts.file) streams.push({ stream: pino.destination(2), level: opts.level ?? 'info' });
  const logger = pino(
    {
      level: opts.level ?? 'info',
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT, censor: '[redacted]' },
    },
    pino.multistream(streams),
  );
  return {
    pino: logger,
    event(name, fields, level = 'info') {
      logger[level]({ event: name, ...fields });
    },
    reopen() {
      file?.reopen();
    },
    flush() {
      file?.flushSync();
    },
  };
}

/** A logger that drops everything (tests, one-shot CLI paths). */
export function silentLogger(): EventLogger {
  const logger = pino({ level: 'silent' });
  return { pino: logger, event() {}, reopen() {}, flush() {} };
}
