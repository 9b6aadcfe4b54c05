/**
 * Capabilities and `policy` shorthands of Nomad's ACL policy language, with the expansion each
 * shorthand gets when a policy is parsed. Lists follow Nomad 1.11.3 and later.
 */

/** Value of a `policy` field. `list` is valid only in `plugin`; `scale` grants nothing outside namespaces. */
export type PolicyLevel = 'deny' | 'read' | 'write' | 'scale' | 'list';

/** Levels accepted by `policy` in every block but `plugin`. */
export const POLICY_LEVELS: readonly PolicyLevel[] = ['deny', 'read', 'write', 'scale'];
/** Levels accepted by `plugin { policy = ... }`. */
export const PLUGIN_POLICY_LEVELS: readonly PolicyLevel[] = ['deny', 'read', 'list', 'write'];

const READ_JOB_CAPABILITIES = [
  'list-jobs',
  'parse-job',
  'read-job',
  'csi-list-volume',
  'csi-read-volume',
  'read-job-scaling',
  'list-scaling-policies',
  'read-scaling-policy',
  'host-volume-read',
] as const;

const WRITE_JOB_CAPABILITIES = [
  'scale-job',
  'submit-job',
  'dispatch-job',
  'read-logs',
  'read-fs',
  'alloc-exec',
  'alloc-lifecycle',
  'csi-mount-volume',
  'csi-write-volume',
  'submit-recommendation',
  'host-volume-create',
] as const;

/** Every namespace capability. */
export const NAMESPACE_CAPABILITIES = [
  'deny',
  ...READ_JOB_CAPABILITIES,
  ...WRITE_JOB_CAPABILITIES,
  'alloc-node-exec',
  'sentinel-override',
  'csi-register-plugin',
  'host-volume-register',
  'host-volume-write',
  'host-volume-delete',
  // Fine-grained job capabilities (Nomad 1.11.2), which `write` does not include.
  'register-job',
  'revert-job',
  'deregister-job',
  'purge-job',
  'evaluate-job',
  'plan-job',
  'tag-job-version',
  'stable-job',
  'fail-deployment',
  'pause-deployment',
  'promote-deployment',
  'unblock-deployment',
  'cancel-deployment',
  'set-alloc-health-deployment',
  'gc-allocation',
  'pause-allocation',
  'force-periodic-job',
  'delete-service-registration',
] as const;
export type NamespaceCapability = (typeof NAMESPACE_CAPABILITIES)[number];

export const NODE_POOL_CAPABILITIES = ['deny', 'read', 'write', 'delete'] as const;
export type NodePoolCapability = (typeof NODE_POOL_CAPABILITIES)[number];

export const HOST_VOLUME_CAPABILITIES = ['deny', 'mount-readonly', 'mount-readwrite'] as const;
export type HostVolumeCapability = (typeof HOST_VOLUME_CAPABILITIES)[number];

export const VARIABLE_CAPABILITIES = ['read', 'write', 'list', 'destroy', 'deny'] as const;
export type VariableCapability = (typeof VARIABLE_CAPABILITIES)[number];

export const OPERATOR_CAPABILITIES = [
  'deny',
  'snapshot-save',
  'license-read',
  'keyring-read',
  'keyring-rotate',
  'keyring-delete',
] as const;
export type OperatorCapability = (typeof OPERATOR_CAPABILITIES)[number];

export const SENTINEL_CAPABILITIES = ['deny', 'sentinel-read', 'sentinel-submit', 'sentinel-delete'] as const;
export type SentinelCapability = (typeof SENTINEL_CAPABILITIES)[number];

/** Capabilities that a namespace `policy` shorthand adds after the explicit ones. */
export function expandNamespacePolicy(level: PolicyLevel): NamespaceCapability[] {
  switch (level) {
    case 'deny':
      return ['deny'];
    case 'read':
      return [...READ_JOB_CAPABILITIES];
    case 'write':
      return [...READ_JOB_CAPABILITIES, ...WRITE_JOB_CAPABILITIES];
    case 'scale':
      // read-job and submit-recommendation since Nomad 1.11.1.
      return [
        'list-scaling-policies',
        'read-scaling-policy',
        'read-job-scaling',
        'scale-job',
        'read-job',
        'submit-recommendation',
      ];
    case 'list':
      return [];
  }
}

/**
 * Host volume capabilities implied by the stronger ones, one group per capability in the list, to
 * append after the `policy` expansion. Duplicates stay in the parsed policy and collapse when the
 * policy is compiled into a set.
 */
export function impliedHostVolumeCapabilities(
  capabilities: readonly NamespaceCapability[],
): NamespaceCapability[] {
  const implied: NamespaceCapability[] = [];
  for (const capability of capabilities) {
    if (capability === 'host-volume-write') {
      implied.push('host-volume-register', 'host-volume-create', 'host-volume-delete', 'host-volume-read');
    } else if (capability === 'host-volume-register') {
      implied.push('host-volume-create', 'host-volume-read');
    } else if (capability === 'host-volume-create') {
      implied.push('host-volume-read');
    }
  }
  return implied;
}

export function expandNodePoolPolicy(level: PolicyLevel): NodePoolCapability[] {
  if (level === 'deny') return ['deny'];
  if (level === 'read') return ['read'];
  if (level === 'write') return ['delete', 'read', 'write'];
  return [];
}

export function expandHostVolumePolicy(level: PolicyLevel): HostVolumeCapability[] {
  if (level === 'deny') return ['deny'];
  if (level === 'read') return ['mount-readonly'];
  if (level === 'write') return ['mount-readonly', 'mount-readwrite'];
  return [];
}

export function expandOperatorPolicy(level: PolicyLevel): OperatorCapability[] {
  if (level === 'deny') return ['deny'];
  if (level === 'read') return ['license-read', 'keyring-read'];
  if (level === 'write')
    return ['snapshot-save', 'license-read', 'keyring-rotate', 'keyring-read', 'keyring-delete'];
  return [];
}

export function expandSentinelPolicy(level: PolicyLevel): SentinelCapability[] {
  if (level === 'deny') return ['deny'];
  if (level === 'read') return ['sentinel-read'];
  if (level === 'write') return ['sentinel-read', 'sentinel-submit', 'sentinel-delete'];
  return [];
}

/**
 * Normalises a variables path rule: `deny` anywhere leaves exactly `[deny]`, and `read` without
 * `list` gains `list`. `write` implies nothing.
 */
export function expandVariableCapabilities(
  capabilities: readonly VariableCapability[],
): VariableCapability[] {
  if (capabilities.includes('deny')) return ['deny'];
  if (capabilities.includes('read') && !capabilities.includes('list')) return [...capabilities, 'list'];
  return [...capabilities];
}
