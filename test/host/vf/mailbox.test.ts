// The PF daemon (role pf) on this host's kernel, with agents as real peers:
// a unix-socket peer is a process in another network namespace (ip netns
// exec), identified by that namespace alone; TLS peers present certificates
// made here with openssl. What this kernel can prove: identity (netns, mutual
// TLS), the protocol (hello, heartbeat, sync, bye), refusals before the
// kernel (forged addresses, transport mode, garbage, floods) and the kernel's
// own refusal rolled back cleanly (no ESP here: an SA cannot be installed, so
// no policy or store entry may stay behind); heartbeat timeout; `vf list`
// and `vf reset`. Installed SAs, offload and the cleanup of real SAs are the
// lab's (test/lab/vf).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Charon, Netns, waitFor } from '../vici/support/charon.js';
import { cli, events, peer, TestDaemon } from './support/daemon.js';
import { makePki, type Cert, type TestPki } from './support/certs.js';
import type { VfListResult } from '../../../src/vf/commands.js';
import { encodeFrame } from '../../../src/vf/protocol/codec.js';
import { KEY_HEX } from '../../unit/vf/builders.js';

let dir: string;
let nsPf: Netns;
let nsT0: Netns;
let nsT3: Netns;
let nsX: Netns;
let charon: Charon;
let daemon: TestDaemon;
let pki: TestPki;
let t1: Cert;
let t2: Cert;
let port: number;
let sock: string;
let control: string;
let log: string;
let store: string;

const list = (): VfListResult & { role: 'pf' } => {
  const r = cli(['--socket', control, '--json', 'vf', 'list']);
  if (r.status !== 0) throw new Error(`vf list: ${r.stderr}`);
  return JSON.parse(r.stdout) as VfListResult & { role: 'pf' };
};
const row = (name: string) => list().vfs.find((v) => v.name === name);
const unixPf = () => ({ unix: sock });
const tlsPf = (c: Cert) => ({ tls: { host: '127.0.0.1', port, cert: c.cert, key: c.key, ca: pki.ca, servername: 'pf.test' } });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vf-host-'));
  pki = makePki();
  t1 = pki.client('tenant1');
  t2 = pki.client('tenant2');
  nsPf = Netns.create('vfpf');
  nsT0 = Netns.create('vft0');
  nsT3 = Netns.create('vft3');
  nsX = Netns.create('vfx');
  nsPf.ip('link', 'add', 'pf0', 'type', 'veth', 'peer', 'name', 'pf0p');
  nsPf.ip('link', 'set', 'pf0', 'up');
  charon = new Charon({ name: 'pf', netns: nsPf, datapath: 'libipsec', swanctlConf: 'connections {\n}\n' });
  await charon.start();
  port = 20000 + Math.floor(Math.random() * 20000);
  sock = join(dir, 'vf.sock');
  control = join(dir, 'control.sock');
  log = join(dir, 'offload.log');
  store = join(dir, 'owners.json');
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    [
      `netns: ${nsPf.name}`,
      'role: pf',
      'vici:',
      `  socket: ${charon.socketPath}`,
      'control:',
      `  socket: ${control}`,
      'log:',
      `  file: ${log}`,
      'pf:',
      '  device: pf0',
      '  unix:',
      `    path: ${sock}`,
      '    mode: "0666"',
      '  tls:',
      '    listen: 127.0.0.1',
      `    port: ${port}`,
      `    cert: ${pki.server.cert}`,
      `    key: ${pki.server.key}`,
      `    ca: ${pki.ca}`,
      '  heartbeat: 500ms',
      '  stale_timeout: 2s',
      '  hello_timeout: 3s',
      `  store: ${store}`,
      '  vfs:',
      '    t0:',
      '      mac: 02:00:00:00:0a:00',
      '      vlan: 100',
      '      if_id: 100',
      '      addresses: [192.168.10.2, 10.10.0.0/24]',
      '      max_sas: 4',
      '      hw_slots: 2',
      `      peer: { unix: { netns: ${nsT0.name} } }`,
      '    t1:',
      '      mac: 02:00:00:00:0a:01',
      '      if_id: 101',
      '      addresses: [192.168.11.2, 10.11.0.0/24]',
      `      peer: { tls: { fingerprint: "${t1.fingerprint}" } }`,
      '    t2:',
      '      mac: 02:00:00:00:0a:02',
      '      if_id: 102',
      '      addresses: [192.168.12.2]',
      '      peer: { tls: { cn: tenant2 } }',
      '    t3:',
      '      vf: 0',
      '      if_id: 103',
      '      addresses: [192.168.13.2]',
      `      peer: { unix: { netns: ${nsT3.name} } }`,
      '',
    ].join('\n'),
  );
  daemon = new TestDaemon(config, log);
  await daemon.start();
});

afterAll(async () => {
  await daemon?.stop();
  await charon?.destroy();
  for (const ns of [nsPf, nsT0, nsT3, nsX]) ns?.delete();
  pki?.remove();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('identity: what the PF reads, never what the peer says', () => {
  it('a unix peer in the configured netns is that VF, and is told its settings', () => {
    const out = peer({ pf: unixPf(), steps: [{ req: 'hello', epoch: '00000000000000a1' }, { req: 'heartbeat' }, { sleep: 200 }] }, nsT0.name);
    expect(out[0]).toMatchObject({ step: 'hello', ok: true, attrs: { vfName: 't0', heartbeatMs: 500, staleMs: 2000, hwSlots: 2, maxSas: 4, removed: 0 } });
    expect(out[1]).toMatchObject({ step: 'heartbeat', ok: true });
    const connected = events(log, 'vf.connected').find((e) => e.vf === 't0');
    expect(connected).toMatchObject({ epoch: '00000000000000a1', kept: 0 });
    expect(String(connected?.peer)).toMatch(/^unix pid \d+ uid 0 netns \d+:\d+$/);
  });

  it('a unix peer in any other netns is nobody: one error (the agent learns why), the connection closed, a vf.refused line', () => {
    const before = events(log, 'vf.refused').length;
    const out = peer({ pf: unixPf(), steps: [{ req: 'hello', epoch: '01' }] }, nsX.name);
    expect(out[0]).toEqual({ step: 'hello', ok: false, reason: 'identity', message: 'this connection is no configured VF of this PF' });
    expect(String(out.at(-1)?.closed)).toMatch(/^closed by the peer: PF refused connection: identity \(this connection is no configured VF of this PF\)$/);
    const refused = events(log, 'vf.refused').slice(before);
    expect(refused[0]).toMatchObject({ request: 'connection', reason: 'identity' });
    expect(String(refused[0]?.message)).toMatch(/is no configured VF/);
  });

  it('a VF whose SR-IOV index the PF does not have (pf0 has no VFs) is refused at hello', () => {
    const out = peer({ pf: unixPf(), steps: [{ req: 'hello', epoch: '01' }] }, nsT3.name);
    expect(out[0]).toMatchObject({ step: 'hello', ok: false, reason: 'identity' });
    expect(String(out[0]?.message)).toMatch(/VF 0 does not exist on pf0/);
  });

  it('TLS: a pinned certificate fingerprint, or a CN, each names one VF', () => {
    expect(peer({ pf: tlsPf(t1), steps: [{ req: 'hello', epoch: '02' }] })[0]).toMatchObject({ ok: true, attrs: { vfName: 't1' } });
    expect(peer({ pf: tlsPf(t2), steps: [{ req: 'hello', epoch: '03' }] })[0]).toMatchObject({ ok: true, attrs: { vfName: 't2' } });
  });

  it('TLS: a certificate from another CA (even for a configured CN) is refused with OpenSSL\'s reason and the address; a CA-signed one for nobody is refused', () => {
    const rogue = pki.client('tenant2', { rogue: true });
    const r = peer({ pf: tlsPf(rogue), steps: [{ req: 'hello', epoch: '05' }] });
    expect(r.filter((o) => o.ok === true)).toEqual([]);
    // the client is told why (one error frame), as any refused connection
    expect(r[0]).toMatchObject({ step: 'hello', ok: false, reason: 'identity' });
    expect(events(log, 'vf.refused').find((e) => e.request === 'connection' && String(e.message).startsWith('client certificate'))).toMatchObject({
      peer: expect.stringMatching(/^tls 127\.0\.0\.1:\d+ cn tenant2$/),
      reason: 'identity',
      message: expect.stringMatching(/^client certificate not signed by pf\.tls\.ca \([A-Z_]+\)$/),
    });
    const stranger = pki.client('stranger');
    expect(peer({ pf: tlsPf(stranger), steps: [{ req: 'hello', epoch: '04' }] })[0]).toMatchObject({ step: 'hello', ok: false, reason: 'identity' });
    const refused = events(log, 'vf.refused').map((e) => `${String(e.request)} ${String(e.reason)} ${String(e.message)}`);
    expect(refused.some((r) => /tls cn stranger/.test(r) || /no configured VF/.test(r))).toBe(true);
  });
});

describe('requests', () => {
  it('a forged sa.add (another VF\'s address), transport mode, a foreign local selector: refused before the kernel, with the reason', () => {
    const out = peer(
      {
        pf: unixPf(),
        steps: [
          { req: 'hello', epoch: '00000000000000a1' },
          { req: 'sa.add', child: { uniqueid: 1, local: '192.168.11.2', localTs: [{ family: 2, proto: 0, prefixlen: 24, fromPort: 0, toPort: 65535, address: '10.11.0.0' }] } },
          { req: 'sa.add', child: { uniqueid: 2, mode: 0 } },
          { req: 'sa.add', child: { uniqueid: 3, localTs: [{ family: 2, proto: 0, prefixlen: 24, fromPort: 0, toPort: 65535, address: '10.11.0.0' }] } },
        ],
      },
      nsT0.name,
    );
    expect(out.slice(1, 4).map((o) => o.reason)).toEqual(['address-not-allowed', 'unsupported', 'address-not-allowed']);
    expect(String(out[1]?.message)).toMatch(/192\.168\.11\.2 is not an address of VF t0/);
  });

  it('a valid CHILD_SA the host kernel cannot install (no ESP here): refused as kernel, rolled back (no policy, nothing in the store)', () => {
    const out = peer({ pf: unixPf(), steps: [{ req: 'hello', epoch: '00000000000000a1' }, { req: 'sa.add', child: { uniqueid: 7 } }] }, nsT0.name);
    expect(out[1]).toMatchObject({ step: 'sa.add', ok: false, reason: 'kernel' });
    expect(String(out[1]?.message)).toMatch(/^add SA: ENOSYS Requested AEAD algorithm not found$/);
    expect(nsPf.ip('xfrm', 'policy').stdout).toBe('');
    expect(nsPf.ip('xfrm', 'state').stdout).toBe('');
    const saved = JSON.parse(readFileSync(store, 'utf8')) as { vfs: Record<string, { children: unknown[]; epoch: string }> };
    expect(saved.vfs.t0).toMatchObject({ children: [], epoch: '00000000000000a1' });
  });

  it('sync answers with the CHILD_SAs the PF lacks; sa.del of an unknown one is refused; bye ends the connection', () => {
    const out = peer({ pf: unixPf(), steps: [{ req: 'hello', epoch: '00000000000000a1' }, { req: 'sync', uniqueids: [3, 1, 2] }, { req: 'sa.del', uniqueid: 9 }, { req: 'bye' }] }, nsT0.name);
    expect(out[1]).toMatchObject({ ok: true, attrs: { missing: [1, 2, 3], removed: 0 } });
    expect(out[2]).toMatchObject({ ok: false, reason: 'unknown-child' });
    expect(out[3]).toMatchObject({ step: 'bye', ok: true });
    expect(out.at(-1)?.closed).not.toBeNull();
  });

  it("the VF's interface: this kernel has no xfrm interfaces, and says so in vf list (not a crash)", () => {
    const r = row('t0');
    expect(r?.error).toMatch(/create vf-t0 \(if_id 100\): EOPNOTSUPP/);
    expect(events(log, 'vf.error').some((e) => e.vf === 't0')).toBe(true);
  });
});

describe('a malicious tenant', () => {
  it('garbage and a wrong version are refused; a flood is cut off; the daemon and the other VFs carry on', () => {
    const v2 = encodeFrame('heartbeat', 5);
    v2.writeUInt16LE(2, 4);
    const out = peer({ pf: unixPf(), steps: [{ raw: Buffer.from('GET / HTTP/1.1\r\n\r\n').toString('hex') }, { raw: v2.toString('hex') }] }, nsT0.name);
    expect(out[0]).toMatchObject({ step: 'raw', got: '' });
    // a version-2 frame is answered (error, reason version = 2) before the connection closes
    const answer = Buffer.from(String(out[1]?.got), 'hex');
    expect(answer.readUInt8(6)).toBe(129);
    expect(answer.readUInt32LE(12)).toBe(5);
    const flood = peer({ pf: unixPf(), steps: [{ req: 'hello', epoch: '00000000000000a1' }, { flood: 500 }] }, nsT0.name);
    expect(flood[1]).toMatchObject({ step: 'flood' });
    expect(Number(flood[1]?.busy) + Number(flood[1]?.closed)).toBeGreaterThan(0);
    expect(daemon.running).toBe(true);
    expect(peer({ pf: tlsPf(t1), steps: [{ req: 'hello', epoch: '02' }, { req: 'heartbeat' }] })[1]).toMatchObject({ ok: true });
    expect(cli(['--socket', control, 'status']).status).toBe(0);
    // refusals are rate-limited: a flood is not a log flood
    const t0Refusals = events(log, 'vf.refused').filter((e) => e.vf === 't0');
    expect(t0Refusals.length).toBeLessThan(40);
  });
});

describe('stale: heartbeats stop', () => {
  it('after stale_timeout the VF is cleaned up and its connection closed', async () => {
    const out = peer({ pf: unixPf(), steps: [{ req: 'hello', epoch: '00000000000000a1' }, { sleep: 3500 }, { req: 'heartbeat' }] }, nsT0.name);
    expect(out[1]).toMatchObject({ step: 'heartbeat', ok: false });
    const r = await waitFor('t0 idle', () => (row('t0')?.state === 'idle' ? row('t0') : undefined), 10_000, 200);
    expect(r?.lastCleanup?.reason).toBe('heartbeat-timeout');
    expect(events(log, 'vf.disconnected').some((e) => e.vf === 't0' && /heartbeat-timeout/.test(String(e.reason)))).toBe(true);
  });
});

describe('CLI', () => {
  it('vf list: every VF with its PF settings, state, epoch, counts and quotas', () => {
    const v = list();
    expect(v).toMatchObject({ role: 'pf', device: 'pf0', listening: { unix: sock, tls: `127.0.0.1:${port}` } });
    expect(v.vfs.map((r) => [r.name, r.vf, r.present, r.mac, r.vlan, r.ifId, r.interface])).toEqual([
      ['t0', null, true, '02:00:00:00:0a:00', 100, 100, 'vf-t0'],
      ['t1', null, true, '02:00:00:00:0a:01', 0, 101, 'vf-t1'],
      ['t2', null, true, '02:00:00:00:0a:02', 0, 102, 'vf-t2'],
      ['t3', 0, false, null, 0, 103, 'vf-t3'],
    ]);
    expect(row('t0')).toMatchObject({ epoch: '00000000000000a1', hwSlots: { used: 0, quota: 2 }, maxSas: 4, sas: 0 });
    const human = cli(['--socket', control, 'vf', 'list']);
    expect(human.status).toBe(0);
    expect(human.stdout).toMatch(/^PF pf0; agents on /);
    expect(human.stdout).toMatch(/t3 +0 +absent/);
  });

  it('vf reset: by name (drops the agent), by index; an unknown VF exits 4', () => {
    const r = cli(['--socket', control, 'vf', 'reset', 't1']);
    expect(r).toMatchObject({ status: 0 });
    expect(r.stdout).toBe('VF t1: 0 SAs removed\n');
    expect(cli(['--socket', control, '--json', 'vf', 'reset', '0']).stdout).toContain('"vf": "t3"');
    const bad = cli(['--socket', control, 'vf', 'reset', 'nope']);
    expect(bad.status).toBe(4);
    expect(bad.stderr).toMatch(/no VF "nope"/);
  });
});

describe('key hygiene', () => {
  it('no key byte that crossed the mailbox is in the log or the ownership store', () => {
    for (const f of [log, store]) expect(readFileSync(f, 'utf8').toLowerCase()).not.toContain(KEY_HEX);
  });
});
