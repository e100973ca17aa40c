// XfrmClient and XfrmMonitor on the lab kernel (Debian 6.1 + netdevsim): SAs
// in software and offloaded, read back with XFRMA_OFFLOAD_DEV; silent
// fallback on a veth; ENOSPC and EINVAL (ESN + offload) with the kernel's
// words; promotion/demotion (delete + add) keeping replay state and counters;
// GETAE/NEWAE on an ESN SA across a 32-bit wrap; DELSA's final state.
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type LabRun } from '../harness/scenario.js';

type Json = Record<string, unknown>;
interface Outcome {
  ok: boolean;
  name?: string;
  code?: string;
  errno?: number;
  extack?: string;
  attribute?: string;
  message?: string;
}
interface StateView extends Json {
  spi: number;
  offload?: { ifindex: number; dir: string; packet: boolean };
  replay?: { oseq: number; seq: number; bitmap: number };
  esn?: { oseq: number; oseqHi: number; seq: number; seqHi: number; replayWindow: number; bmpLen: number; bitmap: number[] };
  current?: { bytes: string; packets: string; addTime: string; useTime: string };
}

let run: LabRun;
beforeAll(async () => {
  run = (await runInLab('xfrm', scenarioScript(import.meta.url, 'xfrm.sh'), { timeoutMs: 600_000 })).expectSuccess();
});

describe('feature detection on 6.1', () => {
  it('the probe finds no SA_DIR / NAT keepalive / per-CPU SAs; packet offload is off by version', () => {
    const f = run.json<{ release: string; capabilities: Json; evidence: Json }>('features');
    expect(f.release).toMatch(/^6\.1\./);
    expect(f.capabilities).toEqual({ mtimerThresh: true, offloadPacket: false, saDir: false, natKeepalive: false, saPcpu: false });
    expect(f.evidence).toMatchObject({ saDir: 'probe', natKeepalive: 'probe', saPcpu: 'probe' });
  });
});

describe('SAs in software and offloaded to netdevsim, read back', () => {
  const rb = () => run.json<{ nsim: number; veth: number; states: Record<string, StateView> }>('readback');

  it('software SAs carry no XFRMA_OFFLOAD_DEV', () => {
    expect(rb().states['1000']?.offload).toBeUndefined();
    expect(rb().states['1004']).toMatchObject({ flags: ['esn'], esn: { replayWindow: 128, bmpLen: 4, bitmap: [0, 0, 0, 0] } });
    expect(rb().states['1004']?.offload).toBeUndefined();
  });

  it('offloaded SAs read back with the netdevsim ifindex and their direction', () => {
    const { nsim, states } = rb();
    expect(states['1001']?.offload).toEqual({ ifindex: nsim, dir: 'out', packet: false });
    expect(states['1002']?.offload).toEqual({ ifindex: nsim, dir: 'in', packet: false });
    expect(states['1001']).toMatchObject({ aead: { name: 'rfc4106(gcm(aes))', keyBits: 160, icvBits: 128 } });
  });

  it('an SA "offloaded" to a veth is accepted and silently installed in software: only re-reading shows it', () => {
    expect(rb().states['1003']).toBeDefined();
    expect(rb().states['1003']?.offload).toBeUndefined();
  });

  it('auth-trunc + enc with encap, mark, if_id and output mark round-trip through the kernel', () => {
    expect(rb().states['1005']).toMatchObject({
      mode: 'tunnel',
      auth: { name: 'hmac(sha256)', truncBits: 128 },
      crypt: { name: 'cbc(aes)' },
      encap: { type: 'espinudp', sport: 4500, dport: 4500 },
      mark: { value: 0x10, mask: 0xff },
      ifId: 7,
      setMark: { value: 0x20, mask: 0xf0 },
      replayWindow: 32,
    });
  });
});

describe('refusals', () => {
  const r = () => run.json<Record<string, Outcome> & { fill: { accepted: number; failures: (Outcome & { i: number })[]; offloadedAfter: number } }>('refusals');

  it('ESN + offload on netdevsim: EINVAL with the kernel\'s message; the same SA in software is fine', () => {
    expect(r().esnOffload).toMatchObject({ ok: false, name: 'NetlinkError', code: 'EINVAL', extack: "Device doesn't support offload with ESN" });
    expect(r().esnSoftware).toEqual({ ok: true });
  });

  it('the 34th offloaded SA on one port fails ENOSPC in a batched add; 33 stay offloaded', () => {
    expect(r().fill.accepted).toBe(33);
    expect(r().fill.failures).toEqual([{ i: 33, name: 'NetlinkError', code: 'ENOSPC', extack: 'Device failed to offload this state' }]);
    expect(r().fill.offloadedAfter).toBe(33);
  });

  it('packet offload and SA_DIR are refused by us before the kernel could ignore or reject them', () => {
    expect(r().packetRefusedByUs).toMatchObject({ ok: false, name: 'XfrmUnsupportedError', attribute: 'XFRM_OFFLOAD_PACKET' });
    expect(r().saDirRefusedByUs).toMatchObject({ ok: false, name: 'XfrmUnsupportedError', attribute: 'XFRMA_SA_DIR' });
    // what 6.1 itself says to the PACKET flag
    expect(r().packetToKernel).toMatchObject({ ok: false, code: 'EINVAL', extack: 'Unrecognized flags in offload request' });
  });

  it('NEWAE refuses the 24-byte ESN form that NEWSA accepts (why setAe always sends the bitmap)', () => {
    expect(r().shortEsnNewae).toMatchObject({ ok: false, code: 'EINVAL' });
  });
});

describe('promotion and demotion keep the replay state and counters', () => {
  interface Swap {
    before: StateView;
    final: StateView;
    promoted: StateView;
    promotedLater: StateView;
    final2: StateView;
    demoted: StateView;
    ipPromoted: string;
    nsimTable: string;
    nsimTableDemoted: string;
    gapMs: { delete: number; add: number; total: number };
  }
  const s = () => run.json<Swap>('swap');

  it('the final state from DELSA equals the last read of the software SA (after 3 packets)', () => {
    expect(s().before.replay?.oseq).toBe(3);
    expect(s().final.replay).toEqual(s().before.replay);
    expect(s().final.current).toEqual(s().before.current);
  });

  it('the offloaded copy starts where the software SA stopped, and keeps counting', () => {
    expect(s().promoted.offload).toMatchObject({ dir: 'out', packet: false });
    expect(s().promoted.replay?.oseq).toBe(s().final.replay?.oseq);
    expect(s().promoted.current).toEqual(s().final.current); // bytes, packets, add time carried by LTIME_VAL
    expect(s().promotedLater.replay?.oseq).toBe(5);
    expect(s().ipPromoted).toMatch(/crypto offload parameters: dev \S+ dir out/);
    expect(s().nsimTable).toMatch(/^SA count=1 tx=2/); // the two packets sent while offloaded
  });

  it('demotion re-adds the same SA in software, oseq continuing', () => {
    expect(s().demoted.offload).toBeUndefined();
    expect(s().demoted.replay?.oseq).toBe(5);
    expect(s().demoted.current).toEqual(s().final2.current);
    expect(s().nsimTableDemoted).toMatch(/^SA count=0 /);
    expect(s().gapMs.total).toBeGreaterThan(0);
  });
});

describe('ESN: GETAE, NEWAE, a 32-bit wrap, and DELSA', () => {
  const e = () =>
    run.json<{
      ae1: Json & { esn: StateView['esn']; current: Json };
      setAe: Outcome;
      ae2: { esn: StateView['esn'] };
      ae3: { esn: StateView['esn'] };
      final: StateView;
      delsaEvents: StateView[];
      newaeEvents: (Json & { flags: string[]; esn?: StateView['esn'] })[];
    }>('esn');

  it('GETAE returns the full ESN state (4 bitmap words), counters and thresholds', () => {
    expect(e().ae1.esn).toEqual({ oseq: 4, seq: 0, oseqHi: 0, seqHi: 0, replayWindow: 128, bmpLen: 4, bitmap: [0, 0, 0, 0] });
    expect(e().ae1).toMatchObject({ flags: ['rthr', 'ethr'], current: { packets: '4' }, replayThresh: 2 });
  });

  it('NEWAE sets oseq/oseq_hi; the next packets wrap the low 32 bits into oseq_hi', () => {
    expect(e().setAe).toEqual({ ok: true });
    expect(e().ae2.esn).toMatchObject({ oseq: 0xfffffff0, oseqHi: 1 });
    expect(e().ae3.esn).toMatchObject({ oseq: 4, oseqHi: 2 }); // 0x1_fffffff0 + 20 = 0x2_00000004
  });

  it('deleteState returns that final ESN state, identical to the DELSA the monitor saw', () => {
    expect(e().final.esn).toEqual(e().ae3.esn);
    expect(e().delsaEvents).toHaveLength(1);
    expect(e().delsaEvents[0]?.esn).toEqual(e().final.esn);
  });

  it('the monitor reports NEWAE: cu after our NEWAE, cr as traffic moves the counters', () => {
    const cu = e().newaeEvents.find((a) => a.flags.includes('cu'));
    expect(cu?.esn).toMatchObject({ oseq: 0xfffffff0, oseqHi: 1 });
    expect(e().newaeEvents.filter((a) => a.flags.includes('cr')).length).toBeGreaterThan(3);
  });
});

describe('the monitor over the whole run', () => {
  it('saw every add as NEWSA, the flushes, and decoded everything', () => {
    const ev = run.json<{ kinds: string[]; newsaSpis: number[]; decodeErrors: number; overruns: number }>('events');
    expect(ev.newsaSpis.slice(0, 6)).toEqual([0x1000, 0x1001, 0x1002, 0x1003, 0x1004, 0x1005]);
    // the 34th (ENOSPC) SA was never added, so never announced
    expect(ev.newsaSpis.filter((s) => s >= 0x5000 && s < 0x6000)).toHaveLength(33);
    expect(ev.kinds.filter((k) => k === 'delsa')).toHaveLength(3);
    expect(ev.kinds).toContain('flushsa');
    expect(ev.decodeErrors).toBe(0);
    expect(ev.overruns).toBe(0);
  });
});
