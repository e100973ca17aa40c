// Proves the lab itself against the kernel: what crypto offload to netdevsim
// looks like on Debian 6.1 (these are the facts the daemon is built on).
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type Captured, type LabRun } from '../harness/scenario.js';


describe('netdevsim crypto offload on the lab kernel', () => {
  let run: LabRun;
  beforeAll(async () => {
    run = (await runInLab('netdevsim-offload', scenarioScript(import.meta.url, 'netdevsim-offload.sh'), { timeoutMs: 300_000 })).expectSuccess();
  });

  it('netdevsim advertises esp-hw-offload, fixed on', () => {
    expect(run.json<Captured>('features').out).toMatch(/esp-hw-offload: on \[fixed\]/);
  });

  it('an rfc4106 SA pair offloaded to netdevsim shows in ip xfrm state and in the debugfs table', () => {
    const states = run.json<Captured>('pair_states').out;
    expect(states.match(/crypto offload parameters: dev \S+ dir out/g)).toHaveLength(1);
    expect(states.match(/crypto offload parameters: dev \S+ dir in/g)).toHaveLength(1);
    const table = run.text('pair_table');
    expect(table).toMatch(/^SA count=2 /);
    expect(table).toMatch(/sa\[\d+\] tx ipaddr=10\.0\.0\.2/);
    expect(table).toMatch(/sa\[\d+\] rx ipaddr=10\.0\.0\.1/);
    expect(table).toMatch(/spi=0x00001000/);
    expect(table).toMatch(/spi=0x00001001/);
  });

  it('the 34th SA on one port fails with ENOSPC and is not added', () => {
    const fill = run.json<{ accepted: number; failure: string; failrc: number; states: number; tableCount: number }>('fill');
    expect(fill.accepted).toBe(33);
    expect(fill.failrc).not.toBe(0);
    expect(fill.failure).toMatch(/Device failed to offload this state/);
    const traced = run.json<Captured>('fill_errno');
    expect(traced.rc).not.toBe(0);
    expect(traced.out).toMatch(/error=-ENOSPC/);
    expect(fill.states).toBe(33);
    expect(fill.tableCount).toBe(33);
  });

  it('an ESN SA with offload fails with EINVAL; the same SA in software is accepted', () => {
    const off = run.json<Captured>('esn_offload');
    expect(off.rc).not.toBe(0);
    expect(off.out).toMatch(/error=-EINVAL/);
    expect(off.out).toMatch(/Device doesn't support offload with ESN/);
    expect(run.json<Captured>('esn_software').rc).toBe(0);
    const states = run.json<Captured>('esn_states').out;
    expect(states).toMatch(/spi 0x00002001/);
    expect(states).not.toMatch(/spi 0x00002000/);
    expect(states).toMatch(/flag esn/);
  });
});
