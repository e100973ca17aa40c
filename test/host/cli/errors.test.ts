// The errors a new user meets, tried as a new user would: no daemon, a stale
// socket, not root, charon not reachable, a bad or missing config file; and
// control.group opening the CLI to a group. Each one: the exit code and a
// message that says what to do.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/cli/context.js';
import { TestDaemon, cli } from './support.js';

const tmp = mkdtempSync(join(tmpdir(), 'ipsec-offload-errors-'));
const cleanup: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
  rmSync(tmp, { recursive: true, force: true });
});

describe('no daemon', () => {
  it('no socket: exit 3, the socket path and how to start the daemon', () => {
    const r = cli(['--socket', join(tmp, 'none.sock'), 'status']);
    expect(r.code).toBe(EXIT.noDaemon);
    expect(r.stderr).toBe(
      `ipsec-offload: the ipsec-offload daemon is not running (no control socket at ${join(tmp, 'none.sock')}); start it with: systemctl start ipsec-offload (or: ipsec-offload daemon)\n`,
    );
    expect(r.stdout).toBe('');
  });

  it('a stale socket left by a killed daemon: exit 3 too', async () => {
    const path = join(tmp, 'stale.sock');
    const p = spawn('node', ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`], { stdio: ['ignore', 'pipe', 'ignore'] });
    await new Promise((r) => p.stdout.once('data', r));
    p.kill('SIGKILL');
    await new Promise((r) => p.once('exit', r));
    expect(existsSync(path)).toBe(true);
    const r = cli(['--socket', path, 'sa', 'list']);
    expect(r.code).toBe(EXIT.noDaemon);
    expect(r.stderr).toContain(`not running (no control socket at ${path})`);
  });

  it('the socket comes from $IPSEC_OFFLOAD_SOCKET, then the config file', () => {
    expect(cli(['status'], { env: { IPSEC_OFFLOAD_SOCKET: join(tmp, 'env.sock') } }).stderr).toContain(`no control socket at ${join(tmp, 'env.sock')}`);
    const cfg = join(tmp, 'cli-config.yaml');
    writeFileSync(cfg, `control:\n  socket: ${join(tmp, 'from-config.sock')}\n`);
    expect(cli(['status'], { env: { IPSEC_OFFLOAD_CONFIG: cfg } }).stderr).toContain(`no control socket at ${join(tmp, 'from-config.sock')}`);
  });
});

describe('starting the daemon', () => {
  it('not root: exit 5, saying why it needs root', () => {
    const r = cli(['daemon', '--config', join(tmp, 'whatever.yaml')], { as: { uid: 65534, gid: 65534 } });
    expect(r.code).toBe(EXIT.permission);
    expect(r.stderr).toMatch(/^ipsec-offload: the daemon needs root \(CAP_NET_ADMIN/);
  });

  it('no config file: exit 6, naming the file and the example', () => {
    const r = cli(['daemon', '--config', join(tmp, 'missing.yaml')]);
    expect(r.code).toBe(EXIT.config);
    expect(r.stderr).toBe(`ipsec-offload: invalid config ${join(tmp, 'missing.yaml')}:\n  - file not found (see packaging/config.example.yaml)\n`);
  });

  it('a bad config: exit 6, one line per problem with the key path', () => {
    const cfg = join(tmp, 'bad.yaml');
    writeFileSync(cfg, 'log:\n  level: chatty\noffload:\n  rules:\n    - match: "*"\n      offload: yes please\n  devices:\n    a-name-much-too-long0: {}\n');
    const r = cli(['daemon', '--config', cfg]);
    expect(r.code).toBe(EXIT.config);
    expect(r.stderr).toBe(
      [
        `ipsec-offload: invalid config ${cfg}:`,
        '  - log.level: Invalid option: expected one of "debug"|"info"|"warn"|"error"',
        '  - offload.rules[0].offload: Invalid input: expected boolean, received string',
        '  - offload.devices.a-name-much-too-long0: interface names have at most 15 characters',
        '',
      ].join('\n'),
    );
  });

  it('a network namespace that does not exist: exit 6, naming it', () => {
    const cfg = join(tmp, 'netns.yaml');
    writeFileSync(cfg, `netns: no-such-ns-4711\ncontrol:\n  socket: ${join(tmp, 'ns.sock')}\nlog:\n  file: ${join(tmp, 'ns.log')}\n`);
    const r = cli(['daemon', '--config', cfg]);
    expect(r.code).toBe(EXIT.config);
    expect(r.stderr).toBe(`ipsec-offload: invalid config ${cfg}:\n  - netns: no network namespace named "no-such-ns-4711" (ip netns list shows them)\n`);
  });
});

describe('charon not reachable', () => {
  it('the daemon waits for charon; status says where it looked and why it failed', async () => {
    const d = await TestDaemon.start({ noCharon: true });
    cleanup.push(() => d.destroy());
    const vici = join(d.dir, 'no-charon.vici');
    const first = await d.waitForEvent('vici.disconnected', 0, () => true, 30_000);
    expect(first).toMatchObject({ level: 'warn', socket: vici });
    expect(String(first.error)).toMatch(/ENOENT/);

    const s = d.cli(['status']);
    expect(s.code).toBe(0);
    expect(s.stdout).toContain(`charon:  NOT connected on ${vici}: VICI socket ${vici}:`);
    expect(s.stdout).toContain('is charon running with the vici plugin?');
    const j = JSON.parse(d.cli(['--json', 'status']).stdout) as { vici: { connected: boolean; error: string } };
    expect(j.vici.connected).toBe(false);
    expect(j.vici.error).toMatch(/ENOENT/);
    expect(d.cli(['sa', 'list']).stdout).toMatch(new RegExp(`^no SAs: charon is not connected on ${vici} \\(`));

    // A stop while waiting for charon is prompt and clean.
    const t0 = Date.now();
    expect(await d.stop()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});

describe('control.group', () => {
  it('members of the group may use the CLI; the socket is 0660 and group-owned', async () => {
    const d = await TestDaemon.start({ group: '65534' });
    cleanup.push(() => d.destroy());
    const st = statSync(d.socket);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.gid).toBe(65534);
    const r = d.cli(['status'], { as: { uid: 65534, gid: 65534 } });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    // Another unprivileged user (not in the group) is still refused.
    expect(d.cli(['status'], { as: { uid: 65533, gid: 65533 } }).code).toBe(EXIT.permission);
  });
});
