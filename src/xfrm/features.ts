// What the running kernel's XFRM netlink understands.
//
// The kernel parses XFRM requests liberally: an attribute type above its
// XFRMA_MAX is dropped without a word, so an SA sent with XFRMA_SA_DIR to 6.1
// is installed without a direction. We therefore find out once (kernel
// version, then a harmless probe) and refuse to encode a message that depends
// on something the kernel would ignore.
//
// The probe: GETSA for an SA that cannot exist (spi 0), carrying the attribute
// under test with a well-formed payload but NLA_F_NESTED set. Since 6.10
// attributes from XFRMA_SA_DIR up are strictly validated, so a kernel that
// knows the type rejects it ("NLA_F_NESTED not expected", EINVAL, ext-ack
// offset = our attribute); a kernel that does not know it skips it and the
// lookup answers ESRCH. Nothing is created or changed, and because the payload
// length is right the kernel logs nothing. Types below 33 are validated
// liberally (no such trick without a kernel log line), so MTIMER_THRESH and the
// XFRM_OFFLOAD_PACKET flag are decided by version.
import { release as osRelease } from 'node:os';
import { NetlinkError } from '../netlink/errors.js';
import { NLA_F_NESTED } from '../netlink/codec/attributes.js';
import { NLMSG_HDRLEN } from '../netlink/message.js';
import type { NetlinkRequester } from '../netlink/requester.js';
import { AF_INET } from '../netlink/codec/address.js';
import { XFRM_OFFLOAD_PACKET } from './constants.js';
import { XfrmUnsupportedError } from './errors.js';
import { xfrmUsersaId } from './structs.js';

export interface KernelVersion {
  major: number;
  minor: number;
  patch: number;
}

export type XfrmCapability = 'mtimerThresh' | 'offloadPacket' | 'saDir' | 'natKeepalive' | 'saPcpu';

interface CapabilityInfo {
  /** first mainline version */
  since: [number, number];
  /** the XFRMA type a probe can test, when it is strictly validated */
  probeType?: number;
  probePayload?: Buffer;
  /** what a refusal names */
  label: string;
}

const u32Zero = (): Buffer => Buffer.alloc(4);

export const CAPABILITIES: Record<XfrmCapability, CapabilityInfo> = {
  mtimerThresh: { since: [5, 17], label: 'XFRMA_MTIMER_THRESH' },
  offloadPacket: { since: [6, 2], label: 'XFRM_OFFLOAD_PACKET' },
  // XFRM_SA_DIR_IN: a valid value, so only the NESTED flag is wrong
  saDir: { since: [6, 10], probeType: 33, probePayload: Buffer.from([1]), label: 'XFRMA_SA_DIR' },
  natKeepalive: { since: [6, 11], probeType: 34, probePayload: u32Zero(), label: 'XFRMA_NAT_KEEPALIVE_INTERVAL' },
  // 6.13 mainline; Debian backported it into 6.12 — only the probe sees that
  saPcpu: { since: [6, 13], probeType: 35, probePayload: u32Zero(), label: 'XFRMA_SA_PCPU' },
};

/** Which capability an XFRMA attribute (by table key) depends on. */
export const ATTRIBUTE_CAPABILITY: Readonly<Record<string, XfrmCapability>> = {
  mtimerThresh: 'mtimerThresh',
  saDir: 'saDir',
  natKeepaliveInterval: 'natKeepalive',
  saPcpu: 'saPcpu',
};

export interface KernelFeatures {
  /** os.release(), e.g. "6.1.0-56-amd64" */
  readonly release: string;
  readonly version: KernelVersion;
  readonly capabilities: Readonly<Record<XfrmCapability, boolean>>;
  /** how each capability was decided */
  readonly evidence: Readonly<Record<XfrmCapability, 'probe' | 'version'>>;
}

/** "6.1.0-56-amd64" -> 6.1.0, "6.18.44-fc-v595" -> 6.18.44; throws on anything else. */
export function parseKernelRelease(release: string): KernelVersion {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?/.exec(release);
  if (!m) throw new TypeError(`cannot read a kernel version from ${JSON.stringify(release)}`);
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0) };
}

const atLeast = (v: KernelVersion, [major, minor]: [number, number]): boolean => v.major > major || (v.major === major && v.minor >= minor);

/** Capabilities from the version alone (what mainline had at that version). */
export function featuresFromVersion(release: string = osRelease()): KernelFeatures {
  const version = parseKernelRelease(release);
  const capabilities = {} as Record<XfrmCapability, boolean>;
  const evidence = {} as Record<XfrmCapability, 'probe' | 'version'>;
  for (const [cap, info] of Object.entries(CAPABILITIES) as [XfrmCapability, CapabilityInfo][]) {
    capabilities[cap] = atLeast(version, info.since);
    evidence[cap] = 'version';
  }
  return { release, version, capabilities, evidence };
}

/** The GETSA probe for one attribute type (exported so the bytes can be tested). */
export function probeRequestPayload(type: number, payload: Buffer): Buffer {
  const header = xfrmUsersaId.encode({ family: AF_INET, daddr: '0.0.0.0', spi: 0, proto: 50 });
  const nla = Buffer.alloc(4 + ((payload.length + 3) & ~3));
  nla.writeUInt16LE(4 + payload.length, 0);
  nla.writeUInt16LE(type | NLA_F_NESTED, 2);
  payload.copy(nla, 4);
  return Buffer.concat([header, nla]);
}

/** Where the probe attribute starts, counted from the nlmsghdr (as ext-ack offsets are). */
export const PROBE_ATTRIBUTE_OFFSET = NLMSG_HDRLEN + xfrmUsersaId.size;

const ESRCH = 3;
const EINVAL = 22;
const GETSA = 18;

/**
 * Probes the kernel behind `requester` (a NETLINK_XFRM socket). Capabilities
 * the probe cannot decide keep their version-based answer.
 */
export async function probeKernelFeatures(requester: NetlinkRequester, release: string = osRelease()): Promise<KernelFeatures> {
  const base = featuresFromVersion(release);
  const capabilities = { ...base.capabilities };
  const evidence = { ...base.evidence };
  const probes = (Object.entries(CAPABILITIES) as [XfrmCapability, CapabilityInfo][]).filter(([, i]) => i.probeType !== undefined);
  const results = await requester.requestBatch(
    probes.map(([, i]) => ({ type: GETSA, payload: probeRequestPayload(i.probeType as number, i.probePayload as Buffer) })),
    { timeoutMs: 2000 },
  );
  probes.forEach(([cap], n) => {
    const r = results[n];
    if (!r || r.ok || !(r.error instanceof NetlinkError)) return;
    if (r.error.errno === EINVAL && r.error.offset === PROBE_ATTRIBUTE_OFFSET) {
      capabilities[cap] = true;
      evidence[cap] = 'probe';
    } else if (r.error.errno === ESRCH) {
      capabilities[cap] = false;
      evidence[cap] = 'probe';
    }
  });
  return { release, version: base.version, capabilities, evidence };
}

/** Throws XfrmUnsupportedError if `features` lacks what the attribute needs. */
export function assertAttributeSupported(features: KernelFeatures, attribute: string): void {
  const cap = ATTRIBUTE_CAPABILITY[attribute];
  if (cap) assertCapability(features, cap);
}

export function assertCapability(features: KernelFeatures, cap: XfrmCapability): void {
  if (features.capabilities[cap]) return;
  const info = CAPABILITIES[cap];
  throw new XfrmUnsupportedError(info.label, features.release, info.since.join('.'), features.evidence[cap]);
}

/** Offload flags (xfrm_user_offload.flags) the kernel must know. */
export function assertOffloadFlagsSupported(features: KernelFeatures, flags: number): void {
  if (flags & XFRM_OFFLOAD_PACKET) assertCapability(features, 'offloadPacket');
}
