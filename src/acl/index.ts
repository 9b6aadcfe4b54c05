export { Acl, type AclRules, type MergedLevel } from './acl.js';
export {
  HOST_VOLUME_CAPABILITIES,
  type HostVolumeCapability,
  NAMESPACE_CAPABILITIES,
  type NamespaceCapability,
  NODE_POOL_CAPABILITIES,
  type NodePoolCapability,
  OPERATOR_CAPABILITIES,
  type OperatorCapability,
  type PolicyLevel,
  SENTINEL_CAPABILITIES,
  type SentinelCapability,
  VARIABLE_CAPABILITIES,
  type VariableCapability,
} from './capabilities.js';
export { compileAcl, MANAGEMENT_ACL } from './compile-acl.js';
export { Glob } from './glob.js';
export { type JobAcl, jobAclApplies, selectWorkloadPolicies, validateJobAcl } from './job-acl.js';
export { parsePolicy } from './parse-policy.js';
export type {
  HostVolumeRule,
  LevelRule,
  NamespaceRule,
  NodePoolRule,
  OperatorRule,
  Policy,
  SentinelRule,
  VariableRule,
} from './policy.js';
export { PolicyError, type PolicyErrorCode } from './policy-error.js';
export type { PolicyParseMode } from './policy-fields.js';
export { PolicyParserError, type PolicyParserErrorCode } from './policy-parser-error.js';
export {
  DEFAULT_PARSE_TIMEOUT_MS,
  PolicyParserThread,
  type PolicyParserThreadOptions,
  parsePolicyOffThread,
} from './policy-parser-thread.js';
export { isImplicitWorkloadPath, type WorkloadScope } from './workload-scope.js';
