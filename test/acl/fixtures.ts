/** Expanded capability lists of the namespace shorthands, as Nomad's parser tests assert them. */
export const READ_EXPANSION = [
  'list-jobs',
  'parse-job',
  'read-job',
  'csi-list-volume',
  'csi-read-volume',
  'read-job-scaling',
  'list-scaling-policies',
  'read-scaling-policy',
  'host-volume-read',
];

export const WRITE_EXPANSION = [
  ...READ_EXPANSION,
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
  // Implied by host-volume-create, appended after the expansion.
  'host-volume-read',
];

export const SCALE_EXPANSION = [
  'list-scaling-policies',
  'read-scaling-policy',
  'read-job-scaling',
  'scale-job',
  'read-job',
  'submit-recommendation',
];

/** Every block of the language at least once (case P2 of Nomad's parser tests). */
export const BIG_POLICY_HCL = `
namespace "default" {
  policy = "read"
}
namespace "other" {
  policy = "write"
}
namespace "secret" {
  capabilities = ["deny", "read-logs"]
}
namespace "apps" {
  variables {
    path "jobs/write-does-not-imply-read-or-delete" {
      capabilities = ["write"]
    }
    path "project/read-implies-list" {
      capabilities = ["read"]
    }
    path "project/explicit" {
      capabilities = ["read", "list", "destroy"]
    }
  }
}
namespace "autoscaler" {
  policy = "scale"
}
host_volume "production-tls-*" {
  capabilities = ["mount-readonly"]
}
host_volume "staging-tls-*" {
  policy = "write"
}
node_pool "prod" {
  capabilities = ["read"]
}
node_pool "dev" {
  policy = "write"
}
agent {
  policy = "read"
}
node {
  policy = "write"
}
operator {
  policy = "deny"
}
sentinel {
  policy       = "read"
  capabilities = ["sentinel-delete"]
}
quota {
  policy = "read"
}
plugin {
  policy = "read"
}
`;

/** The same policy in the JSON form (case P3), without sentinel. */
export const BIG_POLICY_JSON = JSON.stringify({
  namespace: [
    { default: { policy: 'read' } },
    { other: { policy: 'write' } },
    { secret: { capabilities: ['deny', 'read-logs'] } },
    {
      apps: {
        variables: [
          {
            path: [
              { 'jobs/write-does-not-imply-read-or-delete': { capabilities: ['write'] } },
              { 'project/read-implies-list': { capabilities: ['read'] } },
              { 'project/explicit': { capabilities: ['read', 'list', 'destroy'] } },
            ],
          },
        ],
      },
    },
    { autoscaler: { policy: 'scale' } },
  ],
  host_volume: [
    { 'production-tls-*': { capabilities: ['mount-readonly'] } },
    { 'staging-tls-*': { policy: 'write' } },
  ],
  node_pool: [{ prod: { capabilities: ['read'] } }, { dev: { policy: 'write' } }],
  agent: { policy: 'read' },
  node: { policy: 'write' },
  operator: { policy: 'deny' },
  quota: { policy: 'read' },
  plugin: { policy: 'read' },
});
