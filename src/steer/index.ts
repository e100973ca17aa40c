// XDP VLAN/MAC steering, ESP-aware: the public API of src/steer.
export { Steering, SteerReader, SteerUsageError, detachSteering, inspectSteering } from './steering.js';
export type { SteerAttachReport, SteerDetachReport, SteerReconcileReport, SteerTarget, SteeringOptions } from './steering.js';
export type { SteerDesired, SteerEspSpec, SteerFdbSpec, SteerPortSpec } from './desired.js';
export type { SteerEspView, SteerFdbView, SteerListView, SteerPortView, SteerProgramView, SteerStatusView } from './views.js';
export { planSteer, OP_ORDER, type SteerOp, type SteerPlan } from './plan.js';
export { SteerApplyError, type AppliedOp } from './apply.js';
export { steeringFromVfs, type VfSteering, type VfSteeringInfo, type VfSkip } from './vf.js';
export { desiredFromConfig, steerConfigSchema, steerUplinkSchema, type SteerConfig, type SteerUplinkConfig } from './config.js';
export { enforceVlanOffload, vlanOffloadAction, VlanOffloadError } from './vlan-offload.js';
export type { VlanOffloadAction, VlanOffloadControl, VlanOffloadPolicy, VlanOffloadReport } from './vlan-offload.js';
export {
  SteerBpfError,
  SteerConflictError,
  SteerDeviceError,
  SteerInvalidError,
  SteerNotFoundError,
  SteerPinError,
  type SteerIssue,
} from './errors.js';
export { DEFAULT_PIN_ROOT } from './object.js';
