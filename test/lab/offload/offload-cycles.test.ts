// Issue 5, scenario 6 (lab): traffic across 50 promote/demote cycles -> the
// peer records zero replay and integrity errors, outbound oseq never goes back.
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type LabRun } from '../harness/scenario.js';
import { events, type KeyAudit, type SaRow } from './support.js';

interface Cycles {
  count: number;
  steps: { step: string; spi: number; oseq: number; states: string[] }[];
}

/** replay and integrity-failure counters of SA src->dst in `ip -s xfrm state`. */
function saStats(dump: string, src: string, dst: string): { replay: number; failed: number } {
  const block = dump.split(/^(?=src )/m).find((b) => b.startsWith(`src ${src} dst ${dst}`)) ?? '';
  const m = /replay-window \d+ replay (\d+) failed (\d+)/.exec(block);
  if (!m) throw new Error(`no stats for ${src} -> ${dst}`);
  return { replay: Number(m[1]), failed: Number(m[2]) };
}

function xfrmStat(text: string, name: string): number {
  const m = new RegExp(`^${name}\\s+(\\d+)`, 'm').exec(text);
  if (!m) throw new Error(`no ${name} in /proc/net/xfrm_stat`);
  return Number(m[1]);
}

describe('offload: 50 promote/demote cycles under traffic', () => {
  let run: LabRun;
  let cycles: Cycles;
  beforeAll(async () => {
    run = (await runInLab('offload-cycles', scenarioScript(import.meta.url, 'offload-cycles.sh'), { timeoutMs: 1_500_000 })).expectSuccess();
    cycles = run.json<Cycles>('cycles');
  });

  it('did 50 cycles, each landing where asked', () => {
    expect(cycles.steps).toHaveLength(100);
    for (const s of cycles.steps) expect(s.states).toEqual(s.step.endsWith('software') ? ['software', 'software'] : ['offloaded', 'offloaded']);
    const swaps = events(run.file('logs/offload-A.log'), 'sa.swap');
    expect(swaps.length).toBeGreaterThanOrEqual(200);
    // every final replay state came from the kernel's DELSA notification
    expect(swaps.filter((e) => e.finalState !== 'delsa')).toEqual([]);
    // How often a packet in a swap gap left a larval state ahead of the SA (offload/larval.ts): a race, not asserted.
    console.log(`offload-cycles: ${swaps.length} swaps, ${events(run.file('logs/offload-A.log'), 'sa.larval_removed').length} larval stand-ins removed`);
  });

  it('the outbound sequence number never goes backwards and traffic advanced it', () => {
    const seqs = cycles.steps.map((s) => s.oseq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThanOrEqual(seqs[i - 1] as number);
    expect((seqs.at(-1) as number) - (seqs[0] as number)).toBeGreaterThan(100);
    expect(new Set(cycles.steps.map((s) => s.spi)).size).toBe(1);
  });

  it('the peer saw zero replays and zero integrity failures', () => {
    const b = run.file('results/stats-nsB.xfrm');
    expect(saStats(b, '10.0.0.1', '10.0.0.2')).toEqual({ replay: 0, failed: 0 });
    const stat = run.file('results/xfrm_stat-nsB.txt');
    expect(xfrmStat(stat, 'XfrmInStateSeqError')).toBe(0);
    expect(xfrmStat(stat, 'XfrmInStateProtoError')).toBe(0);
    expect(xfrmStat(stat, 'XfrmInStateInvalid')).toBe(0);
  });

  it('our side saw no replays or integrity failures either', () => {
    const a = run.file('results/stats-nsA.xfrm');
    expect(saStats(a, '10.0.0.2', '10.0.0.1')).toEqual({ replay: 0, failed: 0 });
    expect(xfrmStat(run.file('results/xfrm_stat-nsA.txt'), 'XfrmInStateSeqError')).toBe(0);
  });

  it('traffic flowed throughout (only packets in the swap gaps may be lost)', () => {
    const m = /(\d+) packets transmitted, (\d+) received/.exec(run.file('results/ping.txt'));
    expect(Number(m?.[2])).toBeGreaterThan(Number(m?.[1]) * 0.8);
  });

  it('ends unpinned and offloaded', () => {
    for (const r of run.json<SaRow[]>('final')) expect(r).toMatchObject({ state: 'offloaded', pin: null });
  });

  it('no key appears in any log or CLI output', () => {
    expect(run.json<KeyAudit>('keys').leaks).toBe('');
  });
});
