// The requester against this machine's kernel: sockets opened into another
// netns, dumps, kernel errors with extended ack, batches, deadlines.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NetlinkRequester, type MessageDescriber } from '../../../src/netlink/requester.js';
import { NETLINK_ROUTE, NETLINK_XFRM, NLM_F_CREATE, NLM_F_EXCL } from '../../../src/netlink/message.js';
import { NetlinkError, NetlinkSocketError, NetlinkTimeoutError } from '../../../src/netlink/errors.js';
import { attr, attrTable, binary, string, u32 } from '../../../src/netlink/codec/attributes.js';
import { TestNetns } from '../support/netns.js';

const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const XFRM_MSG_GETSADINFO = 35;
const ifla = attrTable('ifla', 'IFLA_', { ifname: attr(3, string), mtu: attr(4, binary), linkinfo: attr(18, binary) });
const describeRoute: MessageDescriber = {
  name: (t) => ({ 16: 'RTM_NEWLINK', 18: 'RTM_GETLINK' })[t] ?? `RTM_${t}`,
  attributeAt: (req, off) => ifla.attributeAt(req, off, 16 + 16),
  attributeName: (t) => ifla.nameOf(t),
};
const sadinfoReq = { type: XFRM_MSG_GETSADINFO, payload: Buffer.from([0xff, 0xff, 0xff, 0xff]) };

const linkNames = async (r: NetlinkRequester): Promise<string[]> =>
  (await r.dump({ type: RTM_GETLINK, payload: Buffer.alloc(16) })).map((m) => ifla.decode(m.payload, undefined, 16).values.ifname ?? '?');

describe('NetlinkRequester on the host kernel', () => {
  let ns: TestNetns;
  let inside: NetlinkRequester;
  beforeAll(() => {
    ns = new TestNetns('nlreq');
    ns.ip('link', 'add', 'pa', 'type', 'veth', 'peer', 'name', 'pb');
    inside = NetlinkRequester.open(NETLINK_ROUTE, { netns: { name: ns.name } });
  });
  afterAll(() => {
    inside?.close();
    ns?.remove();
  });

  it('opens a socket inside another netns without moving the process', async () => {
    expect((await linkNames(inside)).sort()).toEqual(['lo', 'pa', 'pb']);
    const own = NetlinkRequester.open(NETLINK_ROUTE);
    try {
      expect(await linkNames(own)).not.toContain('pa');
    } finally {
      own.close();
    }
    // the same netns by path works too
    const byPath = NetlinkRequester.open(NETLINK_ROUTE, { netns: { path: `/run/netns/${ns.name}` } });
    try {
      expect(await linkNames(byPath)).toContain('pb');
    } finally {
      byPath.close();
    }
  });

  it('runs concurrent dumps on one socket one after another (the kernel allows one: EBUSY)', async () => {
    const dumps = await Promise.all([linkNames(inside), linkNames(inside), inside.dump({ type: 22 /* RTM_GETADDR */, payload: Buffer.alloc(8) })]);
    expect(dumps[0]).toEqual(dumps[1]);
    expect(dumps[2].length).toBeGreaterThan(0);
  });

  it('names a missing netns in the error', () => {
    expect(() => NetlinkRequester.open(NETLINK_ROUTE, { netns: { name: 'no-such-ns-zz' } })).toThrow(NetlinkSocketError);
    expect(() => NetlinkRequester.open(NETLINK_ROUTE, { netns: { name: 'no-such-ns-zz' } })).toThrow(/no-such-ns-zz.*ENOENT/);
  });

  it("surfaces the kernel's extended ack: errno, its name, message and the offending attribute", async () => {
    const bad = Buffer.concat([Buffer.alloc(16), ifla.encode({ ifname: 'y0' }), Buffer.from([6, 0, 4, 0, 0xdc, 0x05, 0, 0])]);
    const err = await inside.request({ type: RTM_NEWLINK, flags: NLM_F_CREATE | NLM_F_EXCL, payload: bad }, { describe: describeRoute }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NetlinkError);
    const e = err as NetlinkError;
    expect(e.code).toBe('ERANGE');
    expect(e.errno).toBe(34);
    expect(e.extack).toBe('Attribute failed policy validation');
    expect(e.attribute).toBe('IFLA_MTU');
    expect(e.message).toMatch(/RTM_NEWLINK failed with ERANGE \(errno 34\): Attribute failed policy validation \(attribute IFLA_MTU\)/);
  });

  it('settles every request of a batch on its own, good and bad mixed', async () => {
    const x = NetlinkRequester.open(NETLINK_XFRM, { netns: { name: ns.name } });
    try {
      const bad = { type: 17 /* DELSA */, payload: Buffer.alloc(24) };
      const msgs = Array.from({ length: 600 }, (_, i) => (i % 100 === 7 ? bad : sadinfoReq));
      const res = await x.requestBatch(msgs);
      expect(res).toHaveLength(600);
      res.forEach((r, i) => {
        if (i % 100 === 7) {
          expect(r.ok).toBe(false);
          if (!r.ok) expect((r.error as NetlinkError).errno).toBeGreaterThan(0);
        } else {
          expect(r.ok).toBe(true);
          if (r.ok) expect(r.replies[0]?.type).toBe(34); // XFRM_MSG_NEWSADINFO
        }
      });
    } finally {
      x.close();
    }
  });

  it('a batch with a message that cannot be framed fails at once, leaving nothing in flight', async () => {
    const x = NetlinkRequester.open(NETLINK_XFRM, { netns: { name: ns.name } });
    try {
      const unframable = { type: 0x10000, payload: Buffer.alloc(4) }; // nlmsg_type is 16 bits
      await expect(x.requestBatch([sadinfoReq, sadinfoReq, unframable], { timeoutMs: 60_000 })).rejects.toBeInstanceOf(RangeError);
      expect(x.inFlight).toBe(0);
      const [r] = await x.requestBatch([sadinfoReq]);
      expect(r?.ok).toBe(true);
    } finally {
      x.close();
    }
  });

  it('a request nobody answers times out, and the socket keeps working', async () => {
    // The netlink connector (protocol 11) never acks: a message for a callback
    // index nobody registered is dropped without a reply.
    const c = NetlinkRequester.open(11);
    try {
      const t0 = performance.now();
      await expect(c.request({ type: 0x10, payload: Buffer.alloc(20) }, { timeoutMs: 200 })).rejects.toBeInstanceOf(NetlinkTimeoutError);
      expect(performance.now() - t0).toBeGreaterThanOrEqual(190);
    } finally {
      c.close();
    }
  });

  it('a reply already queued when the deadline passes still wins (no false timeouts after a stall)', async () => {
    const x = NetlinkRequester.open(NETLINK_XFRM);
    try {
      const p = x.request(sadinfoReq, { timeoutMs: 1 });
      // Block the loop past the deadline: the kernel answered long ago, the
      // ack waits in the socket. Timers run before I/O; the requester must
      // still read it before declaring a timeout.
      const until = Date.now() + 80;
      while (Date.now() < until);
      const r = await p;
      expect(r[0]?.type).toBe(34);
      expect(x.strayMessages).toBe(0);
    } finally {
      x.close();
    }
  });

  it('stamps requests with its port id and reports each request\'s sequence number', async () => {
    const x = NetlinkRequester.open(NETLINK_XFRM);
    try {
      const [a, b] = await x.requestBatch([sadinfoReq, sadinfoReq]);
      expect(a?.ok && b?.ok).toBe(true);
      expect((b?.seq ?? 0) - (a?.seq ?? 0)).toBe(1);
      if (a?.ok) expect(a.replies[0]?.pid).toBe(x.portId);
    } finally {
      x.close();
    }
  });

  it('rejects pending requests when closed, and refuses new ones', async () => {
    const x = NetlinkRequester.open(NETLINK_XFRM);
    const p = x.request(sadinfoReq);
    x.close();
    await expect(p).rejects.toBeInstanceOf(NetlinkSocketError);
    await expect(x.request(sadinfoReq)).rejects.toThrow(/closed/);
  });

  it('a dump of an unsupported family reports the kernel error', async () => {
    const x = NetlinkRequester.open(NETLINK_XFRM);
    try {
      // GETPOLICY dump with a junk attribute is fine; DELSA as a dump is not a dump op.
      const err = await x.dump({ type: 17, payload: Buffer.alloc(24) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NetlinkError);
    } finally {
      x.close();
    }
  });
});

describe('NetlinkRequester keeps the process alive only while waiting', () => {
  it('an idle open socket does not hold the event loop', async () => {
    const { spawnSync } = await import('node:child_process');
    const code = `import { NetlinkRequester } from './src/netlink/requester.ts';
const r = NetlinkRequester.open(6);
await r.request({ type: 35, payload: Buffer.from([255,255,255,255]) });
console.log('answered');`;
    const res = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { encoding: 'utf8', timeout: 20_000 });
    expect(res.stdout).toContain('answered');
    expect(res.status).toBe(0); // exited on its own, socket still open
  });
});

void u32;
