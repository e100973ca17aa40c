// Public surface of the XFRM layer.
export { XfrmClient, type XfrmClientOptions, type XfrmBatchResult, type XfrmDeleteResult, type SadInfo, type SpdInfo } from './client.js';
export { XfrmMonitor, ALL_MONITOR_GROUPS, type MonitorGroup, type XfrmMonitorOptions, type XfrmMonitorEvents } from './monitor.js';
export { eventFromMessage, type XfrmEvent, type XfrmEventKind, type XfrmAcquire, type XfrmMapping, type EventOrigin } from './events.js';
export {
  stateIdOf,
  describeStateId,
  stateIdToWire,
  stateFilterToWire,
  spiRequestToWire,
  type XfrmStateId,
  type XfrmStateFilter,
  type XfrmSpiRequest,
} from './state-requests.js';
export {
  makeState,
  stateToWire,
  stateFromWire,
  wipeStateKeys,
  type XfrmState,
  type XfrmStateInput,
  type XfrmAlgorithm,
  type XfrmAuthAlgorithm,
  type XfrmAeadAlgorithm,
  type XfrmEncap,
  type XfrmOffload,
  type XfrmReplay,
  type XfrmEsn,
  type XfrmStats,
} from './state.js';
export {
  makePolicy,
  template,
  policyIdOf,
  describePolicyId,
  policyToWire,
  policyFromWire,
  policyIdToWire,
  type XfrmPolicy,
  type XfrmPolicyInput,
  type XfrmPolicyId,
  type XfrmTemplate,
} from './policy.js';
export { aeIdToWire, aeUpdateToWire, aeFromWire, type XfrmAe, type XfrmAeId, type XfrmAeUpdate } from './ae.js';
export {
  selector,
  EMPTY_SELECTOR,
  NO_LIMITS,
  type AddressFamily,
  type XfrmSelector,
  type XfrmLifetimeConfig,
  type XfrmLifetimeCurrent,
  type XfrmMark,
} from './model.js';
export {
  featuresFromVersion,
  probeKernelFeatures,
  parseKernelRelease,
  assertCapability,
  type KernelFeatures,
  type KernelVersion,
  type XfrmCapability,
} from './features.js';
export { XfrmUnsupportedError, XfrmModelError, XfrmFinalStateUnavailableError, XfrmProtocolError } from './errors.js';
export { XFRM_MESSAGES, encodeXfrm, decodeXfrm, decodeAnyXfrm, xfrmDescriber, type XfrmMessageKind, type DecodedXfrm, type AnyDecodedXfrm } from './messages.js';
export { xfrmAttrs, type XfrmAttrInput, type XfrmAttrValues } from './attributes.js';
export * from './constants.js';
