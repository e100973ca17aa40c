// ethtool over generic netlink against `ethtool --json -k DEV` (ethtool 6.1)
// captured under strace: our three requests are byte-identical to ethtool's,
// and the kernel's answers decode to the same active/fixed/requested values
// ethtool printed as JSON.
import { describe, expect, it } from 'vitest';
import { NLM_F_ACK, NLM_F_REQUEST, encodeMessage, type NetlinkMessage, type OutgoingMessage } from '../../../src/netlink/message.js';
import { GENL_ID_CTRL, decodeFamily, getFamilyRequest } from '../../../src/netlink/genl.js';
import {
  ESP_HW_OFFLOAD,
  ETHTOOL_MSG_FEATURES_GET,
  ETHTOOL_MSG_STRSET_GET,
  RX_VLAN_HW_PARSE,
  decodeFeatureNames,
  decodeFeatures,
  featureNamesRequest,
  featuresRequest,
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
