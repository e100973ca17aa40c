// ethtool over generic netlink against `ethtool --json -k DEV` and
// `ethtool -K DEV rxvlan off|on` (ethtool 6.1) captured under strace: our
// requests are byte-identical to ethtool's, and the kernel's answers decode to
// the same active/fixed/requested values ethtool printed as JSON.
import { describe, expect, it } from 'vitest';
import { NLM_F_ACK, NLM_F_REQUEST, encodeMessage, type NetlinkMessage, type OutgoingMessage } from '../../../src/netlink/message.js';
import { GENL_ID_CTRL, decodeFamily, getFamilyRequest } from '../../../src/netlink/genl.js';
import {
  ESP_HW_OFFLOAD,
  ETHTOOL_MSG_FEATURES_GET,
  ETHTOOL_MSG_FEATURES_SET,
  ETHTOOL_MSG_FEATURES_SET_REPLY,
  ETHTOOL_MSG_STRSET_GET,
  RX_VLAN_HW_PARSE,
  decodeFeatureNames,
  decodeFeatures,
  decodeFeaturesSetReply,
  featureNamesRequest,
  featuresRequest,
  featuresSetRequest,
  featuresTable,
  type FeatureState,
} from '../../../src/link/ethtool.js';
import { asMessage, loadFixture, type Fixture } from './fixtures.js';

const cmd = (m: NetlinkMessage): number | undefined => m.payload[0];

function expectSame(ours: OutgoingMessage, golden: NetlinkMessage, raw: Buffer): void {
  // ethtool asks for acks on its GETs too, so flags match as they are.
  const bytes = encodeMessage({ ...ours, flags: (ours.flags ?? 0) | NLM_F_REQUEST | NLM_F_ACK }, golden.seq);
  expect(bytes.toString('hex')).toBe(raw.toString('hex'));
}

function decodeAll(f: Fixture): { familyId: number; features: Map<string, FeatureState> } {
  const received = f.received.map(asMessage);
  const familyReply = received.find((m) => m.type === GENL_ID_CTRL);
  if (!familyReply) throw new Error('no CTRL_CMD_NEWFAMILY in the capture');
  const family = decodeFamily(familyReply);
  const names = received.find((m) => m.type === family.id && cmd(m) === ETHTOOL_MSG_STRSET_GET_REPLY);
  const feats = received.find((m) => m.type === family.id && cmd(m) === ETHTOOL_MSG_FEATURES_GET_REPLY);
  if (!names || !feats) throw new Error('capture lacks the string set or the features answer');
  return { familyId: family.id, features: decodeFeatures(feats, decodeFeatureNames(names)) };
}

// kernel -> user command numbers (enum after ETHTOOL_MSG_KERNEL_NONE)
const ETHTOOL_MSG_STRSET_GET_REPLY = 1;
const ETHTOOL_MSG_FEATURES_GET_REPLY = 11;

describe.each(['ethtool-features-lo', 'ethtool-features-veth'])('%s', (id) => {
  const f = loadFixture(id);
  const sent = f.sent.map(asMessage);
  const dev = id.endsWith('-lo') ? 'lo' : 'v0';

  it('resolves the family with the same CTRL_CMD_GETFAMILY bytes as ethtool', () => {
    const at = sent.findIndex((m) => m.type === GENL_ID_CTRL);
    expectSame(getFamilyRequest('ethtool'), sent[at] as NetlinkMessage, f.sent[at] as Buffer);
    const family = decodeFamily(f.received.map(asMessage).find((m) => m.type === GENL_ID_CTRL) as NetlinkMessage);
    expect(family.name).toBe('ethtool');
    expect(sent.filter((m) => m.type === family.id)).toHaveLength(2);
    expect(family.mcastGroups.get('monitor')).toBeTypeOf('number');
    expect(family.ops.has(ETHTOOL_MSG_FEATURES_GET)).toBe(true);
  });

  it('asks for names and feature bitsets with ethtool’s bytes', () => {
    const { familyId } = decodeAll(f);
    const at = sent.findIndex((m) => m.type === familyId && cmd(m) === ETHTOOL_MSG_FEATURES_GET);
    expectSame(featuresRequest(familyId, dev), sent[at] as NetlinkMessage, f.sent[at] as Buffer);
    const st = sent.findIndex((m) => m.type === familyId && cmd(m) === ETHTOOL_MSG_STRSET_GET);
    expectSame(featureNamesRequest(familyId), sent[st] as NetlinkMessage, f.sent[st] as Buffer);
  });

  it('decodes every feature to what ethtool printed', () => {
    const { features } = decodeAll(f);
    const printed = (JSON.parse(f.stdout) as Record<string, unknown>[])[0] as Record<string, { active: boolean; fixed: boolean | null; requested: boolean | null } | string>;
    let compared = 0;
    for (const [name, v] of Object.entries(printed)) {
      // ethtool also prints legacy group names ("rx-checksumming") and ifname; kernel names only
      if (typeof v === 'string' || v.fixed === null || !features.has(name)) continue;
      expect(features.get(name), name).toEqual({ active: v.active, fixed: v.fixed, requested: v.requested });
      compared++;
    }
    expect(compared).toBeGreaterThan(50);
    // what the daemon asks: no ESP offload on lo or veth, and it cannot be switched on
    expect(features.get(ESP_HW_OFFLOAD)).toEqual({ active: false, fixed: true, requested: false });
    // ethtool shows rx-vlan-hw-parse under its legacy name "rx-vlan-offload"
    const legacy = printed['rx-vlan-offload'];
    expect(typeof legacy === 'object' && legacy.active).toBe(features.get(RX_VLAN_HW_PARSE)?.active);
    expect(features.get(RX_VLAN_HW_PARSE)?.active).toBe(dev === 'v0'); // veth strips tags in "hardware"; lo has no VLANs
  });
});

// `ethtool -K v0 rxvlan off|on` (ethtool 6.1) under strace: the names request,
// then FEATURES_SET with a verbose WANTED bitset naming the bit; the kernel
// answers with compact WANTED/ACTIVE diffs. ethtool leaves its attribute
// padding uninitialised (bytes of the previous string), the kernel ignores
// padding: compared with the padding zeroed, every other byte must match.
function zeroPadding(msg: Buffer, start: number, end = msg.length): Buffer {
  const out = Buffer.from(msg);
  const walk = (from: number, to: number): void => {
    for (let at = from; at + 4 <= to; ) {
      const len = out.readUInt16LE(at);
      const type = out.readUInt16LE(at + 2);
      if (len < 4 || at + len > to) return;
      if (type & 0x8000) walk(at + 4, at + len);
      const aligned = (len + 3) & ~3;
      out.fill(0, at + len, Math.min(at + aligned, to));
      at += aligned;
    }
  };
  walk(start, end);
  return out;
}

const ETHTOOL_A_FEATURES_HEADER_AND_ATTRS = 16 + 4; // nlmsghdr + genlmsghdr

describe.each([
  ['ethtool-set-rxvlan-off', false],
  ['ethtool-set-rxvlan-on', true],
] as const)('%s', (id, on) => {
  const f = loadFixture(id);
  const sent = f.sent.map(asMessage);
  const received = f.received.map(asMessage);
  const family = decodeFamily(received.find((m) => m.type === GENL_ID_CTRL) as NetlinkMessage);

  it('was captured from a successful ethtool -K', () => {
    expect(f.captured.command).toBe(`ethtool -K v0 rxvlan ${on ? 'on' : 'off'}`);
    expect(f.exitCode).toBe(0);
  });

  it('sends the same names request and FEATURES_SET bytes as ethtool (padding aside)', () => {
    const st = sent.findIndex((m) => m.type === family.id && cmd(m) === ETHTOOL_MSG_STRSET_GET);
    expectSame(featureNamesRequest(family.id), sent[st] as NetlinkMessage, f.sent[st] as Buffer);
    const at = sent.findIndex((m) => m.type === family.id && cmd(m) === ETHTOOL_MSG_FEATURES_SET);
    expect(at).toBeGreaterThan(st);
    const golden = sent[at] as NetlinkMessage;
    const ours = featuresSetRequest(family.id, 'v0', { [RX_VLAN_HW_PARSE]: on });
    const bytes = encodeMessage({ ...ours, flags: (ours.flags ?? 0) | NLM_F_REQUEST | NLM_F_ACK }, golden.seq);
    expect(bytes.toString('hex')).toBe(zeroPadding(f.sent[at] as Buffer, ETHTOOL_A_FEATURES_HEADER_AND_ATTRS).toString('hex'));
    // and the padding really is all that differs
    expect(bytes.length).toBe((f.sent[at] as Buffer).length);
  });

  it("decodes the kernel's answer: rx-vlan-hw-parse changed to the asked state, nothing unmet", () => {
    const names = decodeFeatureNames(received.find((m) => m.type === family.id && cmd(m) === ETHTOOL_MSG_STRSET_GET_REPLY) as NetlinkMessage);
    const reply = received.find((m) => m.type === family.id && cmd(m) === ETHTOOL_MSG_FEATURES_SET_REPLY);
    expect(reply).toBeDefined();
    expect(decodeFeaturesSetReply(reply as NetlinkMessage, names)).toEqual({ changed: { [RX_VLAN_HW_PARSE]: on }, unmet: {} });
  });
});

describe('FEATURES_SET replies, by construction from the captured tables', () => {
  const f = loadFixture('ethtool-set-rxvlan-off');
  const received = f.received.map(asMessage);
  const family = decodeFamily(received.find((m) => m.type === GENL_ID_CTRL) as NetlinkMessage);
  const names = decodeFeatureNames(received.find((m) => m.type === family.id && cmd(m) === ETHTOOL_MSG_STRSET_GET_REPLY) as NetlinkMessage);
  const bit = (name: string): number => names.indexOf(name);
  const words = (bits: number[]): Buffer => {
    const b = Buffer.alloc(8);
    for (const i of bits) b.writeUInt32LE((b.readUInt32LE((i >> 5) * 4) | (1 << (i & 31))) >>> 0, (i >> 5) * 4);
    return b;
  };
  const reply = (wanted: { value: number[]; mask: number[] }, active: { value: number[]; mask: number[] }): NetlinkMessage => {
    const attrs = featuresTable.encode({
      header: { devIndex: 3, devName: 'v0' },
      wanted: { size: 64, value: words(wanted.value), mask: words(wanted.mask) },
      active: { size: 64, value: words(active.value), mask: words(active.mask) },
    });
    return { type: family.id, flags: 0, seq: 0, pid: 0, payload: Buffer.concat([Buffer.from([ETHTOOL_MSG_FEATURES_SET_REPLY, 1, 0, 0]), attrs]) };
  };

  it('a bit asked on that stayed off is unmet (reported with the state it kept); dependent changes are listed', () => {
    const gro = bit('rx-gro');
    const lro = bit('rx-lro');
    expect(gro).toBeGreaterThan(0);
    expect(lro).toBeGreaterThan(0);
    const r = decodeFeaturesSetReply(reply({ value: [lro], mask: [lro] }, { value: [], mask: [gro] }), names);
    expect(r).toEqual({ changed: { 'rx-gro': false }, unmet: { 'rx-lro': false } });
  });
});
