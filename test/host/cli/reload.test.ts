// Config reload (SIGHUP) and log rotation (SIGUSR1) on the real daemon: a
// valid file is applied (a level change shows in the log at once), keys that
// need a restart are named, an invalid file is refused with the key path and
// the old config keeps running; `logs -f` follows the file across a rotation
// done the way packaging/logrotate does it (rename, new file, SIGUSR1).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../vici/support/charon.js';
import { ROOT, TestDaemon } from './support.js';

let d: TestDaemon;
beforeAll(async () => {
  d = await TestDaemon.start();
});
afterAll(async () => {
  await d?.destroy();
});

function edit(change: (text: string) => string): void {
  writeFileSync(d.config, change(readFileSync(d.config, 'utf8')));
}

describe('SIGHUP', () => {
  it('applies a valid config: the new log level takes effect at once', async () => {
    const before = d.logLines().length;
    edit((t) => t.replace(`  file: ${d.logFile}`, `  file: ${d.logFile}\n  level: debug`));
    d.signal('SIGHUP');
    expect(await d.waitForEvent('config.reloaded', before)).toMatchObject({ level: 'info', path: d.config });
    expect(await d.waitForEvent('log.reopened', before)).toMatchObject({ signal: 'SIGHUP', file: d.logFile });
    // control.request is logged at debug: visible now.
    await d.call('status');
    expect(await d.waitForEvent('control.request', before, (l) => l.cmd === 'status')).toMatchObject({ level: 'debug', uid: 0, ok: true });
  });

  it('names the changed keys that only a restart applies', async () => {
    const before = d.logLines().length;
    edit((t) => t.replace(`  socket: ${d.socket}`, `  socket: ${d.socket}.new`));
    d.signal('SIGHUP');
    expect(await d.waitForEvent('config.reloaded', before)).toMatchObject({ level: 'warn', restartNeeded: ['control.socket'] });
    // Still on the old socket.
    expect(await d.call('idle')).toEqual({ idle: true });
    edit((t) => t.replace(`  socket: ${d.socket}.new`, `  socket: ${d.socket}`));
  });

  it('refuses an invalid config, naming the key path, and keeps running the old one', async () => {
    const before = d.logLines().length;
    const good = readFileSync(d.config, 'utf8');
    edit((t) => `${t}offload:\n  backoff: whenever\n`);
    try {
      d.signal('SIGHUP');
      const bad = await d.waitForEvent('config.invalid', before);
      expect(bad).toMatchObject({ level: 'error', path: d.config, kept: 'previous', errors: ['offload.backoff: a duration like 500ms, 30s, 5m or 1h'] });
      expect(d.proc?.exitCode).toBeNull();
      const s = (await d.call('status')) as { log: { level: string } };
      expect(s.log.level).toBe('debug'); // the config from the last good reload
      // `config check` tells the same before anyone reloads.
      const r = d.cli(['config', 'check', '--config', d.config]);
      expect(r.code).toBe(6);
      expect(r.stderr).toContain('offload.backoff: a duration like 500ms, 30s, 5m or 1h');
    } finally {
      writeFileSync(d.config, good);
    }
  });
});

describe('rotation', () => {
  it('logs -f follows across rename + SIGUSR1 and reads the rotated history with --since', async () => {
    const follower = spawn('node', ['--import', 'tsx', 'src/cli/main.ts', '--socket', d.socket, '--json', 'logs', '-f', '--event', 'log.reopened,config.reloaded,control.request', '-n', '0'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    follower.stdout.setEncoding('utf8').on('data', (s: string) => (out += s));
    const events = (): { event: string; signal?: string; cmd?: string }[] =>
      out
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { event: string; signal?: string });
    try {
      // The follower is up once it sees a line written after it started.
      await waitFor('logs -f to start', async () => {
        await d.call('idle');
        return events().some((e) => e.event === 'control.request') ? true : undefined;
      }, 60_000, 500);

      const before = d.logLines().length;
      d.signal('SIGHUP'); // a line in the old file...
      await d.waitForEvent('config.reloaded', before);
      renameSync(d.logFile, `${d.logFile}.1`);
      await d.call('idle'); // ...one written to the renamed file before the daemon reopens...
      d.signal('SIGUSR1'); // ...then the reopen, written to the new file.
      await waitFor('the new log file', () => (existsSync(d.logFile) ? true : undefined));
      await d.call('status');
      const sequence = (): string[] => events().map((e) => (e.event === 'log.reopened' ? `reopened:${e.signal}` : e.event === 'control.request' ? `request:${e.cmd}` : e.event));
      await waitFor('logs -f to show the status request written to the new file', () => {
        const seq = sequence();
        const i = seq.indexOf('reopened:SIGUSR1');
        return i >= 0 && seq.slice(i).includes('request:status') ? true : undefined;
      }, 30_000, 200);
      const seq = sequence();
      const usr1 = seq.indexOf('reopened:SIGUSR1');
      expect(seq.slice(0, usr1)).toContain('config.reloaded');
      expect(seq.slice(0, usr1)).toContain('request:idle');
      expect(seq.slice(usr1)).toContain('request:status');
      expect(readFileSync(d.logFile, 'utf8').split('\n')[0]).toContain('"event":"log.reopened"');
    } finally {
      follower.kill('SIGINT');
      await new Promise((r) => follower.once('exit', r));
    }
    // The rotated file is part of the history --since reads.
    const hist = d.cli(['--json', 'logs', '--since', '1h', '--event', 'daemon.started']);
    expect(hist.code).toBe(0);
    expect(hist.stdout).toContain('"event":"daemon.started"');
    expect(readFileSync(d.logFile, 'utf8')).not.toContain('"event":"daemon.started"');
  });
});
