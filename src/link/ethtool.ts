// Netdev features through ethtool's generic netlink family, asked the way
// ethtool 6.1 asks for `ethtool -k DEV`: the feature names once
// (ETHTOOL_MSG_STRSET_GET, ETH_SS_FEATURES), then the four feature bitsets of
// the device in compact form (ETHTOOL_MSG_FEATURES_GET). This is the check
// charon and libreswan make through the ioctl before offloading: the device
// must have "esp-hw-offload" active. Same strings, same bits.
// Changing a feature is ETHTOOL_MSG_FEATURES_SET the way `ethtool -K DEV NAME
// on|off` sends it: the WANTED bitset in verbose form, the bit by name (set:
// VALUE flag present; clear: absent), and compact bitsets in the answer, which
// says what changed (ACTIVE) and what the device did not take (WANTED).
import { NetlinkDecodeError } from '../netlink/errors.js';
import {
  attr,
  attrTable,
  binary,
  flag,
  nested,
  repeated,
  string,
  u32,
  type AttrValues,
} from '../netlink/codec/attributes.js';
import { GENL_HDRLEN, genlMessage, genlPayload, resolveFamily, type GenlFamily } from '../netlink/genl.js';
import { NETLINK_GENERIC, NLMSG_HDRLEN, type NetlinkMessage, type OutgoingMessage } from '../netlink/message.js';
import type { NetnsSpec } from '../netlink/netns.js';
import { NetlinkRequester, type MessageDescriber } from '../netlink/requester.js';

export const ETHTOOL_GENL_NAME = 'ethtool';
export const ETHTOOL_GENL_VERSION = 1;
export const ETHTOOL_MSG_STRSET_GET = 1;
export const ETHTOOL_MSG_FEATURES_GET = 11;
export const ETHTOOL_MSG_FEATURES_SET = 12;
/** kernel -> user numbering: the answer to FEATURES_SET */
export const ETHTOOL_MSG_FEATURES_SET_REPLY = 12;
export const ETHTOOL_FLAG_COMPACT_BITSETS = 1;
export const ETH_SS_FEATURES = 4;

export const ESP_HW_OFFLOAD = 'esp-hw-offload';
/** NETIF_F_HW_VLAN_CTAG_RX; `ethtool -k` shows it as "rx-vlan-offload". */
export const RX_VLAN_HW_PARSE = 'rx-vlan-hw-parse';

export const headerTable = attrTable('ETHTOOL_A_HEADER', 'ETHTOOL_A_HEADER_', {
  devIndex: attr(1, u32),
  devName: attr(2, string),
  flags: attr(3, u32),
});

const bitTable = attrTable('ETHTOOL_A_BITSET_BIT', 'ETHTOOL_A_BITSET_BIT_', {
  index: attr(1, u32),
  name: attr(2, string),
  value: attr(3, flag),
});

const bitsTable = attrTable('ETHTOOL_A_BITSET_BITS', 'ETHTOOL_A_BITSET_BITS_', {
  bit: repeated(1, nested(bitTable, { nestedFlag: true })),
});

/** A bitset, compact (VALUE/MASK words) or verbose (BITS with names). */
export const bitsetTable = attrTable('ETHTOOL_A_BITSET', 'ETHTOOL_A_BITSET_', {
  nomask: attr(1, flag),
  size: attr(2, u32),
  bits: attr(3, nested(bitsTable, { nestedFlag: true })),
  value: attr(4, binary),
  mask: attr(5, binary),
});

export const featuresTable = attrTable('ETHTOOL_A_FEATURES', 'ETHTOOL_A_FEATURES_', {
  header: attr(1, nested(headerTable, { nestedFlag: true })),
  hw: attr(2, nested(bitsetTable, { nestedFlag: true })),
  wanted: attr(3, nested(bitsetTable, { nestedFlag: true })),
  active: attr(4, nested(bitsetTable, { nestedFlag: true })),
  nochange: attr(5, nested(bitsetTable, { nestedFlag: true })),
});

const stringTable = attrTable('ETHTOOL_A_STRING', 'ETHTOOL_A_STRING_', {
  index: attr(1, u32),
  value: attr(2, string),
});

const stringsTable = attrTable('ETHTOOL_A_STRINGS', 'ETHTOOL_A_STRINGS_', {
  string: repeated(1, nested(stringTable, { nestedFlag: true })),
});

const stringsetTable = attrTable('ETHTOOL_A_STRINGSET', 'ETHTOOL_A_STRINGSET_', {
  id: attr(1, u32),
  count: attr(2, u32),
  strings: attr(3, nested(stringsTable, { nestedFlag: true })),
});

const stringsetsTable = attrTable('ETHTOOL_A_STRINGSETS', 'ETHTOOL_A_STRINGSETS_', {
  stringset: repeated(1, nested(stringsetTable, { nestedFlag: true })),
});

export const strsetTable = attrTable('ETHTOOL_A_STRSET', 'ETHTOOL_A_STRSET_', {
  header: attr(1, nested(headerTable, { nestedFlag: true })),
  stringsets: attr(2, nested(stringsetsTable, { nestedFlag: true })),
  countsOnly: attr(3, flag),
});

/** A device as ethtool's request header names it. */
export type EthtoolDevice = string | number;

/** `ethtool --show-features` of one feature. */
export interface FeatureState {
  active: boolean;
  /** cannot be changed: not in the device's hw_features, or never changeable */
  fixed: boolean;
  /** what was asked for (ethtool prints "[requested on]" when it differs from active) */
  requested: boolean;
}

const devHeader = (dev: EthtoolDevice | undefined, flags?: number): AttrValues<typeof headerTable.spec> => ({
  ...(typeof dev === 'number' ? { devIndex: dev } : dev !== undefined ? { devName: dev } : {}),
  ...(flags !== undefined ? { flags } : {}),
});

/** `ethtool -k` part 1: the names of all netdev features (global, no device). */
export function featureNamesRequest(familyId: number): OutgoingMessage {
  const attrs = strsetTable.encode({ header: {}, stringsets: { stringset: [{ id: ETH_SS_FEATURES }] } });
  return genlMessage(familyId, ETHTOOL_MSG_STRSET_GET, ETHTOOL_GENL_VERSION, attrs);
}

/** `ethtool -k DEV` part 2: the device's feature bitsets, compact. */
export function featuresRequest(familyId: number, dev: EthtoolDevice): OutgoingMessage {
  const attrs = featuresTable.encode({ header: devHeader(dev, ETHTOOL_FLAG_COMPACT_BITSETS) });
  return genlMessage(familyId, ETHTOOL_MSG_FEATURES_GET, ETHTOOL_GENL_VERSION, attrs);
}

/**
 * `ethtool -K DEV NAME on|off`: the WANTED bitset in verbose form, each bit by
 * name, VALUE present = on. The answer comes in compact form (header flag).
 */
export function featuresSetRequest(familyId: number, dev: EthtoolDevice, wanted: Readonly<Record<string, boolean>>): OutgoingMessage {
  const bit = Object.entries(wanted).map(([name, on]) => (on ? { name, value: true } : { name }));
  const attrs = featuresTable.encode({ header: devHeader(dev, ETHTOOL_FLAG_COMPACT_BITSETS), wanted: { bits: { bit } } });
  return genlMessage(familyId, ETHTOOL_MSG_FEATURES_SET, ETHTOOL_GENL_VERSION, attrs);
}

/** Index -> name of the ETH_SS_FEATURES string set in a STRSET_GET answer. */
export function decodeFeatureNames(m: Pick<NetlinkMessage, 'payload'>): string[] {
  const { values } = strsetTable.decode(genlPayload(m).attrs);
  const set = values.stringsets?.values.stringset?.find((s) => s.values.id === ETH_SS_FEATURES);
  if (!set) throw new NetlinkDecodeError('ETHTOOL_MSG_STRSET_GET_REPLY', GENL_HDRLEN, 'no ETH_SS_FEATURES string set');
  const names: string[] = [];
  for (const s of set.values.strings?.values.string ?? []) {
    const { index, value } = s.values;
    if (index !== undefined && value !== undefined) names[index] = value;
  }
  return names;
}

type Bitset = NonNullable<AttrValues<typeof featuresTable.spec>['hw']>['values'];

/** Reads one bitset into index -> bit, learning names from a verbose one. */
function readBitset(b: Bitset | undefined, names: string[]): Map<number, boolean> {
  const bits = new Map<number, boolean>();
  if (!b) return bits;
  if (b.bits) {
    for (const { values: bit } of b.bits.values.bit ?? []) {
      if (bit.index === undefined) continue;
      if (bit.name !== undefined) names[bit.index] ??= bit.name;
      // list form: a listed bit is set; value/mask form: set when VALUE is present
      bits.set(bit.index, b.nomask === true || bit.value === true);
    }
    return bits;
  }
  const value = b.value ?? Buffer.alloc(0);
  const size = Math.min(b.size ?? value.length * 8, value.length * 8);
  for (let i = 0; i < size; i++) bits.set(i, (value[i >> 3] ?? 0) & (1 << (i & 7)) ? true : false);
  return bits;
}

/**
 * The bits a value/mask bitset says something about (compact: MASK words;
 * verbose: the listed bits), with their values.
 */
function readMaskedBitset(b: Bitset | undefined, names: string[]): Map<number, boolean> {
  if (!b) return new Map();
  if (b.bits || b.nomask) return readBitset(b, names);
  const value = readBitset(b, names);
  const mask = readBitset({ ...b, value: b.mask ?? Buffer.alloc(0) }, names);
  const out = new Map<number, boolean>();
  for (const [i, m] of mask) if (m) out.set(i, value.get(i) === true);
  return out;
}

/** What a FEATURES_SET did. */
export interface FeatureSetResult {
  /** features whose active state changed, with the new state (dependent features included) */
  changed: Record<string, boolean>;
  /** features asked for that the device did not take, with the state they kept */
  unmet: Record<string, boolean>;
}

/**
 * A FEATURES_SET answer (ETHTOOL_MSG_FEATURES_SET_REPLY): WANTED holds the
 * requested values where they differ from the result, ACTIVE the active
 * values that changed. The kernel sends none when nothing was modified.
 */
export function decodeFeaturesSetReply(m: Pick<NetlinkMessage, 'payload'>, featureNames: readonly string[]): FeatureSetResult {
  const { values: v } = featuresTable.decode(genlPayload(m).attrs);
  const names = [...featureNames];
  const active = readMaskedBitset(v.active?.values, names);
  const wanted = readMaskedBitset(v.wanted?.values, names);
  const nameOf = (i: number): string => names[i] ?? `bit${i}`;
  const out: FeatureSetResult = { changed: {}, unmet: {} };
  for (const [i, on] of active) out.changed[nameOf(i)] = on;
  for (const [i, asked] of wanted) out.unmet[nameOf(i)] = !asked;
  return out;
}

/**
 * A FEATURES_GET answer -> feature name -> state. Compact bitsets are u32
 * words in host order; on the little-endian hosts the addon builds for, bit i
 * is bit (i % 8) of byte i / 8.
 */
export function decodeFeatures(m: Pick<NetlinkMessage, 'payload'>, featureNames: readonly string[]): Map<string, FeatureState> {
  const { values: v } = featuresTable.decode(genlPayload(m).attrs);
  const names = [...featureNames];
  const hw = readBitset(v.hw?.values, names);
  const wanted = readBitset(v.wanted?.values, names);
  const active = readBitset(v.active?.values, names);
  const nochange = readBitset(v.nochange?.values, names);
  const out = new Map<string, FeatureState>();
  names.forEach((name, i) => {
    if (!name) return;
    out.set(name, {
      active: active.get(i) === true,
      fixed: hw.get(i) !== true || nochange.get(i) === true,
      requested: wanted.get(i) === true,
    });
  });
  return out;
}

const ETHTOOL_COMMANDS: Record<number, [string, typeof featuresTable | typeof strsetTable]> = {
  [ETHTOOL_MSG_STRSET_GET]: ['ETHTOOL_MSG_STRSET_GET', strsetTable],
  [ETHTOOL_MSG_FEATURES_GET]: ['ETHTOOL_MSG_FEATURES_GET', featuresTable],
  [ETHTOOL_MSG_FEATURES_SET]: ['ETHTOOL_MSG_FEATURES_SET', featuresTable],
};

function describer(family: GenlFamily): MessageDescriber {
  const command = (request: Buffer): [string, typeof featuresTable | typeof strsetTable] | undefined => ETHTOOL_COMMANDS[request[NLMSG_HDRLEN] ?? -1];
  return {
    name: (type) => (type === family.id ? 'ethtool' : `genl family ${type}`),
    attributeAt: (request, offset) => command(request)?.[1].attributeAt(request, offset, NLMSG_HDRLEN + GENL_HDRLEN),
  };
}

/** The kernel accepted a feature change but the device kept the feature as it was. */
export class FeatureNotChangedError extends Error {
  override readonly name = 'FeatureNotChangedError';
  constructor(
    readonly device: EthtoolDevice,
    readonly feature: string,
    readonly wanted: boolean,
  ) {
    super(`device ${String(device)} kept ${feature} ${wanted ? 'off' : 'on'} although ${wanted ? 'on' : 'off'} was asked for`);
  }
}

/** The device has no such feature string (a kernel too old or too new for the name). */
export class UnknownFeatureError extends Error {
  override readonly name = 'UnknownFeatureError';
  constructor(
    readonly device: EthtoolDevice,
    readonly feature: string,
  ) {
    super(`device ${String(device)} reports no feature named ${JSON.stringify(feature)}`);
  }
}

export interface EthtoolClientOptions {
  netns?: NetnsSpec;
  timeoutMs?: number;
}

export class EthtoolClient {
  readonly #nl: NetlinkRequester;
  readonly #family: GenlFamily;
  readonly #timeoutMs: number | undefined;
  #names: Promise<string[]> | undefined;

  private constructor(nl: NetlinkRequester, family: GenlFamily, timeoutMs: number | undefined) {
    this.#nl = nl;
    this.#family = family;
    this.#timeoutMs = timeoutMs;
  }

  /** Opens a generic netlink socket and resolves the "ethtool" family (GenlFamilyNotFoundError if absent). */
  static async open(options: EthtoolClientOptions = {}): Promise<EthtoolClient> {
    const nl = NetlinkRequester.open(NETLINK_GENERIC, options.netns ? { netns: options.netns } : {});
    try {
      const family = await resolveFamily(nl, ETHTOOL_GENL_NAME, options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {});
      return new EthtoolClient(nl, family, options.timeoutMs);
    } catch (e) {
      nl.close();
      throw e;
    }
  }

  get family(): GenlFamily {
    return this.#family;
  }

  close(): void {
    this.#nl.close();
  }

  /** Every netdev feature of the device (ENODEV NetlinkError if there is none). */
  async features(dev: EthtoolDevice): Promise<Map<string, FeatureState>> {
    const names = await this.#featureNames();
    const replies = await this.#request(featuresRequest(this.#family.id, dev));
    const reply = replies.find((r) => r.type === this.#family.id);
    if (!reply) throw new NetlinkDecodeError('ETHTOOL_MSG_FEATURES_GET answer', 0, 'no reply message');
    return decodeFeatures(reply, names);
  }

  async feature(dev: EthtoolDevice, name: string): Promise<FeatureState> {
    const state = (await this.features(dev)).get(name);
    if (!state) throw new UnknownFeatureError(dev, name);
    return state;
  }

  /** ESP crypto offload (NETIF_F_HW_ESP): what charon's and libreswan's offload check reads. */
  espHwOffload(dev: EthtoolDevice): Promise<FeatureState> {
    return this.feature(dev, ESP_HW_OFFLOAD);
  }

  /** RX VLAN tag stripping; XDP VLAN steering needs it off (on 6.1 XDP cannot see a stripped tag). */
  rxVlanOffload(dev: EthtoolDevice): Promise<FeatureState> {
    return this.feature(dev, RX_VLAN_HW_PARSE);
  }

  /**
   * `ethtool -K DEV NAME on|off`. A feature that cannot be changed fails with
   * the kernel's EINVAL ("attempt to change non-changeable feature"); one the
   * device does not take although the kernel accepted the request throws
   * FeatureNotChangedError. Changing a feature to what it is changes nothing.
   */
  async setFeature(dev: EthtoolDevice, name: string, on: boolean): Promise<FeatureSetResult> {
    const names = await this.#featureNames();
    if (!names.includes(name)) throw new UnknownFeatureError(dev, name);
    const replies = await this.#request(featuresSetRequest(this.#family.id, dev, { [name]: on }));
    const reply = replies.find((r) => r.type === this.#family.id);
    const result = reply ? decodeFeaturesSetReply(reply, names) : { changed: {}, unmet: {} };
    if (name in result.unmet) throw new FeatureNotChangedError(dev, name, on);
    return result;
  }

  /** `ethtool -K DEV rxvlan on|off` (rx-vlan-hw-parse): what XDP VLAN steering turns off. */
  async setRxVlanOffload(dev: EthtoolDevice, on: boolean): Promise<void> {
    await this.setFeature(dev, RX_VLAN_HW_PARSE, on);
  }

  #featureNames(): Promise<string[]> {
    // Global strings: asked once per client; a failure is not kept.
    if (!this.#names) {
      const p = this.#loadFeatureNames();
      this.#names = p;
      void p.catch(() => {
        if (this.#names === p) this.#names = undefined;
      });
    }
    return this.#names;
  }

  async #loadFeatureNames(): Promise<string[]> {
    const replies = await this.#request(featureNamesRequest(this.#family.id));
    const reply = replies.find((r) => r.type === this.#family.id);
    if (!reply) throw new NetlinkDecodeError('ETHTOOL_MSG_STRSET_GET answer', 0, 'no reply message');
    return decodeFeatureNames(reply);
  }

  #request(m: OutgoingMessage): Promise<NetlinkMessage[]> {
    return this.#nl.request(m, { describe: describer(this.#family), ...(this.#timeoutMs !== undefined ? { timeoutMs: this.#timeoutMs } : {}) });
  }
}
