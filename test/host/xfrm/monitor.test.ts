// XfrmMonitor on this machine's kernel: the events our own client causes, an
// ACQUIRE from real traffic, EXPIRE from a larval SA timing out, and overrun
// when the listener cannot keep up.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XfrmClient } from '../../../src/xfrm/client.js';
import type { XfrmEvent, XfrmEventKind } from '../../../src/xfrm/events.js';
import { selector } from '../../../src/xfrm/model.js';
import { XfrmMonitor } from '../../../src/xfrm/monitor.js';
import { makePolicy, policyIdOf, template } from '../../../src/xfrm/policy.js';
import { TestNetns } from '../support/netns.js';

/** Collects events; next(kind) resolves with the first unseen event of that kind. */
class Recorder {
  readonly events: XfrmEvent[] = [];
  #waiters: { kind: XfrmEventKind; resolve: (e: XfrmEvent) => void }[] = [];
  #taken = new Set<XfrmEvent>();
  constructor(m: XfrmMonitor) {
    m.on('event', (e) => {
      this.events.push(e);
      const i = this.#waiters.findIndex((w) => w.kind === e.kind);
      if (i >= 0) {
        const [w] = this.#waiters.splice(i, 1);
        this.#taken.add(e);
        w?.resolve(e);
      }
    });
  }
  next(kind: XfrmEventKind, timeoutMs = 5000): Promise<XfrmEvent> {
    const ready = this.events.find((e) => e.kind === kind && !this.#taken.has(e));
    if (ready) {
      this.#taken.add(ready);
      return Promise.resolve(ready);
    }
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no ${kind} event within ${timeoutMs} ms`)), timeoutMs);
      this.#waiters.push({ kind, resolve: (e) => (clearTimeout(t), resolve(e)) });
    });
  }
}

const outPolicy = (priority = 100, reqid = 7, ifId?: number) =>
  makePolicy({
    selector: selector('10.1.0.0/24', '10.2.0.0/24'),
    dir: 'out',
    priority,
    templates: [template({ saddr: '10.0.0.1', daddr: '10.0.0.2', proto: 'esp', mode: 'tunnel', reqid })],
    ...(ifId !== undefined ? { ifId } : {}),
  });

describe('XfrmMonitor on the host kernel', () => {
  let ns: TestNetns;
  let client: XfrmClient;
  let monitor: XfrmMonitor;
  let rec: Recorder;
  beforeAll(async () => {
    ns = new TestNetns('xfrmmon');
    // lo has disable_xfrm: traffic that should hit a policy leaves through a veth
    ns.ip('link', 'add', 'v0', 'type', 'veth', 'peer', 'name', 'v1');
    ns.ip('link', 'set', 'v0', 'up');
    ns.ip('link', 'set', 'v1', 'up');
    ns.ip('addr', 'add', '10.1.0.1/24', 'dev', 'v0');
    ns.ip('route', 'add', '10.2.0.0/24', 'dev', 'v0');
    execFileSync('ip', ['netns', 'exec', ns.name, 'sysctl', '-q', '-w', 'net.core.xfrm_acq_expires=1']);
    client = await XfrmClient.open({ netns: { name: ns.name } });
    monitor = XfrmMonitor.open({ netns: { name: ns.name } });
    rec = new Recorder(monitor);
  });
  afterAll(() => {
    monitor?.close();
    client?.close();
    ns?.remove();
  });

  it('sees NEWPOLICY, UPDPOLICY and DELPOLICY (with the deleted policy) from our client', async () => {
    await client.addPolicy(outPolicy(100, 7, 5));
    const added = await rec.next('newpolicy');
    expect(added).toMatchObject({ kind: 'newpolicy', pid: client.portId, policy: { dir: 'out', priority: 100, ifId: 5, templates: [{ reqid: 7 }] } });
    expect(added.seq).not.toBe(0);

    await client.updatePolicy(outPolicy(60, 7, 5));
    expect(await rec.next('updpolicy')).toMatchObject({ policy: { priority: 60 } });

    await client.deletePolicy(policyIdOf(outPolicy(60, 7, 5)));
    const del = await rec.next('delpolicy');
    expect(del).toMatchObject({ kind: 'delpolicy', id: { dir: 'out', ifId: 5 }, policy: { priority: 60, templates: [{ reqid: 7 }] } });
  });

  it('sees an ACQUIRE when traffic hits an out policy that has no SA, and the larval SA EXPIRE', async () => {
    await client.addPolicy(outPolicy(200, 8));
    await rec.next('newpolicy');
    try {
      execFileSync('ip', ['netns', 'exec', ns.name, 'ping', '-c', '1', '-W', '1', '10.2.0.9'], { stdio: 'ignore' });
    } catch {
      // no SA: the packet is held or dropped, ping fails — the ACQUIRE is the point
    }
    const acq = await rec.next('acquire');
    expect(acq).toMatchObject({ kind: 'acquire', acquire: { daddr: '10.0.0.2', saddr: '10.0.0.1', proto: 'esp', selector: { daddr: '10.2.0.9' }, policy: { dir: 'out', priority: 200 } } });
    // xfrm_acq_expires=1: the kernel's larval SA for that ACQUIRE times out
    const exp = await rec.next('expire', 8000);
    expect(exp).toMatchObject({ kind: 'expire', hard: true, state: { daddr: '10.0.0.2', reqid: 8 } });
  });

  it('sees DELSA with the final state, stamped with the deleting request\'s seq', async () => {
    await client.allocSpi({ saddr: '10.0.0.1', daddr: '10.0.0.2', proto: 'esp', mode: 'tunnel', reqid: 9, min: 0x5000, max: 0x5000 });
    const final = await client.deleteState({ daddr: '10.0.0.2', spi: 0x5000, proto: 'esp' });
    const ev = await rec.next('delsa');
    expect(ev).toMatchObject({ kind: 'delsa', pid: client.portId, id: { daddr: '10.0.0.2', spi: 0x5000, proto: 'esp' }, state: { spi: 0x5000, reqid: 9 } });
    expect(ev.kind === 'delsa' && ev.state?.current?.addTime).toBe(final.current?.addTime);
  });

  it('sees FLUSHPOLICY and FLUSHSA', async () => {
    await client.allocSpi({ saddr: '10.0.0.1', daddr: '10.0.0.2', proto: 'esp', mode: 'tunnel', reqid: 9, min: 0x5001, max: 0x5001 });
    await client.flushPolicies();
    expect(await rec.next('flushpolicy')).toMatchObject({ type: 'main' });
    await client.flushStates();
    expect(await rec.next('flushsa')).toMatchObject({ proto: 0 });
  });

  it('a monitor in another namespace sees none of it', async () => {
    const elsewhere = new TestNetns('xfrmmon2');
    const quiet = XfrmMonitor.open({ netns: { name: elsewhere.name } });
    const seen: XfrmEvent[] = [];
    quiet.on('event', (e) => seen.push(e));
    try {
      await client.addPolicy(outPolicy(300, 3));
      await rec.next('newpolicy');
      await new Promise((r) => setTimeout(r, 100));
      expect(seen).toEqual([]);
    } finally {
      quiet.close();
      elsewhere.remove();
      await client.flushPolicies();
      await rec.next('flushpolicy');
    }
  });

  it("reports 'overrun' when notifications are dropped, so the owner re-dumps", async () => {
    const tiny = XfrmMonitor.open({ netns: { name: ns.name }, groups: ['policy'], receiveBuffer: 4096 });
    let overruns = 0;
    tiny.on('overrun', () => overruns++);
    try {
      // 256 NEWPOLICY in one sendmsg: the kernel queues ~70 KB of notifications at once
      const policies = Array.from({ length: 256 }, (_, i) =>
        makePolicy({ selector: selector(`10.${100 + (i >> 8)}.${i & 0xff}.0/24`, '10.250.0.0/16'), dir: 'in' }),
      );
      await Promise.all(policies.map((p) => client.addPolicy(p)));
      for (let i = 0; i < 20 && overruns === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(overruns).toBeGreaterThan(0);
      expect(tiny.overruns).toBe(overruns);
    } finally {
      tiny.close();
      await client.flushPolicies();
    }
  });
});
