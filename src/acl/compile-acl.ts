import { Acl, type MergedLevel } from './acl.js';
import type {
  HostVolumeCapability,
  NamespaceCapability,
  NodePoolCapability,
  OperatorCapability,
  PolicyLevel,
  SentinelCapability,
  VariableCapability,
} from './capabilities.js';
import { addLabelCapabilities, addWithStickyDeny, CapabilityTable } from './capability-table.js';
import type { Policy } from './policy.js';
import { VariableTable, variableRuleKey } from './variable-table.js';

/**
 * Compiles parsed policies into one ACL. Namespaces, node pools and host volumes union their
 * capabilities per label with a sticky deny. Variables rules union per namespace and path with no
 * sticky deny, so a deny there wins only by being the closest rule. Agent, node, operator, quota,
 * plugin and sentinel levels merge to the strongest: deny, then write, read, list.
 *
 * No policies compile to an ACL that denies everything, never to one that allows everything: a
 * workload without policies must not be treated as if ACLs were off (Nomad's CVE-2023-1299).
 */
export function compileAcl(policies: readonly Policy[]): Acl {
  const namespaces = new Map<string, Set<NamespaceCapability>>();
  const nodePools = new Map<string, Set<NodePoolCapability>>();
  const hostVolumes = new Map<string, Set<HostVolumeCapability>>();
  const variables = new Map<string, { namespace: string; path: string; set: Set<VariableCapability> }>();
  const operatorCapabilities = new Set<OperatorCapability>();
  const sentinelCapabilities = new Set<SentinelCapability>();
  let agent: MergedLevel = null;
  let node: MergedLevel = null;
  let operator: MergedLevel = null;
  let quota: MergedLevel = null;
  let plugin: MergedLevel = null;
  let sentinel: MergedLevel = null;

  for (const policy of policies) {
    for (const rule of policy.namespaces) {
      addLabelCapabilities(namespaces, rule.label, rule.capabilities);
      for (const { path, capabilities } of rule.variables) {
        const key = variableRuleKey(rule.label, path);
        let entry = variables.get(key);
        if (entry === undefined) {
          entry = { namespace: rule.label, path, set: new Set() };
          variables.set(key, entry);
        }
        // Deny is sticky here too, as for namespaces: Nomad unions variable capabilities, so a
        // deny in one policy and a read in another on the same path allowed the read. Signet
        // lets the deny win, the stricter reading of "deny wins".
        if (entry.set.has('deny')) continue;
        if (capabilities.includes('deny')) {
          entry.set.clear();
          entry.set.add('deny');
          continue;
        }
        for (const capability of capabilities) entry.set.add(capability);
      }
    }
    for (const rule of policy.nodePools) addLabelCapabilities(nodePools, rule.label, rule.capabilities);
    for (const rule of policy.hostVolumes) addLabelCapabilities(hostVolumes, rule.label, rule.capabilities);

    agent = maxPrivilege(agent, policy.agent?.policy);
    node = maxPrivilege(node, policy.node?.policy);
    quota = maxPrivilege(quota, policy.quota?.policy);
    plugin = maxPrivilege(plugin, policy.plugin?.policy);
    if (policy.operator !== null) {
      operator = maxPrivilege(operator, policy.operator.policy);
      addWithStickyDeny(operatorCapabilities, policy.operator.capabilities);
    }
    if (policy.sentinel !== null) {
      sentinel = maxPrivilege(sentinel, policy.sentinel.policy);
      addWithStickyDeny(sentinelCapabilities, policy.sentinel.capabilities);
    }
  }

  return new Acl(false, {
    namespaces: new CapabilityTable(namespaces),
    nodePools: new CapabilityTable(nodePools),
    hostVolumes: new CapabilityTable(hostVolumes),
    variables: new VariableTable(variables),
    agent,
    node,
    operator,
    quota,
    plugin,
    sentinel,
    operatorCapabilities,
    sentinelCapabilities,
  });
}

/** Every check passes: the ACL of a management token. */
export const MANAGEMENT_ACL: Acl = new Acl(true, {
  namespaces: new CapabilityTable(new Map()),
  nodePools: new CapabilityTable(new Map()),
  hostVolumes: new CapabilityTable(new Map()),
  variables: new VariableTable(new Map()),
  agent: null,
  node: null,
  operator: null,
  quota: null,
  plugin: null,
  sentinel: null,
  operatorCapabilities: new Set(),
  sentinelCapabilities: new Set(),
});

/** Merges two levels as Nomad's maxPrivilege: deny, then write, read, list. Other levels merge to null. */
export function maxPrivilege(a: MergedLevel, b: PolicyLevel | null | undefined): MergedLevel {
  if (a === 'deny' || b === 'deny') return 'deny';
  if (a === 'write' || b === 'write') return 'write';
  if (a === 'read' || b === 'read') return 'read';
  if (a === 'list' || b === 'list') return 'list';
  return null;
}
