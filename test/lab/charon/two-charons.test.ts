// Two charons in two network namespaces negotiate IKE and an AES-GCM
// CHILD_SA from the repo's swanctl/ examples; a ping crosses the SA.
import { beforeAll, describe, expect, it } from 'vitest';
import { runInLab, scenarioScript, type Captured, type LabRun } from '../harness/scenario.js';


/** Packets counted on the SA from src to dst in `ip -s xfrm state` output. */
function packetsOn(stateDump: string, src: string, dst: string): number {
  for (const block of stateDump.split(/^(?=src )/m)) {
    if (!block.startsWith(`src ${src} dst ${dst}`)) continue;
    const m = /lifetime current:\s*\n\s*\d+\(bytes\), (\d+)\(packets\)/.exec(block);
    if (m?.[1]) return Number(m[1]);
  }
  return -1;
}

describe('two charons in the lab', () => {
  let run: LabRun;
  beforeAll(async () => {
    run = (await runInLab('two-charons', scenarioScript(import.meta.url, 'two-charons.sh'), { timeoutMs: 300_000 })).expectSuccess();
  });

  it('establish an IKE_SA and an AES-GCM CHILD_SA', () => {
    expect(run.json<Captured>('initiate').rc).toBe(0);
    const sas = run.json<Captured>('sas').out;
    expect(sas).toMatch(/state=ESTABLISHED/);
    expect(sas).toMatch(/state=INSTALLED/);
    expect(sas).toMatch(/encr-alg=AES_GCM_16/);
    expect(run.json<Captured>('xfrm_a').out).toMatch(/aead rfc4106\(gcm\(aes\)\)/);
  });

  it('carries a ping through the SA (ESP counters move on both sides)', () => {
    const ping = run.json<Captured>('ping');
    expect(ping.rc).toBe(0);
    expect(ping.out).toMatch(/3 packets transmitted, 3 received/);
    expect(packetsOn(run.json<Captured>('xfrm_a').out, '10.0.0.1', '10.0.0.2')).toBeGreaterThanOrEqual(3);
    expect(packetsOn(run.json<Captured>('xfrm_b').out, '10.0.0.1', '10.0.0.2')).toBeGreaterThanOrEqual(3);
  });
});
