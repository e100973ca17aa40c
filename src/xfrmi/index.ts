// xfrm interfaces that follow charon's CHILD_SAs: the public API of src/xfrmi.
export { planXfrmi } from './plan.js';
export { wantedInterfaces, effectiveMetric, routeKeyText, type WantedInterface, type WantedRoute } from './desired.js';
export { xfrmiConfigSchema, xfrmiSettings, configuredTables, DEFAULT_XFRMI_CONFIG, type XfrmiConfig, type XfrmiSettings, type InterfaceSettings } from './config.js';
export { expandName, templateIfIds, templateProblems, IFNAME_MAX, type IfIdUse } from './names.js';
export { ownAlias, isOurs, isOurRoute, ROUTE_PROTOCOL } from './ownership.js';
export { applyChildRekey, applyChildUpdown, applyIkeDown, applyIkeRekey, childrenFromList, xfrmiChild, type ChildMap } from './children.js';
export { XfrmiService, type XfrmiServiceDeps } from './service.js';
export { XfrmiApplyError } from './apply.js';
export { xfrmiModule } from './module.js';
export type { XfrmiListView } from './commands.js';
export type * from './types.js';
