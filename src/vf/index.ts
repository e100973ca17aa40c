// The VF proxy (issue 9): the mailbox protocol, the PF service, the VF agent
// and their daemon modules. See docs/vf.md.
export * from './protocol/index.js';
export { pfConfigSchema, vfAgentConfigSchema, roleSchema, roleProblems, type PfConfig, type PfVfConfig, type VfAgentConfig, type Role } from './config.js';
export { PfService, VfNotFoundError, type PfServiceDeps, type OffloadHooks, type VfRow, type VfListView } from './pf/service.js';
export { authorizeChild, hostState, hostPolicy, selectorPairs, portMask, type VfAllowance, type Authorization } from './pf/host-child.js';
export { identify, describePeer, type PeerFacts, type IdentityRule, type NsId } from './pf/identity.js';
export { settingsChange, staleNow, type VfSettings, type Phase, type Liveness, type ResetReason, type StaleReason } from './pf/triggers.js';
export { OwnershipStore, OwnershipStoreError } from './pf/store.js';
export { emptyOwnership, type Ownership, type OwnedChild, type OwnedSa, type OwnedPolicy } from './pf/ownership.js';
export { MailboxListeners, MailboxListenError } from './pf/listeners.js';
export { VfAgent, type AgentView } from './agent/agent.js';
export { MailboxClient, MailboxRefusedError, MailboxClosedError } from './agent/client.js';
export { parseTs, parseNameFiles } from './agent/selectors.js';
export { epochOf } from './agent/epoch.js';
export { registerPfCommands, registerAgentCommands, type VfListResult } from './commands.js';
export { pfModule, vfModule } from './module.js';
