// SA operations on this machine's kernel. It has no ESP, so real SAs cannot
// be installed here (that is the lab's job); larval SAs made by ALLOCSPI are
// real kernel states, though: get, dump, GETAE, SADINFO and DELSA with its
// final-state notification all work on them.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretBytes } from '../../../src/netlink/codec/secret.js';
import { NetlinkError } from '../../../src/netlink/errors.js';
import { XfrmClient } from '../../../src/xfrm/client.js';
import { XfrmUnsupportedError } from '../../../src/xfrm/errors.js';
import { featuresFromVersion } from '../../../src/xfrm/features.js';
import { makeState, type XfrmState } from '../../../src/xfrm/state.js';
import { TestNetns } from '../support/netns.js';

const KEY_HEX = '3132333435363738393031323334353664636261';

const spiRange = (spi: number) => ({ min: spi, max: spi });
const larval = (client: XfrmClient, spi: number, daddr = '10.0.0.2') =>
  client.allocSpi({ saddr: '10.0.0.1', daddr, proto: 'esp', mode: 'tunnel', reqid: 7, ...spiRange(spi) });

const gcmState = (): XfrmState =>
  makeState({
    saddr: '10.0.0.1',
    daddr: '10.0.0.2',
    spi: 0x77,
    proto: 'esp',
    mode: 'transport',
    reqid: 1,
    aead: { name: 'rfc4106(gcm(aes))', key: SecretBytes.copyOf(Buffer.from(KEY_HEX, 'hex')), icvBits: 128 },
  });

describe('XFRM states on the host kernel (larval SAs from ALLOCSPI)', () => {
  let ns: TestNetns;
  let client: XfrmClient;
  beforeAll(async () => {
    ns = new TestNetns('xfrmsa');
    client = await XfrmClient.open({ netns: { name: ns.name } });
  });
  afterAll(() => {
    client?.close();
    ns?.remove();
  });

  it('ALLOCSPI reserves the asked SPI and returns the larval state', async () => {
    const s = await larval(client, 0x1000);
    expect(s).toMatchObject({ spi: 0x1000, saddr: '10.0.0.1', daddr: '10.0.0.2', proto: 'esp', mode: 'tunnel', reqid: 7 });
    expect(s.current?.addTime).toBeGreaterThan(0n);
    await expect(larval(client, 0x1000, '10.0.0.2')).rejects.toMatchObject({ name: 'NetlinkError' });
    // Kernel fact: the failed ALLOCSPI still leaves its larval SA behind, with spi 0,
    // until xfrm_acq_expires. Remove it so the counts below are ours.
    const leftovers = (await client.dumpStates()).filter((x) => x.spi === 0);
    expect(leftovers.map((x) => [x.reqid, x.daddr])).toEqual([[7, '10.0.0.2']]);
    await client.flushStates();
    await larval(client, 0x1000);
  });

  it('GETSA, dumps with kernel-side filters and SADINFO see it', async () => {
    await larval(client, 0x1001, '10.0.9.9');
    const got = await client.getState({ daddr: '10.0.0.2', spi: 0x1000, proto: 'esp' });
    expect(got).toMatchObject({ spi: 0x1000, reqid: 7, replay: { oseq: 0, seq: 0, bitmap: 0 } });
    expect((await client.dumpStates()).map((s) => s.spi).sort()).toEqual([0x1000, 0x1001]);
    expect((await client.dumpStates({ daddr: '10.0.9.0/24' })).map((s) => s.spi)).toEqual([0x1001]);
    expect(await client.dumpStates({ proto: 'ah' })).toEqual([]);
    expect((await client.sadInfo()).count).toBe(2);
    await expect(client.getState({ daddr: '10.0.0.2', spi: 0x9999, proto: 'esp' })).rejects.toMatchObject({ code: 'ESRCH', request: 'XFRM_MSG_GETSA' });
  });

  it('GETAE reads replay state, counters and (asked for) thresholds', async () => {
    const ae = await client.getAe({ daddr: '10.0.0.2', spi: 0x1000, proto: 'esp' }, { thresholds: true });
    expect(ae).toMatchObject({ spi: 0x1000, daddr: '10.0.0.2', saddr: '10.0.0.1', reqid: 7, replay: { oseq: 0, seq: 0, bitmap: 0 } });
    expect(ae.current?.addTime).toBeGreaterThan(0n);
    expect(ae.replayThresh).toBeTypeOf('number');
    expect(ae.etimerThresh).toBeTypeOf('number');
  });

  it('NEWAE refuses a larval SA (only VALID SAs take new replay state)', async () => {
    const esn = { oseq: 5, seq: 0, oseqHi: 0, seqHi: 0, replayWindow: 32, bmpLen: 1, bitmap: [0] };
    await expect(client.setAe({ id: { daddr: '10.0.0.2', spi: 0x1000, proto: 'esp' }, esn })).rejects.toMatchObject({ request: 'XFRM_MSG_NEWAE', code: 'EINVAL' });
  });

  it('deleteState resolves with the final state from the DELSA notification', async () => {
    const before = await client.getState({ daddr: '10.0.0.2', spi: 0x1000, proto: 'esp' });
    const final = await client.deleteState({ daddr: '10.0.0.2', spi: 0x1000, proto: 'esp' });
    expect(final).toMatchObject({ spi: 0x1000, reqid: 7, daddr: '10.0.0.2', replay: { oseq: 0, seq: 0, bitmap: 0 } });
    expect(final.current?.addTime).toBe(before.current?.addTime);
    await expect(client.getState({ daddr: '10.0.0.2', spi: 0x1000, proto: 'esp' })).rejects.toMatchObject({ code: 'ESRCH' });
    await expect(client.deleteState({ daddr: '10.0.0.2', spi: 0x1000, proto: 'esp' })).rejects.toMatchObject({ code: 'ESRCH', request: 'XFRM_MSG_DELSA' });
  });

  it('matches each final state to its own delete while another client deletes other SAs at the same time', async () => {
    await client.flushStates();
    const a = Array.from({ length: 40 }, (_, i) => 0x2000 + i);
    const b = Array.from({ length: 40 }, (_, i) => 0x3000 + i);
    for (const spi of [...a, ...b]) await larval(client, spi, spi < 0x3000 ? '10.0.1.1' : '10.0.2.2');
    const other = await XfrmClient.open({ netns: { name: ns.name }, features: client.features });
    try {
      const [ra, rb] = await Promise.all([
        client.deleteStates(a.map((spi) => ({ daddr: '10.0.1.1', spi, proto: 'esp' as const }))),
        other.deleteStates(b.map((spi) => ({ daddr: '10.0.2.2', spi, proto: 'esp' as const }))),
      ]);
      expect(ra.map((r) => (r.ok ? r.state.spi : r.error.message))).toEqual(a);
      expect(rb.map((r) => (r.ok ? r.state.spi : r.error.message))).toEqual(b);
      expect(ra.every((r) => r.ok && r.state.daddr === '10.0.1.1')).toBe(true);
    } finally {
      other.close();
    }
    expect((await client.sadInfo()).count).toBe(0);
  });

  it('surfaces the kernel\'s refusal of a real SA with its message, never its key', async () => {
    // this kernel has no ESP / AES-GCM
    let err: unknown;
    try {
      await client.addState(gcmState());
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NetlinkError);
    expect(err).toMatchObject({ request: 'XFRM_MSG_NEWSA', code: 'ENOSYS', extack: 'Requested AEAD algorithm not found' });
    expect(String(err)).not.toContain(KEY_HEX);
    expect(JSON.stringify(err)).not.toContain(KEY_HEX);
  });

  it('names the attribute the kernel\'s ext-ack offset points at', async () => {
    await expect(client.addState({ ...gcmState(), saDir: 3 })).rejects.toMatchObject({
      code: 'ERANGE',
      extack: 'integer out of range',
      attribute: 'XFRMA_SA_DIR',
    });
  });

  it('batches NEWSA: one result per state, in order, encode failures included', async () => {
    const results = await client.addStates([gcmState(), { ...gcmState(), flags: ['esn'] }, { ...gcmState(), spi: 0x78 }]);
    expect(results.map((r) => (r.ok ? 'ok' : r.error.name))).toEqual(['NetlinkError', 'XfrmModelError', 'NetlinkError']);
  });

  it('refuses, before sending, what a 6.1 kernel would silently ignore', async () => {
    const old = await XfrmClient.open({ netns: { name: ns.name }, features: featuresFromVersion('6.1.0-56-amd64') });
    try {
      await expect(old.addState({ ...gcmState(), saDir: 'out' })).rejects.toBeInstanceOf(XfrmUnsupportedError);
      await expect(old.addState({ ...gcmState(), offload: { ifindex: 1, dir: 'out', packet: true } })).rejects.toMatchObject({
        attribute: 'XFRM_OFFLOAD_PACKET',
        kernel: '6.1.0-56-amd64',
      });
    } finally {
      old.close();
    }
  });

  it('FLUSHSA empties the namespace (tests only: the daemon never flushes)', async () => {
    await larval(client, 0x4000);
    await client.flushStates('esp');
    expect(await client.dumpStates()).toEqual([]);
  });
});
