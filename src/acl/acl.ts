import type {
  HostVolumeCapability,
  NamespaceCapability,
  NodePoolCapability,
  OperatorCapability,
  SentinelCapability,
  VariableCapability,
} from './capabilities.js';
import type { CapabilityTable } from './capability-table.js';
import type { VariableTable } from './variable-table.js';
import { isImplicitWorkloadPath, type WorkloadScope } from './workload-scope.js';

/**
 * Level of an agent, node, operator, quota, plugin or sentinel rule after policies merge. It is
 * null when no policy grants one, and a `scale` level merges to null too.
 */
export type MergedLevel = 'deny' | 'write' | 'read' | 'list' | null;

/** Compiled rules of an `Acl`, as `compileAcl` builds them. */
export interface AclRules {
  readonly namespaces: CapabilityTable<NamespaceCapability>;
  readonly nodePools: CapabilityTable<NodePoolCapability>;
  readonly hostVolumes: CapabilityTable<HostVolumeCapability>;
  readonly variables: VariableTable;
  readonly agent: MergedLevel;
  readonly node: MergedLevel;
  readonly operator: MergedLevel;
  readonly quota: MergedLevel;
  readonly plugin: MergedLevel;
  readonly sentinel: MergedLevel;
  readonly operatorCapabilities: ReadonlySet<OperatorCapability>;
  readonly sentinelCapabilities: ReadonlySet<SentinelCapability>;
}

/** Read and list, never write or destroy: what a workload gets on its own `nomad/jobs/...` paths. */
const IMPLICIT_WORKLOAD_CAPABILITIES: ReadonlySet<VariableCapability> = new Set(['read', 'list']);

/**
 * The decision object of one token or workload identity: its policies compiled once, then asked
 * many times. Checks read maps and pre-sorted glob lists and never parse or sort.
 */
export class Acl {
  readonly #management: boolean;
  readonly #rules: AclRules;

  /** Use `compileAcl` or `MANAGEMENT_ACL` rather than this constructor. */
  constructor(management: boolean, rules: AclRules) {
    this.#management = management;
    this.#rules = rules;
  }

  isManagement(): boolean {
    return this.#management;
  }

  /**
   * Tests whether the namespace grants anything but deny. For `*` (all namespaces), whether any
   * namespace rule does.
   */
  allowNamespace(namespace: string): boolean {
    if (this.#management) return true;
    if (namespace === '*' && this.#rules.namespaces.some(grantsAnything)) return true;
    const set = this.#rules.namespaces.lookup(namespace);
    return set !== undefined && grantsAnything(set);
  }

  /** Tests a namespace capability. For `*` (all namespaces), whether any namespace rule grants it. */
  allowNamespaceOperation(namespace: string, capability: NamespaceCapability): boolean {
    if (this.#management) return true;
    if (namespace === '*' && this.#rules.namespaces.some((set) => set.has(capability))) return true;
    return this.#rules.namespaces.lookup(namespace)?.has(capability) ?? false;
  }

  allowNodePool(pool: string): boolean {
    if (this.#management) return true;
    const set = this.#rules.nodePools.lookup(pool);
    return set !== undefined && grantsAnything(set);
  }

  allowNodePoolOperation(pool: string, capability: NodePoolCapability): boolean {
    if (this.#management) return true;
    return this.#rules.nodePools.lookup(pool)?.has(capability) ?? false;
  }

  allowHostVolume(volume: string): boolean {
    if (this.#management) return true;
    const set = this.#rules.hostVolumes.lookup(volume);
    return set !== undefined && grantsAnything(set);
  }

  allowHostVolumeOperation(volume: string, capability: HostVolumeCapability): boolean {
    if (this.#management) return true;
    return this.#rules.hostVolumes.lookup(volume)?.has(capability) ?? false;
  }

  /**
   * Tests a variables capability on one path. The first of these that applies decides, with no
   * merging between them:
   * 1. a rule for exactly this namespace and path, even one that denies,
   * 2. for a workload in this namespace, read and list on its own `nomad/jobs` paths,
   * 3. the closest glob rule.
   * So a glob deny such as `nomad/jobs/*` cannot take away a workload's implicit access, but an
   * exact deny can. `namespace` and `path` are literal: a `*` in them matches only a `*`.
   */
  allowVariableOperation(
    namespace: string,
    path: string,
    capability: VariableCapability,
    workload: WorkloadScope | null,
  ): boolean {
    if (this.#management) return true;
    const variables = this.#rules.variables;
    let set = variables.exact(namespace, path);
    if (set === undefined && workload !== null && workload.namespace === namespace) {
      if (isImplicitWorkloadPath(path, workload)) set = IMPLICIT_WORKLOAD_CAPABILITIES;
    }
    set ??= variables.closestGlob(namespace, path);
    return set?.has(capability) ?? false;
  }

  /**
   * Tests loosely whether a variables search may run, before its results are checked one by one.
   * For `*`, whether any variables rule exists. Otherwise, whether a rule's `NAMESPACE\0PATH` key
   * starts with `namespace`: a raw prefix, as in Nomad, so `prod` also finds rules of
   * `production`, and a glob namespace such as `*` does not count for `prod`.
   */
  allowVariableSearch(namespace: string): boolean {
    if (this.#management) return true;
    if (namespace === '*') return this.#rules.variables.size > 0;
    return this.#rules.variables.hasKeyWithPrefix(namespace);
  }

  agentRead(): boolean {
    return this.#management || isReadOrWrite(this.#rules.agent);
  }

  agentWrite(): boolean {
    return this.#management || this.#rules.agent === 'write';
  }

  nodeRead(): boolean {
    return this.#management || isReadOrWrite(this.#rules.node);
  }

  nodeWrite(): boolean {
    return this.#management || this.#rules.node === 'write';
  }

  operatorRead(): boolean {
    return this.#management || isReadOrWrite(this.#rules.operator);
  }

  operatorWrite(): boolean {
    return this.#management || this.#rules.operator === 'write';
  }

  /** Tests one operator capability: granted by `policy = "write"` or by the capability itself. */
  operatorOperation(capability: OperatorCapability): boolean {
    if (this.#management || this.#rules.operator === 'write') return true;
    return this.#rules.operatorCapabilities.has(capability);
  }

  quotaRead(): boolean {
    return this.#management || isReadOrWrite(this.#rules.quota);
  }

  quotaWrite(): boolean {
    return this.#management || this.#rules.quota === 'write';
  }

  /** As in Nomad, only `read` grants this; `write` does not. */
  pluginRead(): boolean {
    return this.#management || this.#rules.plugin === 'read';
  }

  pluginList(): boolean {
    return this.#management || this.#rules.plugin === 'read' || this.#rules.plugin === 'list';
  }

  /** Tests one sentinel capability: granted by `policy = "write"` or by the capability itself. */
  sentinelOperation(capability: SentinelCapability): boolean {
    if (this.#management || this.#rules.sentinel === 'write') return true;
    return this.#rules.sentinelCapabilities.has(capability);
  }
}

function grantsAnything(set: ReadonlySet<string>): boolean {
  return set.size > 0 && !set.has('deny');
}

function isReadOrWrite(level: MergedLevel): boolean {
  return level === 'read' || level === 'write';
}
