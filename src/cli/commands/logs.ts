import type { Command } from 'commander';
import { Option } from 'commander';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import type { CliContext } from '../context.js';
import type { StatusView } from '../../daemon/commands.js';
import { EXIT, cliSettings, fail } from '../context.js';
import { LEVELS, parseLine, parseLogFilter, type LogFilter } from '../../log/filter.js';
import { LogFollower, readLines, rotatedFiles } from '../../log/reader.js';

const DEFAULT_LOG_FILE = '/var/log/ipsec-offload/offload.log';

interface LogsOptions {
  follow?: boolean;
  event?: string;
  conn?: string;
  spi?: string;
  level?: string;
  since?: string;
  lines?: string;
  file?: string;
  color: 'auto' | 'always' | 'never';
}

export function registerLogs(program: Command, ctx: CliContext): void {
  program
    .command('logs')
    .description("the daemon's log: filter it, pretty-print it (colours on a terminal), follow it across rotation")
    .option('-f, --follow', 'keep printing new lines (across logrotate), like tail -F')
    .option('--event <names>', 'only these events: names or globs, comma-separated (sa.*,device.down)')
    .option('--conn <pattern>', 'only lines about these connections (conn, conn/child, globs with *)')
    .option('--spi <spi>', 'only lines about this SPI (0xc1a2b3c4)')
    .addOption(new Option('--level <level>', 'only this level and above').choices([...LEVELS]))
    .option('--since <when>', 'only lines since: 30s, 10m, 2h, 1d ago; 14:05 today; or 2026-11-21T14:05:00Z (reads rotated files too)')
    .option('-n, --lines <n>', 'only the last N matching lines (with -f: before following; default there 10)')
    .option('--file <path>', "the log file (default: the running daemon's, else log.file in the config file)")
    .addOption(new Option('--color <when>', 'colours').choices(['auto', 'always', 'never']).default('auto'))
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  ipsec-offload logs -f',
        '  ipsec-offload logs --event "sa.*" --conn site-a --since 1h',
        '  ipsec-offload logs --spi 0xc1a2b3c4',
        '  ipsec-offload logs --level warn --json | jq -c "{time, event, reason}"',
        '',
        'With --json the lines are printed as written: one JSON object per line.',
        'The event names and their fields: README.md, "Log events".',
      ].join('\n'),
    )
    .action(async (o: LogsOptions) => {
      const filter = parseLogFilter(o, Date.now());
      const last = o.lines !== undefined ? Number(o.lines) : o.follow && o.since === undefined ? 10 : undefined;
      if (last !== undefined && (!Number.isInteger(last) || last < 0)) fail(EXIT.usage, `--lines: ${JSON.stringify(o.lines)} is not a number of lines`);
      const file = o.file ?? (await daemonLogFile(ctx)) ?? (await cliSettings()).logFile ?? DEFAULT_LOG_FILE;
      const colour = o.color === 'always' || (o.color === 'auto' && process.stdout.isTTY === true && !process.env.NO_COLOR);
      // pino-pretty is loaded only when it is used.
      const render = ctx.globals.json ? (l: string): string => l : (await import('../../log/pretty.js')).prettyFormatter(colour);
      const print = (l: string): boolean => process.stdout.write(`${render(l)}\n`);
      const pick = selector(filter, Boolean(o.event || o.conn || o.spi || o.level || o.since));

      const access = readable(file);
      if (access === 'denied') fail(EXIT.permission, `cannot read ${file}: the log is for root (and its group); run the command with sudo`);
      if (access === 'missing' && !o.follow) {
        fail(EXIT.notFound, `no log file at ${file} (the daemon writes it once started; set log.file in the config file, or pass --file)`);
      }
      const size = existsSync(file) ? statSync(file).size : 0;
      const history = filter.since !== undefined ? rotatedFiles(file, filter.since) : [];
      const ring: string[] = [];
      const keep = (l: string): void => {
        if (!pick(l)) return;
        if (last === undefined) {
          print(l);
          return;
        }
        ring.push(l);
        if (ring.length > last) ring.shift();
      };
      for (const f of history) await readLines(f, keep);
      if (size > 0) await readLines(file, keep, size);
      for (const l of ring) print(l);
      if (!o.follow) return;

      if (size === 0 && !existsSync(file)) process.stderr.write(`ipsec-offload: waiting for ${file} to appear\n`);
      const follower = new LogFollower(file, (l) => void (pick(l) && print(l)), { from: size });
      follower.start();
      await new Promise<void>((resolve) => {
        const end = (): void => {
          follower.stop();
          resolve();
        };
        process.once('SIGINT', end);
        process.once('SIGTERM', end);
      });
    });
}

function readable(file: string): 'ok' | 'missing' | 'denied' {
  try {
    accessSync(file, constants.R_OK);
    return 'ok';
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'denied';
  }
}

/** A predicate on raw lines: JSON lines through the filter; other lines only when nothing is filtered. */
function selector(filter: LogFilter, filtering: boolean): (line: string) => boolean {
  return (line) => {
    if (line === '') return false;
    const rec = parseLine(line);
    return rec ? filter.test(rec) : !filtering;
  };
}

/** The running daemon's log file, if a daemon answers quickly. */
async function daemonLogFile(ctx: CliContext): Promise<string | undefined> {
  try {
    const s = (await ctx.call('status', {}, { timeoutMs: 2000 })) as StatusView;
    return s.log.file ?? undefined;
  } catch {
    return undefined;
  }
}
