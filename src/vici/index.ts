// Public API of the VICI client. See docs/vici-client.md for usage.
export { ViciClient } from './client/client.js';
export type {
  ControlOptions,
  ControlResult,
  InitiateArgs,
  ListSasFilter,
  RekeyArgs,
  RekeyResult,
  TerminateArgs,
  TerminateResult,
} from './client/client.js';

export { ViciSession } from './session/session.js';
export type {
  CallOptions,
  StreamedCallOptions,
  StreamedResult,
  SubscribeOptions,
  ViciEvent,
  ViciSessionEvents,
  ViciSessionOptions,
} from './session/session.js';
export type { SubscribeResult } from './session/event-channel.js';
export type { BackoffOptions } from './session/backoff.js';
export { DEFAULT_SOCKET_PATHS, discoverSocketPath, normalizeSocketPath } from './session/socket-path.js';
export {
  ViciClosedError,
  ViciCommandError,
  ViciSocketError,
  ViciTimeoutError,
  ViciUnknownCommandError,
  ViciUnknownEventError,
} from './session/errors.js';

export { ViciMessage } from './wire/message.js';
export type { ViciList, ViciValue } from './wire/message.js';
export type { ViciInputSection, ViciInputValue, ViciScalar } from './wire/values.js';
export { decodeMessage, encodeMessage } from './wire/elements.js';
export { decodePacket, encodePacket, PacketType } from './wire/packet.js';
export type { Packet } from './wire/packet.js';
export { SegmentReader, frameSegment } from './wire/framing.js';
export { MAX_NAME_BYTES, MAX_SEGMENT_BYTES, MAX_VALUE_BYTES } from './wire/limits.js';
export { ViciEncodeError, ViciFieldError, ViciProtocolError } from './wire/errors.js';

export { parseChildSa, CHILD_SA_STATES } from './views/child-sa.js';
export type { ChildSa, ChildSaState } from './views/child-sa.js';
export { parseIkeSa, parseListSa, IKE_SA_STATES } from './views/ike-sa.js';
export type { IkeSa, IkeSaState } from './views/ike-sa.js';
export type { AdditionalKeyExchange } from './views/fields.js';
export {
  parseAlert,
  parseChildRekey,
  parseChildUpdown,
  parseIkeRekey,
  parseIkeUpdate,
  parseIkeUpdown,
  parseLog,
} from './views/events.js';
export type { Alert, ChildRekey, ChildRekeyPair, ChildUpdown, Endpoint, IkeRekey, IkeUpdate, IkeUpdown, LogEvent } from './views/events.js';
export { parseStats, parseVersion } from './views/daemon.js';
export type { Stats, Version } from './views/daemon.js';
export { parseConn, parseListConn } from './views/conn.js';
export type { AuthRound, ChildConfig, ConnConfig } from './views/conn.js';
