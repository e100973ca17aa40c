// Feature detection on this machine's kernel (6.18): the probe must see the
// 6.10+ attributes, tell them from types the kernel does not know, and leave
// nothing behind.
import { release } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkRequester } from '../../../src/netlink/requester.js';
import { NETLINK_XFRM } from '../../../src/netlink/message.js';
import { XfrmClient } from '../../../src/xfrm/client.js';
import { PROBE_ATTRIBUTE_OFFSET, parseKernelRelease, probeKernelFeatures, probeRequestPayload } from '../../../src/xfrm/features.js';
import { TestNetns } from '../support/netns.js';

describe('kernel feature detection on the host', () => {
  let ns: TestNetns;
  let requester: NetlinkRequester;
  beforeAll(() => {
    ns = new TestNetns('xfrmfeat');
    requester = NetlinkRequester.open(NETLINK_XFRM, { netns: { name: ns.name } });
  });
  afterAll(() => {
    requester?.close();
    ns?.remove();
  });

  it('probes SA_DIR, NAT_KEEPALIVE_INTERVAL and SA_PCPU as present, by probe not by version', async () => {
    const f = await probeKernelFeatures(requester);
    expect(f.release).toBe(release());
    expect(f.version).toEqual(parseKernelRelease(release()));
    expect(f.capabilities).toMatchObject({ saDir: true, natKeepalive: true, saPcpu: true });
    expect(f.evidence).toMatchObject({ saDir: 'probe', natKeepalive: 'probe', saPcpu: 'probe', mtimerThresh: 'version' });
  });

  it('a probe of a known type is refused at our attribute; an unknown type is skipped and the lookup fails', async () => {
    await expect(requester.request({ type: 18, payload: probeRequestPayload(33, Buffer.from([1])) })).rejects.toMatchObject({
      code: 'EINVAL',
      offset: PROBE_ATTRIBUTE_OFFSET,
      extack: 'NLA_F_NESTED not expected',
    });
    await expect(requester.request({ type: 18, payload: probeRequestPayload(200, Buffer.alloc(4)) })).rejects.toMatchObject({ code: 'ESRCH' });
  });

  it('with a release string of an older kernel, the probe still decides what it can', async () => {
    // the running kernel knows SA_DIR whatever the string says; MTIMER_THRESH stays by version
    const f = await probeKernelFeatures(requester, '5.15.0-91-generic');
    expect(f.capabilities).toMatchObject({ saDir: true, mtimerThresh: false, offloadPacket: false });
  });

  it('leaves no state or policy behind; XfrmClient.open probes once', async () => {
    const client = await XfrmClient.open({ netns: { name: ns.name } });
    try {
      expect(client.features.capabilities.saDir).toBe(true);
      expect((await client.sadInfo()).count).toBe(0);
      expect(await client.spdInfo()).toMatchObject({ in: 0, out: 0, fwd: 0 });
    } finally {
      client.close();
    }
  });
});
