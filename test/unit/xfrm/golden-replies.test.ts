// Kernel answers and notifications captured on this host's kernel (through
// iproute2 6.1's sockets, see each fixture's `captured`) decode into the
// models and events the rest of the project uses.
import { describe, expect, it } from 'vitest';
import { NLMSG_ERROR, NLMSG_DONE, parseAck } from '../../../src/netlink/message.js';
import { XFRM_INF } from '../../../src/xfrm/constants.js';
import { eventFromMessage, type XfrmEvent } from '../../../src/xfrm/events.js';
import { decodeAnyXfrm, decodeXfrm, encodeXfrm, xfrmDescriber, type AnyDecodedXfrm } from '../../../src/xfrm/messages.js';
import { policyFromWire } from '../../../src/xfrm/policy.js';
import { stateFromWire } from '../../../src/xfrm/state.js';
import { captureNames, loadCapture, messages } from './fixtures.js';

const replies = (name: string) => messages(loadCapture(name), 'received').filter((m) => m.type !== NLMSG_DONE);

function stateReply(name: string) {
  const [m] = replies(name);
  if (!m) throw new Error(`${name}: no reply`);
  const d = decodeXfrm('NEWSA', m);
  return stateFromWire(d.header, d.attrs);
}

describe('state replies', () => {
  it('GETSA answers with the larval SA allocspi made (spi 0x1000, reqid 7, tunnel, legacy replay)', () => {
    const s = stateReply('state-get');
    expect(s).toMatchObject({
      family: 'ipv4',
      saddr: '10.0.0.1',
      daddr: '10.0.0.2',
      spi: 0x1000,
      proto: 'esp',
      mode: 'tunnel',
      reqid: 7,
      replay: { oseq: 0, seq: 0, bitmap: 0 },
      selector: { saddr: '10.0.0.1', prefixlenS: 32, daddr: '10.0.0.2', prefixlenD: 32 },
    });
    // larval SAs live xfrm_acq_expires (default 30) seconds
    expect(s.lifetime).toMatchObject({ hardAddExpiresSeconds: 30n, hardByteLimit: XFRM_INF });
    expect(s.current?.addTime).toBeGreaterThan(0n);
    expect(s.aead).toBeUndefined();
    expect(s.offload).toBeUndefined();
  });

  it('an IPv6 SA with a mark reports XFRMA_MARK', () => {
    expect(stateReply('state-get-mark')).toMatchObject({ family: 'ipv6', daddr: '2001:db8::2', spi: 0x2000, mode: 'transport', mark: { value: 5, mask: 0xff } });
    expect(stateReply('state-allocspi')).toMatchObject({ family: 'ipv6', saddr: '2001:db8::1', spi: 0x2000, reqid: 9, mark: { value: 5, mask: 0xff } });
  });

  it('a state dump is one NEWSA (NLM_F_MULTI) per SA, then DONE', () => {
    const all = messages(loadCapture('state-list'), 'received');
    expect(all.map((m) => m.type)).toEqual([16, 16, NLMSG_DONE]);
    const states = all.filter((m) => m.type === 16).map((m) => decodeXfrm('NEWSA', m));
    expect(states.map((d) => stateFromWire(d.header, d.attrs).spi).sort()).toEqual([0x1000, 0x2000]);
  });

  it('NEWSADINFO: count and hash sizes', () => {
    const [m] = replies('state-count');
    const d = decodeXfrm('NEWSADINFO', m as NonNullable<typeof m>);
    expect(d.attrs.cnt).toBe(1);
    expect(d.attrs.hinfo?.sadhmcnt).toBeGreaterThan(0);
  });

  it('a refused NEWSA comes back as an error ack with the kernel\'s message', () => {
    const [m] = replies('state-add-aead-offload-out');
    expect(m?.type).toBe(NLMSG_ERROR);
    const ack = parseAck(m as NonNullable<typeof m>);
    expect(ack.errno).toBe(38); // ENOSYS: no AES-GCM in this host kernel
    expect(ack.extack).toBe('Requested AEAD algorithm not found');
    expect(xfrmDescriber.name(ack.request.type)).toBe('XFRM_MSG_NEWSA');
  });
});

describe('policy replies', () => {
  it('the policy dump decodes all three policies with templates, marks, if_id and type', () => {
    const ps = replies('policy-list').map((m) => {
      const d = decodeXfrm('NEWPOLICY', m);
      return policyFromWire(d.header, d.attrs);
    });
    const byDir = Object.fromEntries(ps.map((p) => [String(p.dir), p]));
    expect(byDir.out).toMatchObject({ priority: 100, ifId: 5, type: 'main', templates: [{ daddr: '10.0.0.2', proto: 'esp', mode: 'tunnel', reqid: 7 }] });
    expect(byDir.in).toMatchObject({
      action: 'block',
      flags: ['localok', 'icmp'],
      mark: { value: 7, mask: 0xff },
      selector: { proto: 17, dport: 4500, dportMask: 0xffff },
      lifetime: { hardAddExpiresSeconds: 3600n },
    });
    expect(byDir.fwd?.templates.map((t) => [t.proto, t.optional])).toEqual([
      ['esp', true],
      ['comp', false],
    ]);
    expect(byDir.fwd?.selector).toMatchObject({ family: 'ipv6', saddr: '2001:db8:1::', prefixlenS: 64 });
  });

  it('GETPOLICY answers with a NEWPOLICY; SPD info counts per direction', () => {
    const [m] = replies('policy-get');
    const d = decodeAnyXfrm(m as NonNullable<typeof m>);
    expect(d?.kind).toBe('NEWPOLICY');
    const [info] = replies('policy-count');
    const s = decodeXfrm('NEWSPDINFO', info as NonNullable<typeof info>);
    expect(s.attrs.info).toMatchObject({ incnt: 1, outcnt: 1, fwdcnt: 1 });
    expect(s.attrs.ipv4Hthresh).toEqual({ lbits: 32, rbits: 32 });
    const [def] = replies('policy-getdefault');
    expect(decodeXfrm('GETDEFAULT', def as NonNullable<typeof def>).header).toEqual({ in: 2, fwd: 2, out: 2 });
  });
});

describe('multicast notifications (ip xfrm monitor all, kernel 6.18)', () => {
  const events: XfrmEvent[] = messages(loadCapture('monitor-events'), 'received').map((m) => {
    const d = decodeAnyXfrm(m);
    if (!d) throw new Error(`unknown type ${m.type}`);
    return eventFromMessage(d);
  });

  it('arrive in the order the actions caused them', () => {
    expect(events.map((e) => e.kind)).toEqual([
      'newpolicy',
      'updpolicy',
      'newpolicy',
      'acquire',
      'expire',
      'delsa',
      'newpolicy',
      'expire',
      'polexpire',
      'delpolicy',
      'flushpolicy',
      'flushsa',
    ]);
  });

  it('DELSA carries the final state in XFRMA_SA, with its replay counters', () => {
    const e = events.find((x) => x.kind === 'delsa');
    if (e?.kind !== 'delsa') throw new Error('no delsa');
    expect(e.id).toMatchObject({ daddr: '10.0.0.2', spi: 0x1000, proto: 'esp', family: 'ipv4', saddr: '10.0.0.1' });
    expect(e.state).toMatchObject({ spi: 0x1000, reqid: 7, mode: 'tunnel', replay: { oseq: 0, seq: 0, bitmap: 0 } });
    expect(e.state?.current?.addTime).toBeGreaterThan(0n);
    // stamped with the deleting request's seq and nlmsg_pid (iproute2 sends pid 0)
    expect(e.seq).not.toBe(0);
    expect(e.pid).toBe(0);
  });

  it('ACQUIRE names the flow, the policy and its template; EXPIRE says hard', () => {
    const acq = events.find((x) => x.kind === 'acquire');
    if (acq?.kind !== 'acquire') throw new Error('no acquire');
    expect(acq.acquire).toMatchObject({ daddr: '10.0.0.2', saddr: '10.0.0.1', proto: 'esp', selector: { daddr: '10.2.0.9', prefixlenD: 32, proto: 17 } });
    expect(acq.acquire.policy).toMatchObject({ dir: 'out', priority: 200, templates: [{ reqid: 8 }] });
    const exp = events.filter((x) => x.kind === 'expire');
    expect(exp.map((x) => (x.kind === 'expire' ? [x.state.spi, x.hard] : []))).toEqual([
      [0, true],
      [0x1001, true],
    ]);
    // 6.18 tags the acquire-made larval SA as outbound
    expect(exp[0]?.kind === 'expire' && exp[0].state.saDir).toBe('out');
  });

  it('DELPOLICY carries the deleted policy; FLUSH events say what was flushed', () => {
    const del = events.find((x) => x.kind === 'delpolicy');
    if (del?.kind !== 'delpolicy') throw new Error('no delpolicy');
    expect(del.id).toMatchObject({ dir: 'out', ifId: 5, selector: { saddr: '10.1.0.0', prefixlenS: 24 } });
    expect(del.policy).toMatchObject({ priority: 50, ifId: 5, templates: [{ reqid: 7 }] });
    expect(events.find((x) => x.kind === 'flushpolicy')).toMatchObject({ type: 'main' });
    expect(events.find((x) => x.kind === 'flushsa')).toMatchObject({ proto: 0 });
    const pe = events.find((x) => x.kind === 'polexpire');
    expect(pe).toMatchObject({ hard: true, policy: { dir: 'in', selector: { saddr: '10.5.0.0' } } });
  });
});

describe('every captured kernel message survives decode -> encode -> decode', () => {
  const reencode = (d: AnyDecodedXfrm): Buffer => Buffer.concat(encodeXfrm(d.kind, { header: d.header as never, attrs: d.attrs as never }).payload);
  for (const name of captureNames('iproute2')) {
    const received = messages(loadCapture(name), 'received').filter((m) => m.type >= 16);
    if (!received.length) continue;
    it(name, () => {
      for (const m of received) {
        const d = decodeAnyXfrm(m);
        expect(d, `type ${m.type}`).toBeDefined();
        const once = reencode(d as AnyDecodedXfrm);
        const d2 = decodeXfrm((d as AnyDecodedXfrm).kind, { ...m, payload: once }) as AnyDecodedXfrm;
        expect(reencode(d2).equals(once)).toBe(true);
        // same attributes (by name) and same header, apart from the kernel's tail padding
        expect(Object.keys(d2.attrs).sort()).toEqual(Object.keys((d as AnyDecodedXfrm).attrs).sort());
        expect(d2.header).toEqual((d as AnyDecodedXfrm).header);
      }
    });
  }
});
