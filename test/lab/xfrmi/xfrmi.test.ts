// xfrm interfaces follow the SAs (lab: the only place with xfrm interfaces).
// One VM: two charons with if_id_in/out = %unique, a daemon beside each
// working in that charon's netns; see xfrmi.sh for the steps.
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type LabRun } from '../harness/scenario.js';
import type { XfrmiListView } from '../../../src/xfrmi/commands.js';
import { events, type Captured, type SaRow } from '../offload/support.js';

/** RX/TX packet counters of `ip -s -o link show` (one line, fields separated by `\`). */
function packets(statsLine: string): { rx: number; tx: number } {
  const m = /RX:[^\\]*\\\s+(\d+)\s+(\d+).*TX:[^\\]*\\\s+(\d+)\s+(\d+)/.exec(statsLine);
  if (!m) throw new Error(`no counters in ${statsLine}`);
  return { rx: Number(m[2]), tx: Number(m[4]) };
}

describe('xfrm interfaces follow the CHILD_SAs', () => {
  let run: LabRun;
  let logA: string;
  let logB: string;
  beforeAll(async () => {
    run = (await runInLab('xfrmi', scenarioScript(import.meta.url, 'xfrmi.sh'), { timeoutMs: 1_700_000 })).expectSuccess();
    logA = run.file('logs/offload-A.log');
    logB = run.file('logs/offload-B.log');
  });

  it('a CHILD_SA with if_id 1 gets xfrm1: kind xfrm, if_id 1, on the device that owns the local address, up, MTU 1400, marked ours', () => {
    const a = run.text('link-a-up');
    expect(a).toMatch(/^\d+: xfrm1@nsim0: <[^>]*\bUP\b[^>]*> mtu 1400 /);
    expect(a).toMatch(/xfrm if_id 0x1 /);
    expect(a).toMatch(/alias ipsec-offload:xfrmi:1/);
    // B's local address 10.0.0.2 is on vethB.
    expect(run.text('link-b-up')).toMatch(/^\d+: xfrm1@vethB: .* mtu 1400 .*xfrm if_id 0x1 .*alias ipsec-offload:xfrmi:1/);
    const created = events(logA, 'xfrmi.created');
    expect(created).toEqual([expect.objectContaining({ ifId: 1, name: 'xfrm1', link: 'nsim0', mtu: 1400, conns: [expect.stringMatching(/^xfrmi\/net#\d+$/)] })]);
  });

  it('in the daemon\'s configured namespace, not its own', () => {
    expect(run.json<Captured>('root-ns').rc).not.toBe(0);
    expect(events(logA, 'daemon.started')[0]).toMatchObject({ netns: 'nsA' });
  });

  it("routes to the remote selectors through the interface, with a source from the local selectors (charon's install_routes_xfrmi)", () => {
    expect(run.text('routes-a-up')).toMatch(/^10\.2\.0\.0\/24 dev xfrm1 proto 158 scope link src 10\.1\.0\.1\s*$/m);
    expect(run.text('routes-b-up')).toMatch(/^10\.1\.0\.0\/24 dev xfrm1 proto 158 scope link src 10\.2\.0\.1\s*$/m);
    expect(events(logA, 'route.added')[0]).toMatchObject({ dst: '10.2.0.0/24', dev: 'xfrm1', ifId: 1, table: 254, prefsrc: '10.1.0.1' });
    const list = run.json<XfrmiListView>('list-a-up');
    expect(list.synced).toBe(true);
    expect(list.interfaces).toEqual([
      expect.objectContaining({
        ifId: 1,
        name: 'xfrm1',
        link: 'nsim0',
        state: 'up',
        owner: 'ipsec-offload',
        mtu: 1400,
        dirs: ['in', 'out'],
        conns: [expect.objectContaining({ conn: 'xfrmi', child: 'net' })],
        routes: [expect.objectContaining({ dst: '10.2.0.0/24', state: 'installed', prefsrc: '10.1.0.1' })],
        conflict: null,
        error: null,
      }),
    ]);
    expect(run.file('results/list-a-up.txt')).toMatch(/^1\s+xfrm1\s+\d+\s+nsim0\s+up\s+1400\s+ipsec-offload\s+xfrmi\/net#\d+\s+10\.2\.0\.0\/24$/m);
  });

  it('a plain ping between the networks crosses the interfaces (their counters move on both sides)', () => {
    expect(run.json<Captured>('ping').out).toMatch(/5 packets transmitted, 5 received/);
    const a = packets(run.text('stats-a'));
    const b = packets(run.text('stats-b'));
    expect(a.tx).toBeGreaterThanOrEqual(5);
    expect(a.rx).toBeGreaterThanOrEqual(5);
    expect(b.rx).toBeGreaterThanOrEqual(5);
    expect(b.tx).toBeGreaterThanOrEqual(5);
  });

  it('the SAs carry if_id 1 and are offloaded to nsim0 by the same daemon: independent of the interface', () => {
    const x = run.text('xfrm-a');
    expect(x.match(/if_id 0x1/g)?.length).toBeGreaterThanOrEqual(2);
    const sas = run.json<SaRow[]>('sa-a');
    expect(sas.filter((s) => s.child === 'net').map((s) => s.state)).toEqual(['offloaded', 'offloaded']);
  });

  it('a rekey keeps both interfaces and the route: same ifindex, no link event, traffic flows', () => {
    const r = run.json<{ a: [string, string]; b: [string, string]; uid: [string, string] }>('rekey');
    expect(r.uid[0]).not.toBe(r.uid[1]);
    expect(r.a[1]).toBe(r.a[0]);
    expect(r.b[1]).toBe(r.b[0]);
    expect(run.text('monitor-a')).not.toMatch(/xfrm1/);
    expect(run.text('monitor-b')).not.toMatch(/xfrm1/);
    expect(run.text('routes-a-rekey')).toMatch(/^10\.2\.0\.0\/24 dev xfrm1 proto 158 scope link src 10\.1\.0\.1\s*$/m);
    expect(run.json<Captured>('ping-rekey').out).toMatch(/5 packets transmitted, 5 received/);
    // Over the whole run (rekey and restart included) each side created xfrm1 once and removed it once (at terminate).
    for (const log of [logA, logB]) {
      expect(events(log, 'xfrmi.created').filter((e) => e.ifId === 1)).toHaveLength(1);
      expect(events(log, 'xfrmi.removed').filter((e) => e.ifId === 1)).toHaveLength(1);
      expect(events(log, 'route.added').filter((e) => e.ifId === 1)).toHaveLength(1);
    }
  });

  it('a daemon restart adopts the interface: same ifindex, no second xfrmi.created, xfrmi.adopted instead', () => {
    const r = run.json<{ before: string; after: string }>('restart');
    expect(r.after).toBe(r.before);
    expect(run.text('link-a-stopped')).toMatch(new RegExp(`^${r.before}: xfrm1@nsim0`));
    expect(events(logA, 'daemon.started')).toHaveLength(2);
    expect(events(logA, 'xfrmi.created').filter((e) => e.ifId === 1)).toHaveLength(1);
    expect(events(logA, 'xfrmi.adopted')).toEqual([expect.objectContaining({ ifId: 1, name: 'xfrm1', ifindex: Number(r.before), up: true, inUse: true })]);
    expect(run.json<XfrmiListView>('list-a-restart').interfaces[0]).toMatchObject({ ifId: 1, ifindex: Number(r.before), state: 'up' });
    expect(run.json<Captured>('ping-restart').out).toMatch(/3 packets transmitted, 3 received/);
  });

  it('a foreign xfrm interface with the same if_id is left alone and reported as a conflict', () => {
    // untouched: same line before and after (index, flags, MTU, no alias)
    const before = run.text('ext42-before');
    expect(before).toMatch(/^\d+: ext42@vethA: .*xfrm if_id 0x2a/);
    expect(run.text('ext42-after')).toBe(before);
    expect(run.text('ext42-end')).toBe(before);
    expect(before).not.toMatch(/alias/);
    expect(run.text('routes-a-foreign')).not.toMatch(/10\.2\.42\.0/);
    const row = run.json<XfrmiListView>('list-a-foreign').interfaces.find((r) => r.ifId === 42);
    expect(row).toMatchObject({ name: 'ext42', owner: 'foreign', state: 'conflict', conflict: { kind: 'foreign-ifid', subject: 'ext42' } });
    expect(run.file('results/list-a-foreign.txt')).toMatch(/^! if_id 42: foreign-ifid: ext42 \(ifindex \d+\) is an xfrm interface with if_id 42 that ipsec-offload did not create: left alone/m);
    expect(events(logA, 'xfrmi.conflict')).toEqual([expect.objectContaining({ ifId: 42, kind: 'foreign-ifid', subject: 'ext42' })]);
    expect(events(logA, 'xfrmi.created').filter((e) => e.ifId === 42)).toEqual([]);
    // B has no foreign interface: it made its own for 42.
    expect(events(logB, 'xfrmi.created').filter((e) => e.ifId === 42)).toHaveLength(1);
  });

  it('terminate: route and interface go after the grace period (3 s), on both sides', () => {
    expect(run.text('routes-a-end')).not.toMatch(/xfrm1/);
    expect(run.text('routes-b-end')).not.toMatch(/xfrm1/);
    const t = run.json<{ removedAfter: number }>('terminate');
    expect(t.removedAfter).toBeGreaterThan(2.5);
    expect(t.removedAfter).toBeLessThan(30);
    for (const log of [logA, logB]) {
      const removed = events(log, 'xfrmi.removed').filter((e) => e.ifId === 1);
      expect(removed).toEqual([expect.objectContaining({ name: 'xfrm1', reason: 'unused' })]);
      expect(removed[0]?.idleMs).toBeGreaterThanOrEqual(3000);
    }
    expect(events(logA, 'route.removed')).toEqual([expect.objectContaining({ dst: '10.2.0.0/24', dev: 'xfrm1', reason: 'interface-removed' })]);
    expect(run.json<XfrmiListView>('list-a-end').interfaces.map((r) => r.ifId)).toEqual([42]);
    // B's if_id 42 is still in use (CHILD_SA fixed).
    expect(run.text('b-xfrm42-end')).toMatch(/xfrm42/);
  });
});
