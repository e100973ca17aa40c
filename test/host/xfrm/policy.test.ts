// Policies through XfrmClient on this machine's kernel, in a throwaway netns
// reached from outside (the socket is opened into it; the process stays put).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkError } from '../../../src/netlink/errors.js';
import { XfrmClient } from '../../../src/xfrm/client.js';
import { NO_LIMITS, selector } from '../../../src/xfrm/model.js';
import { makePolicy, policyIdOf, template, type XfrmPolicy } from '../../../src/xfrm/policy.js';
import { TestNetns } from '../support/netns.js';

const outPolicy = (): XfrmPolicy =>
  makePolicy({
    selector: selector('10.1.0.0/24', '10.2.0.0/24'),
    dir: 'out',
    priority: 100,
    templates: [template({ saddr: '10.0.0.1', daddr: '10.0.0.2', proto: 'esp', mode: 'tunnel', reqid: 7 })],
    ifId: 5,
  });
const inPolicy = (): XfrmPolicy =>
  makePolicy({
    selector: selector('10.3.0.0/16', '10.4.0.0/16', { proto: 17, dport: 4500 }),
    dir: 'in',
    action: 'block',
    priority: 5,
    flags: ['localok'],
    mark: { value: 7, mask: 0xff },
    lifetime: { ...NO_LIMITS, hardAddExpiresSeconds: 3600n },
  });
const fwdPolicy = (): XfrmPolicy =>
  makePolicy({
    selector: selector('2001:db8:1::/64', '2001:db8:2::/64'),
    dir: 'fwd',
    templates: [
      template({ saddr: '2001:db8::1', daddr: '2001:db8::2', proto: 'esp', mode: 'tunnel', reqid: 9, optional: true }),
      template({ saddr: '2001:db8::1', daddr: '2001:db8::2', proto: 'comp', mode: 'tunnel', reqid: 9 }),
    ],
  });

describe('XFRM policies on the host kernel', () => {
  let ns: TestNetns;
  let client: XfrmClient;
  beforeAll(async () => {
    ns = new TestNetns('xfrmpol');
    client = await XfrmClient.open({ netns: { name: ns.name } });
  });
  afterAll(() => {
    client?.close();
    ns?.remove();
  });

  it('adds, reads back and dumps policies with templates, mark and if_id', async () => {
    await client.addPolicy(outPolicy());
    await client.addPolicy(inPolicy());
    await client.addPolicy(fwdPolicy());

    const out = await client.getPolicy(policyIdOf(outPolicy()));
    expect(out).toMatchObject({ dir: 'out', priority: 100, ifId: 5, templates: [{ daddr: '10.0.0.2', saddr: '10.0.0.1', proto: 'esp', mode: 'tunnel', reqid: 7 }] });
    expect(out.index).toBeGreaterThan(0);
    expect(out.index % 8).toBe(1); // the kernel encodes the direction in the index
    expect(out.current?.addTime).toBeGreaterThan(0n);

    const inp = await client.getPolicy(policyIdOf(inPolicy()));
    expect(inp).toMatchObject({ action: 'block', flags: ['localok'], mark: { value: 7, mask: 0xff }, lifetime: { hardAddExpiresSeconds: 3600n } });

    const all = await client.dumpPolicies();
    expect(all.map((p) => p.dir).sort()).toEqual(['fwd', 'in', 'out']);
    const fwd = all.find((p) => p.dir === 'fwd');
    expect(fwd?.templates.map((t) => [t.proto, t.optional])).toEqual([
      ['esp', true],
      ['comp', false],
    ]);
    expect(fwd?.selector).toMatchObject({ family: 'ipv6', saddr: '2001:db8:1::', prefixlenS: 64 });
  });

  it('is what iproute2 sees in that namespace', () => {
    const text = ns.ip('xfrm', 'policy', 'list');
    expect(text).toMatch(/src 10\.1\.0\.0\/24 dst 10\.2\.0\.0\/24[\s\S]*dir out priority 100[\s\S]*proto esp reqid 7 mode tunnel[\s\S]*if_id 0x5/);
    expect(text).toMatch(/dir in action block priority 5[\s\S]*mark 0x7\/0xff/);
  });

  it('counts them per direction (SPDINFO)', async () => {
    expect(await client.spdInfo()).toMatchObject({ in: 1, out: 1, fwd: 1, inSocket: 0 });
  });

  it('updates a policy in place', async () => {
    await client.updatePolicy({ ...outPolicy(), priority: 42 });
    const p = await client.getPolicy(policyIdOf(outPolicy()));
    expect(p.priority).toBe(42);
    expect((await client.spdInfo()).out).toBe(1);
  });

  it('refuses a duplicate with EEXIST and bad values with the kernel\'s own words', async () => {
    await expect(client.addPolicy(inPolicy())).rejects.toMatchObject({ name: 'NetlinkError', code: 'EEXIST', request: 'XFRM_MSG_NEWPOLICY' });
    const bad = client.addPolicy(makePolicy({ selector: selector('10.9.0.0/16', '10.8.0.0/16'), dir: 7 }));
    await expect(bad).rejects.toBeInstanceOf(NetlinkError);
    await expect(client.addPolicy(makePolicy({ selector: selector('10.9.0.0/16', '10.8.0.0/16'), dir: 7 }))).rejects.toMatchObject({
      errno: 22,
      code: 'EINVAL',
      extack: 'Invalid policy direction',
      message: 'XFRM_MSG_NEWPOLICY failed with EINVAL (errno 22): Invalid policy direction',
    });
    await expect(
      client.addPolicy(makePolicy({ selector: selector('10.9.0.0/16', '10.8.0.0/16'), dir: 'out', templates: [template({ proto: 'esp', mode: 9 })] })),
    ).rejects.toMatchObject({ code: 'EINVAL', extack: expect.stringMatching(/Mode in template/) as unknown });
  });

  it('deletes by selector + dir + mark/if_id; a second delete is ENOENT', async () => {
    await client.deletePolicy(policyIdOf(inPolicy()));
    await expect(client.getPolicy(policyIdOf(inPolicy()))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect(client.deletePolicy(policyIdOf(inPolicy()))).rejects.toMatchObject({ code: 'ENOENT', request: 'XFRM_MSG_DELPOLICY' });
    // without its if_id the out policy is not found: if_id is part of the identity
    await expect(client.deletePolicy({ selector: outPolicy().selector, dir: 'out' })).rejects.toMatchObject({ code: 'ENOENT' });
    await client.deletePolicy(policyIdOf(outPolicy()));
    expect((await client.dumpPolicies()).map((p) => p.dir)).toEqual(['fwd']);
  });

  it('deletes by index', async () => {
    const [fwd] = await client.dumpPolicies();
    await client.deletePolicy({ selector: selector('0.0.0.0/0', '0.0.0.0/0'), dir: 'fwd', index: fwd?.index ?? -1 });
    expect(await client.dumpPolicies()).toEqual([]);
  });

  it('flushes (test namespaces only) and leaves other namespaces alone', async () => {
    await client.addPolicy(outPolicy());
    const own = await XfrmClient.open();
    try {
      const mine = await own.dumpPolicies();
      expect(mine.some((p) => p.ifId === 5 && p.priority === 100 && p.selector.saddr === '10.1.0.0')).toBe(false);
    } finally {
      own.close();
    }
    await client.flushPolicies();
    expect(await client.dumpPolicies()).toEqual([]);
    expect(await client.spdInfo()).toMatchObject({ in: 0, out: 0, fwd: 0 });
  });
});
