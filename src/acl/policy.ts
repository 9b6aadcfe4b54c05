import type {
  HostVolumeCapability,
  NamespaceCapability,
  NodePoolCapability,
  OperatorCapability,
  PolicyLevel,
  SentinelCapability,
  VariableCapability,
} from './capabilities.js';

/**
 * One parsed ACL policy document. Capability lists are expanded (explicit capabilities first, then
 * the `policy` shorthand's, then the implied ones) and keep duplicates. They collapse into sets
 * only when policies are compiled into an ACL.
 */
export interface Policy {
  readonly namespaces: readonly NamespaceRule[];
  readonly nodePools: readonly NodePoolRule[];
  readonly hostVolumes: readonly HostVolumeRule[];
  readonly agent: LevelRule | null;
  readonly node: LevelRule | null;
  readonly operator: OperatorRule | null;
  readonly quota: LevelRule | null;
  readonly plugin: LevelRule | null;
  readonly sentinel: SentinelRule | null;
}

/** `namespace "LABEL" { ... }`. The label is a namespace name or a glob with `*`. */
export interface NamespaceRule {
  readonly label: string;
  /** The `policy` shorthand as written, or null when the block has none. */
  readonly policy: PolicyLevel | null;
  readonly capabilities: readonly NamespaceCapability[];
  /** `path` rules of the `variables` block, in the order written. */
  readonly variables: readonly VariableRule[];
}

/** `path "PATH" { capabilities = [...] }` inside `variables`. The path may contain `*`. */
export interface VariableRule {
  readonly path: string;
  readonly capabilities: readonly VariableCapability[];
}

export interface NodePoolRule {
  readonly label: string;
  readonly policy: PolicyLevel | null;
  readonly capabilities: readonly NodePoolCapability[];
}

export interface HostVolumeRule {
  readonly label: string;
  readonly policy: PolicyLevel | null;
  readonly capabilities: readonly HostVolumeCapability[];
}

/** A block with a `policy` level and no capabilities: agent, node, quota, plugin. */
export interface LevelRule {
  readonly policy: PolicyLevel;
}

export interface OperatorRule {
  readonly policy: PolicyLevel | null;
  readonly capabilities: readonly OperatorCapability[];
}

export interface SentinelRule {
  readonly policy: PolicyLevel | null;
  readonly capabilities: readonly SentinelCapability[];
}

/** The policy of empty rules text: valid, and grants nothing. */
export const EMPTY_POLICY: Policy = Object.freeze({
  namespaces: Object.freeze([]),
  nodePools: Object.freeze([]),
  hostVolumes: Object.freeze([]),
  agent: null,
  node: null,
  operator: null,
  quota: null,
  plugin: null,
  sentinel: null,
});
