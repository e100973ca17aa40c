// The CLI against a running daemon on this host (charon reachable, no ESP SAs
// on this kernel): every command with and without --json, the shapes scripts
// rely on, and the messages and exit codes a new user meets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../../src/cli/context.js';
import { TestDaemon, type CliResult } from './support.js';

let d: TestDaemon;

beforeAll(async () => {
  d = await TestDaemon.start();
  // A device in the managed netns, so device list has something to show.
  d.netns.ip('link', 'add', 'vcli0', 'type', 'veth', 'peer', 'name', 'vcli1');
  d.netns.ip('addr', 'add', '192.0.2.1/24', 'dev', 'vcli0');
  d.netns.ip('link', 'set', 'vcli0', 'up');
});
afterAll(async () => {
  await d?.destroy();
});

function ok(r: CliResult): string {
  expect(r.stderr, r.stderr).toBe('');
  expect(r.code).toBe(0);
  return r.stdout;
}

describe('status', () => {
  it('for people: version, charon connection, counts, where the log is', () => {
    const out = ok(d.cli(['status']));
    expect(out).toMatch(/^ipsec-offload \d+\.\d+\.\d+, pid \d+, up \d+s, config .*config\.yaml, netns clih/);
    expect(out).toContain(`charon:  connected on ${d.charon?.socketPath}`);
    expect(out).toMatch(/SAs: +0 \(0 offloaded, 0 software, 0 pending, 0 missing\) in 0 CHILD_SAs/);
    expect(out).toContain(`log:     ${d.logFile} (level info`);
  });

  it('--json: the documented shape', () => {
    const s = JSON.parse(ok(d.cli(['--json', 'status']))) as Record<string, unknown>;
    expect(Object.keys(s).sort()).toEqual(['children', 'config', 'devices', 'log', 'netns', 'pid', 'sas', 'uptimeSeconds', 'version', 'vici'].sort());
    expect(s.vici).toEqual({ socket: d.charon?.socketPath, connected: true, synced: true, error: null });
    expect(s.sas).toEqual({ total: 0, offloaded: 0, software: 0, pending: 0, missing: 0 });
    expect(s.log).toEqual({ file: d.logFile, level: 'info' });
    expect(s.netns).toBe(d.netns.name);
  });

  it('--json works after the command too', () => {
    expect(JSON.parse(ok(d.cli(['status', '--json']))) as object).toHaveProperty('vici');
  });
});

describe('device list', () => {
  it('--json lists every device of the netns with its capability', async () => {
    await d.call('resync');
    const rows = JSON.parse(ok(d.cli(['--json', 'device', 'list']))) as { name: string; espOffload: boolean; up: boolean; addresses: string[] }[];
    const v = rows.find((r) => r.name === 'vcli0');
    expect(v).toMatchObject({ name: 'vcli0', espOffload: false, addresses: ['192.0.2.1'] });
    expect(Object.keys(v ?? {}).sort()).toEqual(['addresses', 'capacity', 'capacitySource', 'esn', 'espOffload', 'ifindex', 'name', 'offloaded', 'silentFallback', 'up'].sort());
  });

  it('for people: only devices that can offload, and how to check when there is none', () => {
    expect(ok(d.cli(['device', 'list']))).toBe('no device with ESP offload (ethtool -k DEV | grep esp-hw-offload)\n');
  });
});

describe('sa', () => {
  it('sa list explains an empty list', () => {
    expect(ok(d.cli(['sa', 'list']))).toBe('no SAs: charon has no CHILD_SA installed (swanctl --list-sas; swanctl --initiate --child NAME)\n');
    expect(JSON.parse(ok(d.cli(['--json', 'sa', 'list'])))).toEqual([]);
  });

  it('sa show of an unknown SPI: exit 4 and what a valid reference looks like', () => {
    const r = d.cli(['sa', 'show', '0xdeadbeef']);
    expect(r.code).toBe(EXIT.notFound);
    expect(r.stderr).toBe('ipsec-offload: no SA matches "0xdeadbeef" (give an SPI like 0xc1a2b3c4, a CHILD_SA uniqueid, or conn[/child])\n');
  });

  it('sa promote/demote/unpin of nothing: exit 4', () => {
    for (const verb of ['promote', 'demote', 'unpin']) expect(d.cli(['sa', verb, 'no-such-conn']).code, verb).toBe(EXIT.notFound);
  });

  it('a bad --state is a usage error (exit 2) that lists the choices', () => {
    const r = d.cli(['sa', 'list', '--state', 'sideways']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toMatch(/Allowed choices are offloaded, software, pending, missing/);
  });
});

describe('wait', () => {
  it('wait, wait --resync and wait --ready return when done', () => {
    expect(ok(d.cli(['wait']))).toBe('idle\n');
    expect(JSON.parse(ok(d.cli(['--json', 'wait', '--resync'])))).toEqual({ ok: true });
    expect(ok(d.cli(['wait', '--ready', '--timeout', '5']))).toBe('ready\n');
  });
});

describe('logs', () => {
  it('pretty-prints the log for people, without colours when not a terminal', () => {
    const out = ok(d.cli(['logs']));
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: config\.loaded \{"path":".*config\.yaml"\}$/m);
    expect(out).toMatch(/INFO: vici\.connected/);
    expect(out).not.toContain('\u001b[');
  });

  it('--json prints the lines as written; filters by event, level and since', () => {
    const lines = ok(d.cli(['--json', 'logs', '--event', 'vici.*,daemon.started']))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string });
    expect(lines.map((l) => l.event)).toEqual(['vici.connected', 'daemon.started']);
    expect(ok(d.cli(['--json', 'logs', '--level', 'error']))).toBe('');
    expect(ok(d.cli(['--json', 'logs', '--since', '2000-01-01T00:00:00Z', '-n', '1'])).trim().split('\n')).toHaveLength(1);
  });

  it('finds the log file through the running daemon (no --file)', () => {
    expect(ok(d.cli(['logs', '--event', 'daemon.started']))).toContain('daemon.started');
  });

  it('a typo in an event name is refused with suggestions (exit 2)', () => {
    const r = d.cli(['logs', '--event', 'vici.connect']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain('--event: no event named "vici.connect" (did you mean vici.connected,');
  });

  it('as a user who may not read it: exit 5', () => {
    const r = d.cli(['logs', '--file', d.logFile], { as: { uid: 65534, gid: 65534 } });
    expect(r.code).toBe(EXIT.permission);
    expect(r.stderr).toBe(`ipsec-offload: cannot read ${d.logFile}: the log is for root (and its group); run the command with sudo\n`);
  });

  it('a missing log file: exit 4, naming the file and how to set it', () => {
    const r = d.cli(['logs', '--file', `${d.dir}/nope.log`]);
    expect(r.code).toBe(EXIT.notFound);
    expect(r.stderr).toBe(`ipsec-offload: no log file at ${d.dir}/nope.log (the daemon writes it once started; set log.file in the config file, or pass --file)\n`);
  });
});

describe('config check', () => {
  it('summarises a valid file; --json gives every setting with its default', () => {
    expect(ok(d.cli(['config', 'check', '--config', d.config]))).toContain(`${d.config}: valid`);
    const c = JSON.parse(ok(d.cli(['--json', 'config', 'check', '--config', d.config]))) as { offload: { backoff: number }; control: { socket: string } };
    expect(c.offload.backoff).toBe(30_000);
    expect(c.control.socket).toBe(d.socket);
  });
});
