// The xfrm interface module inside the real daemon, on this host: real
// charons (kernel-libipsec datapath, so CHILD_SAs install) hand out if_ids
// with %unique, the daemon follows them over VICI and answers `xfrmi list`
// on its control socket. This kernel has no xfrm interfaces, so creating one
// must fail the way the kernel says and be reported, not crash anything; a
// real veth holding the name of another if_id's interface must be left alone
// and reported. Config errors come from the real CLI. Interfaces that really
// exist, routes and traffic are the lab's (test/lab/xfrmi).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charonPair, type CharonPair } from '../vici/support/pair.js';
import { waitFor } from '../vici/support/charon.js';
import { TestDaemon, cli, events } from '../vf/support/daemon.js';
import type { XfrmiListView } from '../../../src/xfrmi/commands.js';

describe('xfrmi config errors (the real CLI refuses to start the daemon)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'xfrmi-cfg-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('if_id 0 and two if_ids with one name: exit 6, one line per problem with the key path', () => {
    const path = join(dir, 'bad.yaml');
    writeFileSync(path, ['xfrmi:', '  interfaces:', '    "0": { name: vpn0 }', '    "5": { name: vpn }', '    "6": { name: vpn }', ''].join('\n'));
    const r = cli(['daemon', '--config', path]);
    expect(r.status).toBe(6);
    expect(r.stderr).toContain('xfrmi.interfaces.0: if_id 0 is not an xfrm interface ID: the kernel refuses it');
    expect(r.stderr).toContain('xfrmi.interfaces.6.name: "vpn" is already the name of if_id 5: two interfaces cannot share a name');
  });

  it('a fixed name the template gives another if_id: exit 6', () => {
    const path = join(dir, 'clash.yaml');
    writeFileSync(path, ['xfrmi:', '  name: "ipsec{ifid}"', '  interfaces:', '    "9": { name: ipsec3 }', ''].join('\n'));
    const r = cli(['daemon', '--config', path]);
    expect(r.status).toBe(6);
    expect(r.stderr).toContain('xfrmi.interfaces.9.name: "ipsec3" is what the name template "ipsec{ifid}" gives if_id 3');
  });
});

describe('xfrmi in the running daemon, with real charons', () => {
  let pair: CharonPair;
  let dir: string;
  let daemon: TestDaemon | undefined;
  let log: string;
  let socket: string;
  let vethIndex: string;

  const list = (): XfrmiListView => {
    const r = cli(['--socket', socket, '--json', 'xfrmi', 'list']);
    if (r.status !== 0) throw new Error(`xfrmi list failed (${r.status}): ${r.stderr}`);
    return JSON.parse(r.stdout) as XfrmiListView;
  };

  beforeAll(async () => {
    pair = await charonPair({
      datapath: 'libipsec',
      children: [
        { name: 'net', settings: { if_id_in: '%unique', if_id_out: '%unique' } },
        { name: 'fixed', settings: { if_id_in: '42', if_id_out: '42' } },
      ],
    });
    // Somebody else's interface with the name xfrm{ifid} gives if_id 42.
    pair.nsA.ip('link', 'add', 'xfrm42', 'type', 'veth', 'peer', 'name', 'xfrm42p');
    vethIndex = pair.nsA.ip('-o', 'link', 'show', 'xfrm42').stdout.split(':')[0] ?? '';
    dir = mkdtempSync(join(tmpdir(), 'xfrmi-daemon-'));
    socket = join(dir, 'control.sock');
    log = join(dir, 'offload.log');
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      [
        `netns: ${pair.nsA.name}`,
        'vici:',
        `  socket: ${pair.a.socketPath}`,
        'control:',
        `  socket: ${socket}`,
        'log:',
        `  file: ${log}`,
        'offload:',
        '  default: false',
        'xfrmi:',
        '  grace: 2s',
        '  routes: { install: true }',
        '',
      ].join('\n'),
    );
    daemon = new TestDaemon(config, log);
    await daemon.start();
  });

  afterAll(async () => {
    await daemon?.stop();
    await pair?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a CHILD_SA with %unique if_ids: charon says 1, the daemon wants xfrm1 and reports why this kernel refuses it', async () => {
    pair.a.swanctl(['--initiate', '--child', 'net', '--timeout', '20']);
    const row = await waitFor('if_id 1 in xfrmi list with the error', () => list().interfaces.find((r) => r.ifId === 1 && r.error !== null), 30_000, 500);
    expect(row).toMatchObject({ name: 'xfrm1', state: 'pending', ifindex: null, owner: null, dirs: ['in', 'out'], conns: [{ conn: 'lab', child: 'net' }] });
    // The host kernel has no xfrm link type; its ext-ack (iproute2 prints it as "Error: Unknown device type.").
    expect(row.error).toBe('create xfrm1: EOPNOTSUPP Unknown device type');
    expect(row.routes).toEqual([expect.objectContaining({ dst: '10.1.2.0/24', state: 'pending' })]);
    const err = events(log, 'xfrmi.error').find((e) => e.ifId === 1);
    expect(err).toMatchObject({ op: 'create', subject: 'xfrm1', errno: 'EOPNOTSUPP', kernel: 'Unknown device type' });
    // The daemon is still serving.
    expect(cli(['--socket', socket, 'status']).status).toBe(0);
  });

  it('if_id 42 whose name a foreign veth holds: left alone, a conflict in the list and in the log', async () => {
    pair.a.swanctl(['--initiate', '--child', 'fixed', '--timeout', '20']);
    const row = await waitFor('if_id 42 as a conflict', () => list().interfaces.find((r) => r.ifId === 42 && r.state === 'conflict'), 30_000, 500);
    expect(row.conflict).toMatchObject({ kind: 'name-taken', subject: 'xfrm42', ifindex: Number(vethIndex) });
    expect(row.conflict?.message).toBe(`the name xfrm42 for if_id 42 is taken by a veth interface (ifindex ${vethIndex}): not created; rename it, or set xfrmi.name / xfrmi.interfaces.42.name`);
    expect(events(log, 'xfrmi.conflict').filter((e) => e.ifId === 42)).toHaveLength(1);
    expect(events(log, 'xfrmi.error').filter((e) => e.ifId === 42)).toEqual([]);
    const veth = pair.nsA.ip('-d', 'link', 'show', 'xfrm42').stdout;
    expect(veth.startsWith(`${vethIndex}: xfrm42@xfrm42p`)).toBe(true);
    expect(veth).not.toMatch(/alias/);
    // The human table says the same.
    const text = cli(['--socket', socket, 'xfrmi', 'list']).stdout;
    expect(text).toMatch(/^42\s+xfrm42\s+-\s+-\s+conflict/m);
    expect(text).toContain('! if_id 42: name-taken: the name xfrm42 for if_id 42 is taken by a veth interface');
  });

  it('terminated CHILD_SAs: the if_ids are no longer wanted, nothing of ours to remove', async () => {
    pair.a.swanctl(['--terminate', '--ike', 'lab', '--timeout', '20']);
    await waitFor('an empty xfrmi list', () => (list().interfaces.length === 0 ? true : undefined), 30_000, 500);
    expect(events(log, 'xfrmi.removed')).toEqual([]);
    expect(pair.nsA.ip('-o', 'link', 'show', 'xfrm42').stdout.split(':')[0]).toBe(vethIndex);
  });

  it('charon restarts: not synced while it is away (nothing would be removed), list-sas again when it is back', async () => {
    await pair.a.stop();
    await waitFor('synced false', () => (list().synced ? undefined : true), 30_000, 500);
    await pair.a.start();
    pair.a.swanctl(['--load-all']);
    await waitFor('a resync after the reconnect', () => events(log, 'xfrmi.resync').find((e) => e.reason === 'vici reconnected'), 60_000, 500);
    expect(list().synced).toBe(true);
    pair.a.swanctl(['--initiate', '--child', 'net', '--timeout', '20']);
    // charon counts %unique from 1 again
    const row = await waitFor('if_id 1 again', () => list().interfaces.find((r) => r.ifId === 1), 30_000, 500);
    expect(row.conns).toEqual([expect.objectContaining({ conn: 'lab', child: 'net' })]);
  });
});
