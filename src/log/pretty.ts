// Log lines for people: one line per event, local time, the level, the event
// name and the SA it is about up front, the other fields after it. Used by
// `ipsec-offload logs` and by the daemon's stderr on a terminal.
import { prettyFactory, type PrettyOptions } from 'pino-pretty';

/** The fields shown up front (and so left out of the trailing object). */
const HEAD = ['event', 'conn', 'child', 'dir', 'spi'] as const;

export const PRETTY_OPTIONS: PrettyOptions = {
  singleLine: true,
  translateTime: 'SYS:HH:MM:ss.l',
  ignore: HEAD.join(','),
  // our `error` fields are strings, not Error objects to expand
  errorLikeObjectKeys: ['err'],
  messageFormat: (log, messageKey, _level, extras) => {
    const c = extras.colors;
    const parts: string[] = [];
    if (typeof log.event === 'string') parts.push(c.bold(c.cyan(log.event)));
    if (typeof log.conn === 'string') parts.push(typeof log.child === 'string' ? `${log.conn}/${log.child}` : log.conn);
    if (typeof log.dir === 'string') parts.push(log.dir);
    if (typeof log.spi === 'string') parts.push(log.spi);
    const msg = log[messageKey];
    if (typeof msg === 'string') parts.push(msg);
    return parts.join(' ');
  },
};

export type LineFormatter = (line: string) => string;

/** Formats one JSON log line for a person; colours when asked. Lines that are not JSON pass through. */
export function prettyFormatter(colour: boolean): LineFormatter {
  const p = prettyFactory({ ...PRETTY_OPTIONS, colorize: colour });
  return (line) => {
    if (!line.startsWith('{')) return line;
    return p(line).replace(/\n$/, '');
  };
}
