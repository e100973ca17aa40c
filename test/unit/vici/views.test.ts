// Typed views over charon's real messages (captured from 5.9.8 with
// kernel-libipsec CHILD_SAs: see fixtures/*.json), and their tolerance of the
// fields older or newer charons leave out or add.
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../../src/vici/wire/elements.js';
import { ViciFieldError } from '../../../src/vici/wire/errors.js';
import { ViciMessage } from '../../../src/vici/wire/message.js';
import { PacketType } from '../../../src/vici/wire/packet.js';
import { parseChildSa } from '../../../src/vici/views/child-sa.js';
import { parseIkeSa, parseListSa } from '../../../src/vici/views/ike-sa.js';
import { parseAlert, parseChildRekey, parseChildUpdown, parseIkeRekey, parseIkeUpdate, parseIkeUpdown, parseLog } from '../../../src/vici/views/events.js';
import { parseStats, parseVersion } from '../../../src/vici/views/daemon.js';
import { parseListConn } from '../../../src/vici/views/conn.js';
import { fixture, packets, type FixtureName } from './fixtures.js';

/** The decoded messages charon sent in a fixture, with the packet's name. */
function fromCharon(name: FixtureName): { type: number; name?: string; msg: ViciMessage }[] {
  return packets(fixture(name).fromCharon).map((p) => ({ type: p.type, ...(p.name ? { name: p.name } : {}), msg: decodeMessage(p.message ?? Buffer.alloc(0)) }));
}

function events(fx: FixtureName, name: string): ViciMessage[] {
  return fromCharon(fx)
    .filter((p) => p.type === PacketType.EVENT && p.name === name)
    .map((p) => p.msg);
}

describe('list-sa (swanctl --list-sas capture)', () => {
  const [ike, ...more] = events('list-sas', 'list-sa').flatMap(parseListSa);

  it('gives one IKE_SA with every IKE field charon 5.9.8 sent', () => {
    expect(more).toHaveLength(0);
    expect(ike).toMatchObject({
      name: 'lab',
      uniqueid: 1,
      version: 2,
      state: 'ESTABLISHED',
      localHost: '10.0.0.1',
      localPort: 4500,
      localId: 'a@vici',
      remoteHost: '10.0.0.2',
      remotePort: 4500,
      remoteId: 'b@vici',
      initiator: true,
      initiatorSpi: 'ca4327b42bd13bae',
      responderSpi: '61950a1f1c4ec55e',
      natLocal: false,
      natRemote: true,
      natFake: false,
      natAny: true,
      encrAlg: 'AES_GCM_16',
      encrKeysize: 128,
      prfAlg: 'PRF_HMAC_SHA2_256',
      dhGroup: 'CURVE_25519',
      established: 2,
      rekeyTime: 14332,
      ppk: false,
      ake: [],
      localVips: [],
      tasksActive: [],
    });
    expect(ike?.integAlg).toBeUndefined();
    expect(ike?.reauthTime).toBeUndefined();
    expect(ike?.ifIdIn).toBeUndefined();
  });

  it('gives the installed CHILD_SA with SPIs, marks, if-ids, counters and times', () => {
    const [c1, c2] = ike?.childSas ?? [];
    expect(c1).toMatchObject({
      key: 'c1-1',
      name: 'c1',
      uniqueid: 1,
      reqid: 1,
      state: 'INSTALLED',
      mode: 'TUNNEL',
      protocol: 'ESP',
      encap: true,
      spiIn: 0xbf4a1e66,
      spiInHex: 'bf4a1e66',
      spiOut: 0x18a4f28a,
      spiOutHex: '18a4f28a',
      markIn: 0x2a,
      markMaskIn: 0xff,
      markOut: 0x2b,
      // charon leaves out a mask of 0xffffffff; the view fills it back in
      markMaskOut: 0xffffffff,
      ifIdIn: 7,
      ifIdOut: 0x1234,
      encrAlg: 'AES_GCM_16',
      encrKeysize: 128,
      esn: false,
      perCpuSas: false,
      bytesIn: 252n,
      packetsIn: 3n,
      useIn: 1,
      bytesOut: 252n,
      packetsOut: 3n,
      useOut: 1,
      rekeyTime: 3297,
      lifeTime: 3958,
      installTime: 2,
      localTs: ['10.1.1.0/24'],
      remoteTs: ['10.1.2.0/24'],
    });
    expect(c1?.raw.string('spi-in')).toBe('bf4a1e66');
    // c2: no marks, no if-ids, no traffic yet (so no use-in/out)
    expect(c2).toMatchObject({ key: 'c2-2', uniqueid: 2, reqid: 2, bytesIn: 0n, localTs: ['10.1.1.0/24[udp/10002]'] });
    for (const k of ['markIn', 'markMaskIn', 'ifIdIn', 'ifIdOut', 'useIn', 'useOut', 'cpiIn', 'cpu', 'label', 'integAlg', 'dhGroup'] as const) expect(c2?.[k]).toBeUndefined();
  });
});

describe('broadcast events (raw capture)', () => {
  it('ike-updown: up=yes on up, nothing on down', () => {
    const [up, down] = events('events', 'ike-updown').map(parseIkeUpdown);
    expect(up?.up).toBe(true);
    expect(up?.ike).toMatchObject({ name: 'lab', uniqueid: 1, state: 'ESTABLISHED', childSas: [] });
    expect(down?.up).toBe(false);
    expect(down?.ike).toMatchObject({ uniqueid: 2, state: 'DELETING' });
  });

  it('child-updown: keyed <name>-<uniqueid>, up and down', () => {
    const all = events('events', 'child-updown').map(parseChildUpdown);
    expect(all.map((e) => [e.up, e.children.map((c) => c.key)])).toEqual([
      [true, ['c1-1']],
      [true, ['c2-2']],
      [false, ['c2-2']],
      [false, ['c1-3']],
    ]);
    expect(all[0]?.children[0]).toMatchObject({ spiIn: 0xbf4a1e66, markIn: 0x2a, installTime: 0 });
    expect(all[0]?.ike.childSas).toBe(all[0]?.children);
    // terminate child c2: DELETED; the implicit downs after an IKE_SA delete still say INSTALLED
    expect(all[2]?.children[0]?.state).toBe('DELETED');
    expect(all[3]?.children[0]?.state).toBe('INSTALLED');
  });

  it('child-rekey: keyed by the plain child name, with old and new CHILD_SAs', () => {
    const [rekey] = events('events', 'child-rekey').map(parseChildRekey);
    expect(rekey?.ike).toMatchObject({ uniqueid: 1, tasksActive: ['CHILD_REKEY'], childSas: [] });
    expect(rekey?.rekeys).toHaveLength(1);
    const pair = rekey?.rekeys[0];
    expect(pair?.name).toBe('c1');
    expect(pair?.old).toMatchObject({ key: 'c1', uniqueid: 1, reqid: 1, state: 'REKEYED', spiIn: 0xbf4a1e66, bytesIn: 252n });
    expect(pair?.new).toMatchObject({ key: 'c1', uniqueid: 3, reqid: 1, state: 'INSTALLED', spiIn: 0x28a8b5bd, spiOut: 0x4c887b8a, bytesIn: 0n });
  });

  it('ike-rekey: old and new IKE_SA under the config name', () => {
    const [r] = events('events', 'ike-rekey').map(parseIkeRekey);
    expect(r?.name).toBe('lab');
    expect(r?.old).toMatchObject({ uniqueid: 1, state: 'REKEYING', tasksActive: ['IKE_REKEY'] });
    expect(r?.new).toMatchObject({ uniqueid: 2, state: 'ESTABLISHED', initiatorSpi: '4aaed9519f995a9a', established: 0 });
  });

  it('log and control-log', () => {
    const [log] = events('unknown-and-log', 'log').map(parseLog);
    expect(log).toMatchObject({ group: 'JOB', level: 1, thread: 12 });
    expect(log?.ikesaName).toBeUndefined();
    const ctl = events('initiate', 'control-log').map(parseLog);
    expect(ctl[0]).toMatchObject({ group: 'IKE', level: 0, ikesaName: 'lab', ikesaUniqueid: 1, msg: 'initiating IKE_SA lab[1] to 10.0.0.2' });
    expect(ctl[0]?.thread).toBeUndefined();
    expect(ctl.at(-1)?.msg).toMatch(/^CHILD_SA c1\{1\} established with SPIs bf4a1e66_i 18a4f28a_o/);
  });
});

describe('command replies', () => {
  it('version', () => {
    const [r] = fromCharon('version');
    expect(parseVersion(r?.msg as ViciMessage)).toMatchObject({ daemon: 'charon', version: '5.9.8', sysname: 'Linux', machine: 'x86_64' });
  });

  it('stats', () => {
    const [r] = fromCharon('stats');
    const s = parseStats(r?.msg as ViciMessage);
    expect(s.workers).toEqual({ total: 16, idle: 7, active: { critical: 4, high: 0, medium: 5, low: 0 } });
    expect(s.queues).toEqual({ critical: 0, high: 0, medium: 0, low: 0 });
    expect(s.ikesas).toEqual({ total: 0, halfOpen: 0 });
    expect(s.plugins).toContain('vici');
    expect(s.raw.section('mallinfo')?.number('used')).toBeGreaterThan(0);
  });

  it('list-conn', () => {
    const [conn] = events('list-conns', 'list-conn').flatMap(parseListConn);
    expect(conn).toMatchObject({ name: 'lab', localAddrs: ['10.0.0.1'], remoteAddrs: ['10.0.0.2'], version: 'IKEv2', reauthTime: 0, rekeyTime: 14400, unique: 'UNIQUE_NO' });
    expect(conn?.local).toMatchObject([{ key: 'local-1', class: 'pre-shared key', id: 'a@vici' }]);
    expect(conn?.remote).toMatchObject([{ key: 'remote-1', id: 'b@vici' }]);
    expect(conn?.children.map((c) => [c.name, c.mode, c.rekeyTime, c.rekeyBytes, c.localTs])).toEqual([
      ['c1', 'TUNNEL', 3600, 0n, ['10.1.1.0/24']],
      ['c2', 'TUNNEL', 3600, 0n, ['10.1.1.0/24[udp/10002]']],
    ]);
    expect(conn?.localPort).toBeUndefined(); // 5.9.8 does not list ports yet
  });

  it('terminate failure carries charon errmsg', () => {
    const r = fromCharon('terminate-failed').find((p) => p.type === PacketType.CMD_RESPONSE);
    expect(r?.msg.string('success')).toBe('no');
    expect(r?.msg.string('errmsg')).toBe('no matching SAs to terminate found');
  });
});

describe('tolerance', () => {
  const full = events('list-sas', 'list-sa')[0]?.section('lab')?.section('child-sas')?.section('c1-1') as ViciMessage;

  it('a CHILD_SA as charon 5.3 wrote it (no name, marks, if-ids, ports) still parses', () => {
    const keep = ['uniqueid', 'reqid', 'state', 'mode', 'protocol', 'encap', 'spi-in', 'spi-out', 'encr-alg', 'encr-keysize', 'bytes-in', 'packets-in', 'bytes-out', 'packets-out', 'install-time', 'local-ts', 'remote-ts'];
    const old = ViciMessage.from(new Map([...full].filter(([k]) => keep.includes(k))));
    const c = parseChildSa('c1', old);
    expect(c).toMatchObject({ key: 'c1', name: 'c1', uniqueid: 1, spiIn: 0xbf4a1e66 });
    expect(c.markIn).toBeUndefined();
    expect(c.ifIdIn).toBeUndefined();
  });

  it('a CHILD_SA not yet installed has no ipsec or stats fields', () => {
    const routed = ViciMessage.from({ name: 'c1', uniqueid: '9', reqid: '3', state: 'ROUTED', mode: 'TRANSPORT', 'local-ts': [], 'remote-ts': [] });
    expect(parseChildSa('c1-9', routed)).toMatchObject({ state: 'ROUTED', encap: false, esn: false, localTs: [] });
    expect(parseChildSa('c1-9', routed).spiIn).toBeUndefined();
  });

  it('reads fields of newer charons: esn=1, cpi, per-cpu, cpu, label, ake1..7, negative rekey-time', () => {
    const c = parseChildSa(
      'x-1',
      ViciMessage.from({ name: 'x', uniqueid: '1', reqid: '1', state: 'INSTALLED', mode: 'IPTFS', esn: '1', 'cpi-in': 'c001', 'cpi-out': '0002', 'per-cpu-sas': 'yes', cpu: '3', label: '0a0b', ake1: 'ML_KEM_768', ake3: 'CURVE_448', 'rekey-time': '-4', 'some-future-field': 'kept' }),
    );
    expect(c).toMatchObject({ esn: true, cpiIn: 0xc001, cpiOut: 2, perCpuSas: true, cpu: 3, label: '0a0b', rekeyTime: -4, mode: 'IPTFS' });
    expect(c.ake).toEqual([
      { index: 1, method: 'ML_KEM_768' },
      { index: 3, method: 'CURVE_448' },
    ]);
    expect(c.raw.string('some-future-field')).toBe('kept');
  });

  it('a missing required field or a malformed number is a ViciFieldError naming the path', () => {
    const noReqid = ViciMessage.from({ lab: { 'child-sas': { 'c1-1': { name: 'c1', uniqueid: '1', state: 'INSTALLED', mode: 'TUNNEL' } } } });
    const sec = noReqid.section('lab')?.section('child-sas')?.section('c1-1') as ViciMessage;
    expect(() => parseChildSa('c1-1', sec)).toThrow(ViciFieldError);
    try {
      parseChildSa('c1-1', sec);
    } catch (e) {
      expect((e as ViciFieldError).path).toBe('lab.child-sas.c1-1.reqid');
    }
    const badSpi = ViciMessage.from({ name: 'c1', uniqueid: '1', reqid: '1', state: 'INSTALLED', mode: 'TUNNEL', 'spi-in': 'zz' });
    expect(() => parseChildSa('c1-1', badSpi)).toThrow(ViciFieldError);
    expect(() => parseIkeSa('lab', ViciMessage.from({ uniqueid: '1' }))).toThrow(ViciFieldError);
  });

  it('events without their IKE section are ViciFieldErrors, not crashes', () => {
    for (const f of [parseChildUpdown, parseIkeUpdown, parseChildRekey, parseIkeRekey, parseIkeUpdate]) {
      expect(() => f(ViciMessage.from({ up: 'yes' }))).toThrow(ViciFieldError);
    }
  });

  it('ike-update and alert (5.9.2+ / 6.0.3+ shapes)', () => {
    const ikeFields = events('list-sas', 'list-sa')[0]?.section('lab') as ViciMessage;
    const ikeOnly = new Map([...ikeFields].filter(([k]) => k !== 'child-sas'));
    const upd = parseIkeUpdate(ViciMessage.from(new Map<string, unknown>([['local-host', '10.9.9.9'], ['local-port', '4500'], ['remote-host', '10.0.0.2'], ['remote-port', '4501'], ['lab', ikeOnly]]) as never));
    expect(upd.local).toEqual({ host: '10.9.9.9', port: 4500 });
    expect(upd.remote).toEqual({ host: '10.0.0.2', port: 4501 });
    expect(upd.ike.localHost).toBe('10.0.0.1');
    expect(parseAlert(ViciMessage.from({ type: 'peer-auth-failed' }))).toEqual({ type: 'peer-auth-failed' });
    const withIke = parseAlert(ViciMessage.from({ type: 'install-child-sa-failed', 'ike-sa': new Map([['lab', ikeOnly]]) as never }));
    expect(withIke.ike?.uniqueid).toBe(1);
  });
});
