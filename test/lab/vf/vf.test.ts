// Issue 9 (lab): the per-VF proxy through the PF, in one VM boot (vf.sh).
// Two tenants (charon with policies = no + the agent, role vf) and a remote
// charon; the PF daemon (role pf) on the host terminates the tenants' IPsec
// with per-VF if_id, xfrm interface and routes, and offloads within each
// VF's quota onto a netdevsim PF with SR-IOV VFs, and XDP steering on that PF
// (fdb from the VFs' MAC + VLAN, ESP exceptions from their SAs). Then a
// malicious tenant, and each stale-SA cleanup trigger, each checked on the
// host: no SA, policy, route, xfrm interface, netdevsim table entry or
// steering ESP exception (bpftool on the pinned map) of that VF left behind.
// The CLI under test is $VF_CLI on the host when set (a private build),
// else the checkout's dist/cli/main.js.
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type LabRun } from '../harness/scenario.js';
import { expectNoKeyLeaks } from '../harness/key-audit.js';
import { events, type Captured } from '../offload/support.js';
import type { VfListResult } from '../../../src/vf/commands.js';
import type { SteerListView } from '../../../src/steer/views.js';

/** The pinned steering maps as bpftool shows them (vf.sh steer_maps). */
interface SteerMaps {
  esp: { vlan: number; daddr: string; spi: string }[];
  /** "mac/vlan" */
  fdb: string[];
  ports: number;
}

interface Leftovers {
  vf: string;
  spis: string;
  sas: number;
  policies: number;
  interface: boolean;
  routes: number;
  oldSpisInKernel: number;
  oldSpisInNsim: number;
  oldSpisInEsp: number;
  nsimCount: number;
  steer: SteerMaps;
}

const spiList = (s: string): string[] => s.split(' ').filter(Boolean);

describe('vf: tenant IKE, host termination and offload, stale-SA cleanup', () => {
  let run: LabRun;
  /** every line of the PF daemon's log, parsed once */
  let pf: Record<string, unknown>[];
  beforeAll(async () => {
    const cli = process.env.VF_CLI;
    const script = (cli ? `VF_CLI=${cli}\n` : '') + scenarioScript(import.meta.url, 'vf.sh');
    const started = Date.now();
    run = (await runInLab('vf', script, { timeoutMs: 1_500_000 })).expectSuccess();
    console.log(`vf lab scenario: ${Math.round((Date.now() - started) / 1000)} s wall, guest steps ${JSON.stringify(run.json('times'))}`);
    pf = events(run.file('logs/pf.log'));
  }, 1_600_000);

  const expectClean = (l: Leftovers, spis: number): void => {
    expect(spiList(l.spis)).toHaveLength(spis);
    expect(l).toMatchObject({ sas: 0, policies: 0, interface: false, routes: 0, oldSpisInKernel: 0, oldSpisInNsim: 0, oldSpisInEsp: 0 });
    // nothing of that VF among the exceptions: not its old SPIs (above), not its address
    const addr = { t0: '192.168.10.2', t1: '192.168.11.2', t2: '192.168.12.2' }[l.vf];
    expect(l.steer.esp.filter((e) => e.daddr === addr)).toEqual([]);
  };
  const cleanups = (vf: string, reason: string): Record<string, unknown>[] => pf.filter((e) => e.event === 'vf.stale_cleanup' && e.vf === vf && e.reason === reason);

  it('each tenant CHILD_SA is installed on the host with its VF if_id, policies and interface, and offloaded within quota', () => {
    const up = run.json<{ t0: string; t1: string; nsimCount: number }>('up');
    expect(spiList(up.t0)).toHaveLength(2);
    expect(spiList(up.t1)).toHaveLength(2);
    const state = run.file('results/host-state.xfrm');
    expect(state.match(/if_id 0x64/g)).toHaveLength(2);
    expect(state.match(/if_id 0x65/g)).toHaveLength(2);
    expect(up.nsimCount).toBe(4);
    for (const spi of [...spiList(up.t0), ...spiList(up.t1)]) expect(run.text('nsim-up')).toContain(`spi=${spi}`);
    const pol = run.file('results/host-policy.txt');
    expect(pol).toMatch(/src 10\.10\.0\.0\/24 dst 10\.20\.0\.0\/24\s+dir out/);
    expect(pol).toMatch(/src 10\.20\.0\.0\/24 dst 10\.10\.0\.0\/24\s+dir in/);
    expect(pol).toMatch(/src 10\.20\.0\.0\/24 dst 10\.10\.0\.0\/24\s+dir fwd/);
    expect(pol.match(/if_id 0x64/g)).toHaveLength(3);
    expect(run.json<Captured>('host_links').out).toMatch(/vf-t0[^]*xfrm if_id 0x64/);
    expect(run.json<Captured>('host_routes').out).toMatch(/10\.20\.0\.0\/24 dev vf-t0 proto 159/);
    // The tenant's kernel holds the SAs but enforces nothing (policies = no):
    // only charon's per-socket IKE bypass policies, no in/out/fwd policy.
    expect(run.json<Captured>('t0_policies').out).not.toMatch(/dir (in|out|fwd)/);
    expect(run.file('results/t0-state.xfrm').match(/proto esp spi/g)).toHaveLength(2);
  });

  it('the mailbox: t0 comes in over the unix socket (identity: its netns), t1 over TCP with mutual TLS (identity: its certificate)', () => {
    const connected = (vf: string): string[] => pf.filter((e) => e.event === 'vf.connected' && e.vf === vf).map((e) => String(e.peer));
    expect(connected('t0').length).toBeGreaterThan(0);
    for (const peer of connected('t0')) expect(peer).toMatch(/^unix pid \d+ uid 0 netns /);
    expect(connected('t1').length).toBeGreaterThan(0);
    for (const peer of connected('t1')) expect(peer).toMatch(/^tls cn t1 sha256 [0-9A-F]{16}…$/);
  });

  it('the TLS mailbox refuses a certificate from another CA (CN t1 all the same) and a CA-signed one for no VF; t1 keeps its SAs', () => {
    const rogue = events(run.file('results/tls-rogue.txt'));
    expect(rogue.length).toBeGreaterThan(0);
    expect(rogue.filter((o) => o.ok === true)).toEqual([]);
    expect(events(run.file('results/tls-stranger.txt'))[0]).toMatchObject({ step: 'hello', ok: false });
    const refused = pf.filter((e) => e.event === 'vf.refused' && e.request === 'connection').map((e) => `${String(e.reason)} ${String(e.message)}`);
    expect(refused.some((r) => /^identity client certificate not signed by pf\.tls\.ca \([A-Z_]+\)$/.test(r))).toBe(true);
    expect(refused.some((r) => /^identity .*(tls cn stranger|no configured VF)/.test(r))).toBe(true);
  });

  it('a ping from the remote to each tenant crosses IPsec terminated on the host', () => {
    expect(run.json<Captured>('ping_t0').out).toMatch(/3 packets transmitted, 3 received/);
    expect(run.json<Captured>('ping_t1').out).toMatch(/3 packets transmitted, 3 received/);
    expect(run.json<Captured>('host_counters').out).toMatch(/[1-9]\d*\(packets\)/);
  });

  it('steering on the PF: one fdb entry per VF (MAC + VLAN -> its representor), one ESP exception per tenant inbound SA', () => {
    const up = run.json<{ t0In: string; t1In: string; maps: SteerMaps }>('steer_up');
    expect(spiList(up.t0In)).toHaveLength(1);
    expect(spiList(up.t1In)).toHaveLength(1);
    // bpftool on the pins: the route back to the remote is br0, nsim0's master, so VLAN 0
    expect(up.maps.esp).toEqual(
      [
        { vlan: 0, daddr: '192.168.10.2', spi: up.t0In },
        { vlan: 0, daddr: '192.168.11.2', spi: up.t1In },
      ].sort((a, b) => a.spi.localeCompare(b.spi)),
    );
    expect(up.maps.fdb).toEqual(['02:00:00:00:0a:00/100', '02:00:00:00:0a:01/101', '02:00:00:00:0a:02/102']);
    expect(up.maps.ports).toBe(3);
    // the daemon's view agrees, with the ports by name
    const list = JSON.parse(run.file('results/steer-list-up.json')) as SteerListView[];
    expect(list).toHaveLength(1);
    expect(list[0]?.fdb.map((f) => [f.mac, f.vlan, f.port, f.origin]).sort()).toEqual([
      ['02:00:00:00:0a:00', 100, 'rep0', 'vf'],
      ['02:00:00:00:0a:01', 101, 'rep1', 'vf'],
      ['02:00:00:00:0a:02', 102, 'rep2', 'vf'],
    ]);
    expect(list[0]?.ports.map((p) => [p.device, p.mac, p.vlan, p.xdp])).toEqual([
      ['rep0', '02:00:00:00:0a:00', 100, 'ours'],
      ['rep1', '02:00:00:00:0a:01', 101, 'ours'],
      ['rep2', '02:00:00:00:0a:02', 102, 'ours'],
    ]);
    const attached = pf.filter((e) => e.event === 'steer.attached');
    expect(attached[0]).toMatchObject({ uplink: 'nsim0', mode: 'native', action: 'attached' });
    // the PF daemon's restart (trigger 4) kept the running programs
    expect(attached[1]).toMatchObject({ uplink: 'nsim0', action: 'kept' });
  });

  it('malicious tenant: a forged sa.add for another VF, a flood beyond quota and garbage are refused and logged; others unaffected', () => {
    const lines = events(run.file('results/attack.txt'));
    const adds = lines.filter((l) => l.step === 'sa.add');
    expect(lines[0]).toMatchObject({ step: 'hello', ok: true });
    expect(adds[0]).toMatchObject({ ok: false, reason: 'address-not-allowed' });
    expect(adds[1]).toMatchObject({ ok: true });
    expect(adds[2]).toMatchObject({ ok: true });
    expect(adds[3]).toMatchObject({ ok: false, reason: 'quota' });
    // 500 heartbeats at once: answered, or cut off beyond 64 queued (under TCG the
    // PF keeps up); either way the daemon and the other VFs carry on (below).
    const flood = lines.find((l) => l.step === 'flood') as { ok: number; busy: number; closed: number };
    expect(flood.ok + flood.busy + flood.closed).toBe(500);
    expect(lines.filter((l) => l.step === 'raw')).toHaveLength(2);
    const refused = pf.filter((e) => e.event === 'vf.refused' && e.vf === 't2');
    expect(refused.map((e) => e.reason)).toEqual(expect.arrayContaining(['address-not-allowed', 'quota']));
    // the garbage: an HTTP request (bad magic) and a header with a bad length
    expect(refused.filter((e) => e.request === 'frame' || e.request === 'connection').length + refused.filter((e) => e.reason === 'malformed').length).toBeGreaterThan(0);
    // Nothing of t2's reached another VF; t0 and t1 kept their SAs; the daemon lives.
    const up = run.json<{ t0: string; t1: string }>('up');
    const during = run.json<{ t2sas: number; t0: string; t1: string; nsimCount: number }>('attack_state');
    expect(during).toMatchObject({ t2sas: 4, t0: up.t0, t1: up.t1 });
    expect(during.nsimCount).toBe(6); // t2: 2 of its 4 SAs on hardware (hw_slots 2)
    // its two inbound SAs have exceptions like anyone's (the SAs are in the kernel)
    const esp = run.json<{ esp: SteerMaps['esp'] }>('attack_state').esp;
    expect(esp.filter((e) => e.daddr === '192.168.12.2').map((e) => e.spi)).toEqual(['0xc0000102', '0xc0000103']);
    expect(run.json<{ t0: string; t1: string; pfAlive: boolean }>('attack_after')).toEqual({ t0: up.t0, t1: up.t1, pfAlive: true });
    const t2 = run.json<{ role: 'pf' } & Extract<VfListResult, { role: 'pf' }>>('list-attack').vfs.find((v) => v.name === 't2');
    expect(t2).toMatchObject({ state: 'connected', children: 2, sas: 4, software: 2, hwSlots: { used: 2, quota: 2 }, maxSas: 4 });
    expect(t2?.refusals).toBeGreaterThanOrEqual(2);
    expect(run.json<Captured>('ping_t1_after_attack').out).toMatch(/3 received/);
    expect(run.json<Captured>('ping_t0_after_attack').out).toMatch(/3 received/);
  });

  it('the attacker gone silent: its SAs are removed after the stale timeout', () => {
    expectClean(run.json<Leftovers>('t2_gone'), 4);
    expect(cleanups('t2', 'heartbeat-timeout')[0]).toMatchObject({ count: 4, children: 2 });
  });

  it('trigger 1, new epoch (tenant charon crashed and restarted): the old SAs are gone before the hello is answered', () => {
    expectClean({ ...run.json<Leftovers>('epoch'), interface: false }, 2);
    expect(cleanups('t0', 'new-epoch')[0]).toMatchObject({ count: 2, children: 1, policies: 3, interface: true });
    expect(pf.some((e) => e.event === 'vf.connected' && e.vf === 't0' && e.removed === 2)).toBe(true);
    const up = run.json<{ t1: string }>('up');
    expect(run.json<{ t1: string }>('epoch_t1').t1).toBe(up.t1);
    expect(run.json<Captured>('ping_t0_epoch').out).toMatch(/3 received/);
  });

  it('trigger 2, heartbeats stop: everything of the VF is removed, interface included; it comes back by rekey', () => {
    expectClean(run.json<Leftovers>('heartbeat'), 2);
    expect(cleanups('t0', 'heartbeat-timeout')[0]).toMatchObject({ count: 2, interface: true });
    expect(run.json<{ afterS: number }>('heartbeat_t1').afterS).toBeGreaterThanOrEqual(10);
    expect(run.json<{ agentRekeys: number }>('retired').agentRekeys).toBeGreaterThanOrEqual(1);
    expect(run.json<Captured>('ping_t0_rekeyed').out).toMatch(/3 received/);
  });

  it('trigger 3, the PF changes the VF: a new MAC (t0), VLAN (t1) or a disabled link (t0) removes everything of that VF', () => {
    expectClean(run.json<Leftovers>('mac'), 2);
    expectClean(run.json<Leftovers>('vlan'), 2);
    expectClean(run.json<Leftovers>('linkstate'), 2);
    expect(cleanups('t0', 'vf-mac-changed')[0]).toMatchObject({ count: 2, interface: true });
    expect(cleanups('t1', 'vf-vlan-changed')[0]).toMatchObject({ count: 2, interface: true });
    expect(cleanups('t0', 'vf-link-disabled')[0]).toMatchObject({ count: 2, interface: true });
    // Steering follows the PF's VF settings: the new MAC / VLAN replaces the old entry.
    const mac = run.json<Leftovers>('mac').steer.fdb;
    expect(mac).toContain('02:00:00:00:0b:00/100');
    expect(mac).not.toContain('02:00:00:00:0a:00/100');
    const vlan = run.json<Leftovers>('vlan').steer.fdb;
    expect(vlan).toContain('02:00:00:00:0a:01/201');
    expect(vlan).not.toContain('02:00:00:00:0a:01/101');
    // A disabled link changes neither MAC nor VLAN: the entry stays (only the SAs go).
    expect(run.json<Leftovers>('linkstate').steer.fdb).toContain('02:00:00:00:0b:00/100');
  });

  it('trigger 4, PF daemon restart: a returning VF is kept without churn, one that stays away is removed after the grace', () => {
    const r = run.json<{ before: string; after: string; t0CleanupsBefore: number; t0Cleanups: number; connectedKept: number }>('restart_t0');
    expect(r.after).toBe(r.before);
    expect(r.connectedKept).toBeGreaterThanOrEqual(1);
    expect(r.t0Cleanups).toBe(r.t0CleanupsBefore);
    expect(run.json<Captured>('ping_t0_restart').out).toMatch(/3 received/);
    expectClean(run.json<Leftovers>('grace'), 2);
    expect(cleanups('t1', 'restart-grace')[0]).toMatchObject({ count: 2 });
    const a = run.json<{ t0: string; t0Cleanups: number; graceS: number; nsimAfter: string }>('restart_after');
    expect(a.t0).toBe(r.before);
    expect(a.t0Cleanups).toBe(r.t0CleanupsBefore);
    expect(a.graceS).toBeGreaterThanOrEqual(20);
    for (const spi of spiList(r.before)) expect(a.nsimAfter.toLowerCase()).toContain(`spi=${spi}`);
    // No churn: from the restart to the operator's reset, no SA event (swap, removal,
    // fallback...) for t0's SAs.
    const restarted = pf.map((e, i) => (e.event === 'daemon.started' ? i : -1)).filter((i) => i >= 0)[1] as number;
    expect(restarted).toBeGreaterThan(0);
    const resetAt = run.json<{ ms: number }>('reset_at').ms;
    const touched = pf
      .slice(restarted)
      .filter((e) => Date.parse(String(e.time)) < resetAt)
      .filter((e) => String(e.event).startsWith('sa.') && spiList(r.before).includes(String(e.spi)));
    expect(touched).toEqual([]);
    expect(run.json<Captured>('ping_t0_after_grace').out).toMatch(/3 received/);
  });

  it('vf list shows per-VF counts, hardware slots used/quota, epoch and last heartbeat; vf reset removes a VF now', () => {
    const list = run.json<Extract<VfListResult, { role: 'pf' }>>('list-final');
    const t0 = list.vfs.find((v) => v.name === 't0');
    expect(t0).toMatchObject({ vf: 0, state: 'connected', children: 1, sas: 2, hwSlots: { used: 2, quota: 2 }, mac: '02:00:00:00:0b:00', vlan: 100 });
    expect(t0?.epoch).toMatch(/^[0-9a-f]{16}$/);
    expect(t0?.lastSeenMs).toBeLessThan(10_000);
    expect(list.vfs.find((v) => v.name === 't1')).toMatchObject({ sas: 0, vlan: 201, lastCleanup: { reason: 'restart-grace' } });
    expect(JSON.parse(run.json<Captured>('reset').out)).toMatchObject({ vf: 't0', removed: 2 });
    expectClean(run.json<Leftovers>('reset_left'), 2);
    expect(cleanups('t0', 'operator')[0]).toMatchObject({ count: 2 });
  });

  it('trigger 3, the VF count drops (sriov_numvfs 3 -> 0): everything of the VF is removed, its agent refused', () => {
    expectClean(run.json<Leftovers>('numvfs'), 2);
    // the VFs and their representors are gone: no fdb entry, no port left in the maps
    expect(run.json<Leftovers>('numvfs').steer).toMatchObject({ fdb: [], ports: 0 });
    expect(cleanups('t0', 'vf-removed')[0]).toMatchObject({ count: 2, interface: true });
    expect(run.json<{ refusedHello: number; t0sas: number }>('numvfs_after')).toMatchObject({ t0sas: 0 });
    expect(run.json<{ refusedHello: number }>('numvfs_after').refusedHello).toBeGreaterThanOrEqual(1);
  });

  it('no key material in any log or CLI output (keys cross the mailbox, never the logs)', () => {
    expectNoKeyLeaks(run, 'keys', 4);
  });
});
