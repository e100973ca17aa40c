// The numbers of the VF mailbox protocol: frame header, message types,
// refusal reasons and limits. ONE table per number space; the encoder and
// decoder (codec.ts) and docs/vf.md are written from these.

/** "IPVF" as bytes on the wire (the header's u32 is little-endian). */
export const MAILBOX_MAGIC = 0x46565049;
export const MAILBOX_VERSION = 1;
export const HEADER_SIZE = 16;
/** A frame longer than this is refused and the connection closed (a CHILD_SA with keys is ~1 KiB). */
export const MAX_FRAME = 64 * 1024;

/** Who sends a message: a VF request (answered), a PF notice (not answered), or an answer. */
export type MessageRole = 'request' | 'notice' | 'reply';

export interface MessageSpec {
  readonly type: number;
  readonly role: MessageRole;
  /** attributes that must be present (names in the top-level attribute table) */
  readonly required: readonly string[];
}

const spec = <const R extends MessageRole, const Q extends readonly string[] = []>(type: number, role: R, required?: Q): { type: number; role: R; required: Q } => ({
  type,
  role,
  required: (required ?? []) as Q,
});

/**
 * Message types. Requests go from the VF agent to the PF and are answered
 * with ok or error carrying the request's id; notices go from the PF to the
 * VF and carry id 0.
 */
export const MESSAGES = {
  /** first request on a connection: the agent's epoch (changes when the tenant reboots or its charon restarts) */
  hello: spec(1, 'request', ['epoch']),
  /** a CHILD_SA: both SAs (keys included) and its traffic selectors */
  'sa.add': spec(2, 'request', ['child']),
  /** a CHILD_SA is gone (by the tenant's CHILD_SA unique id) */
  'sa.del': spec(3, 'request', ['uniqueid']),
  heartbeat: spec(4, 'request'),
  /** the agent leaves; without `keep` its SAs are removed at once */
  bye: spec(5, 'request'),
  /** the complete list of the agent's CHILD_SAs: the PF removes the others and answers with those it lacks */
  sync: spec(6, 'request'),
  /** PF -> VF: please have charon rekey this CHILD_SA */
  rekey: spec(7, 'notice', ['uniqueid', 'rekeyReason']),
  ok: spec(128, 'reply'),
  error: spec(129, 'reply', ['reason']),
} as const satisfies Record<string, MessageSpec>;

export type MessageKind = keyof typeof MESSAGES;
export type RequestKind = { [K in MessageKind]: (typeof MESSAGES)[K]['role'] extends 'request' ? K : never }[MessageKind];

/** Why a request was refused (error.reason). */
export const REASONS = {
  /** the frame could not be decoded */
  malformed: 1,
  /** a protocol version the PF does not speak */
  version: 2,
  /** a request before hello */
  'hello-first': 3,
  /** an address or traffic selector outside the VF's allowance */
  'address-not-allowed': 4,
  /** the SA's (destination, SPI) belongs to another VF or to the host */
  'spi-collision': 5,
  /** beyond the VF's quota of SAs */
  quota: 6,
  /** something the host cannot terminate for a VF (NAT-T, transport mode, AH, IPcomp, ...) */
  unsupported: 7,
  /** the host kernel refused it (message says what) */
  kernel: 8,
  /** sa.del for a CHILD_SA the PF does not have for this VF */
  'unknown-child': 9,
  /** the CHILD_SA id is taken by a different CHILD_SA */
  duplicate: 10,
  /** this SA was installed on the host before: it is never installed again (replay state would restart); rekey it */
  retired: 11,
  /** the connection maps to no VF (refused before any request is read) */
  identity: 12,
  /** a message type the PF does not accept from a VF */
  unexpected: 13,
  /** too many requests in flight on one connection */
  busy: 14,
  internal: 15,
  /** the VF is being cleaned up (reset, reassigned) */
  resetting: 16,
} as const;

export type ReasonName = keyof typeof REASONS;

const REASON_BY_NUMBER = new Map<number, ReasonName>(Object.entries(REASONS).map(([k, v]) => [v, k as ReasonName]));

export function reasonName(n: number): ReasonName | `reason ${number}` {
  return REASON_BY_NUMBER.get(n) ?? `reason ${n}`;
}

/** Why the PF asks for a rekey (rekey.rekeyReason). */
export const REKEY_REASONS = {
  /** the host's copy reached its soft byte/packet limit (the tenant's copy carries no traffic, so its charon never sees it) */
  'soft-expire': 1,
  /** an outbound non-ESN SA nears 2^32 packets on the host */
  'seq-exhaustion': 2,
  /** the host lost the SA and must not reinstall it from the tenant's copy */
  retired: 3,
} as const;

export type RekeyReasonName = keyof typeof REKEY_REASONS;
