import type { PolicyErrorCode } from '../../src/acl/index.js';

export interface ErrorCase {
  readonly name: string;
  readonly rules: string;
  readonly code: PolicyErrorCode;
  readonly field: string;
  readonly value?: string;
  /** Nomad's fragment that the message keeps. */
  readonly fragment: string;
}

/** Rules that both modes reject, with the error expected (Nomad's parser test cases by number). */
export const ERROR_CASES: readonly ErrorCase[] = [
  {
    name: 'P4 invalid namespace policy',
    rules: 'namespace "default" { policy = "foo" }',
    code: 'INVALID_POLICY',
    field: 'namespace "default".policy',
    value: 'foo',
    fragment: 'Invalid namespace policy',
  },
  {
    name: 'P5 namespace without label',
    rules: 'namespace { policy = "read" }',
    code: 'INVALID_NAME',
    field: 'namespace',
    value: '',
    fragment: 'Invalid namespace name',
  },
  {
    name: 'P5 unlabeled namespace beside a labeled one',
    rules: 'namespace "default" { policy = "read" }\nnamespace { policy = "write" }',
    code: 'INVALID_NAME',
    field: 'namespace',
    value: '',
    fragment: 'Invalid namespace name',
  },
  {
    name: 'P6 JSON empty namespace label',
    rules: '{"namespace":[{"":{"policy":"read"}}]}',
    code: 'INVALID_NAME',
    field: 'namespace ""',
    value: '',
    fragment: 'Invalid namespace name',
  },
  {
    name: 'P7 variables without paths',
    rules: 'namespace "dev" { variables "*" { capabilities = ["read", "write"] } }',
    code: 'INVALID_VARIABLE_PATH',
    field: 'namespace "dev".variables',
    fragment: 'Invalid variable policy: no variable paths in namespace dev',
  },
  {
    name: 'P8 leading slash',
    rules: 'namespace "dev" { variables { path "/nomad/job" { capabilities = ["read"] } } }',
    code: 'INVALID_VARIABLE_PATH',
    field: 'namespace "dev".variables.path "/nomad/job"',
    value: '/nomad/job',
    fragment: `Invalid variable path "/nomad/job" in namespace dev: cannot start with a leading '/'`,
  },
  {
    name: 'P9 unlabeled path beside a labeled one',
    rules: 'namespace "dev" { variables {\n path {}\n path "system/*" { capabilities = ["read"] }\n } }',
    code: 'INVALID_VARIABLE_PATH',
    field: 'namespace "dev".variables.path',
    fragment: 'Invalid missing variable path in namespace dev',
  },
  {
    name: 'P9 unlabeled path alone',
    rules: 'namespace "dev" { variables { path { capabilities = ["read"] } } }',
    code: 'INVALID_VARIABLE_PATH',
    field: 'namespace "dev".variables.path',
    fragment: 'Invalid missing variable path in namespace dev',
  },
  {
    name: 'P10 JSON paths key',
    rules: '{"namespace":[{"dev":{"variables":[{"paths":[{"a/*":{"capabilities":["read"]}}]}]}}]}',
    code: 'INVALID_VARIABLE_PATH',
    field: 'namespace "dev".variables',
    fragment: 'no variable paths in namespace dev',
  },
  {
    name: 'P11 invalid namespace capability',
    rules: 'namespace "default" { capabilities = ["deny", "foo"] }',
    code: 'INVALID_CAPABILITY',
    field: 'namespace "default".capabilities',
    value: 'foo',
    fragment: 'Invalid namespace capability',
  },
  {
    name: 'P12 empty unlabeled namespace',
    rules: 'namespace {}',
    code: 'INVALID_NAME',
    field: 'namespace',
    fragment: 'invalid acl policy',
  },
  {
    name: 'P13 invalid agent policy',
    rules: 'agent { policy = "foo" }',
    code: 'INVALID_POLICY',
    field: 'agent.policy',
    value: 'foo',
    fragment: 'Invalid agent policy',
  },
  {
    name: 'P14 invalid node policy',
    rules: 'node { policy = "foo" }',
    code: 'INVALID_POLICY',
    field: 'node.policy',
    value: 'foo',
    fragment: 'Invalid node policy',
  },
  {
    name: 'P15 invalid operator policy',
    rules: 'operator { policy = "foo" }',
    code: 'INVALID_POLICY',
    field: 'operator.policy',
    value: 'foo',
    fragment: 'Invalid operator policy',
  },
  {
    name: 'P16 invalid quota policy',
    rules: 'quota { policy = "foo" }',
    code: 'INVALID_POLICY',
    field: 'quota.policy',
    value: 'foo',
    fragment: 'Invalid quota policy',
  },
  {
    name: 'P17 whole policy object',
    rules: '{"Name":"my-policy","Description":"read only","Rules":"anything"}',
    code: 'NO_RULES',
    field: '',
    value: 'Description, Name, Rules',
    fragment: 'Invalid policy',
  },
  {
    name: 'P18 namespace with a space',
    rules: 'namespace "has a space" { policy = "read" }',
    code: 'INVALID_NAME',
    field: 'namespace "has a space"',
    value: 'has a space',
    fragment: 'Invalid namespace name',
  },
  {
    name: 'namespace with an underscore',
    rules: 'namespace "my_ns" { policy = "read" }',
    code: 'INVALID_NAME',
    field: 'namespace "my_ns"',
    value: 'my_ns',
    fragment: 'Invalid namespace name',
  },
  {
    name: 'namespace of 129 characters',
    rules: `namespace "${'a'.repeat(129)}" { policy = "read" }`,
    code: 'INVALID_NAME',
    field: `namespace "${'a'.repeat(129)}"`,
    value: 'a'.repeat(129),
    fragment: 'Invalid namespace name',
  },
  {
    name: 'P22 empty node pool label',
    rules: 'node_pool "" { policy = "read" }',
    code: 'INVALID_NAME',
    field: 'node_pool ""',
    value: '',
    fragment: 'Invalid node pool name',
  },
  {
    name: 'P22 node pool with a percent sign',
    rules: 'node_pool "pool%" { policy = "read" }',
    code: 'INVALID_NAME',
    field: 'node_pool "pool%"',
    value: 'pool%',
    fragment: 'Invalid node pool name',
  },
  {
    name: 'P22 node pool without label',
    rules: 'node_pool {}',
    code: 'INVALID_NAME',
    field: 'node_pool',
    value: '',
    fragment: 'Invalid node pool name',
  },
  {
    name: 'P22 JSON empty node pool label',
    rules: '{"node_pool":[{"":{"policy":"read"}}]}',
    code: 'INVALID_NAME',
    field: 'node_pool ""',
    value: '',
    fragment: 'Invalid node pool name',
  },
  {
    name: 'P23 invalid node pool capability',
    rules: 'node_pool "default" { capabilities = ["read", "invalid"] }',
    code: 'INVALID_CAPABILITY',
    field: 'node_pool "default".capabilities',
    value: 'invalid',
    fragment: 'Invalid node pool capability',
  },
  {
    name: 'P25 host volume with a space',
    rules: 'host_volume "volume has a space" { policy = "read" }',
    code: 'INVALID_NAME',
    field: 'host_volume "volume has a space"',
    value: 'volume has a space',
    fragment: 'Invalid host volume name',
  },
  {
    name: 'P25 host volume without label',
    rules: 'host_volume {}',
    code: 'INVALID_NAME',
    field: 'host_volume',
    value: '',
    fragment: 'Invalid host volume name',
  },
  {
    name: 'P25 JSON empty host volume label',
    rules: '{"host_volume":[{"":{"policy":"read"}}]}',
    code: 'INVALID_NAME',
    field: 'host_volume ""',
    value: '',
    fragment: 'Invalid host volume name',
  },
  {
    name: 'invalid host volume capability',
    rules: 'host_volume "shared" { capabilities = ["mount"] }',
    code: 'INVALID_CAPABILITY',
    field: 'host_volume "shared".capabilities',
    value: 'mount',
    fragment: 'Invalid host volume capability',
  },
  {
    name: 'P27 invalid plugin policy',
    rules: 'plugin { policy = "reader" }',
    code: 'INVALID_POLICY',
    field: 'plugin.policy',
    value: 'reader',
    fragment: 'Invalid plugin policy',
  },
  {
    name: 'P31 plugin policy invalid',
    rules: 'plugin { policy = "invalid" }',
    code: 'INVALID_POLICY',
    field: 'plugin.policy',
    value: 'invalid',
    fragment: 'Invalid plugin policy',
  },
  {
    name: 'P28 invalid sentinel policy',
    rules: 'sentinel { policy = "invalid" }',
    code: 'INVALID_POLICY',
    field: 'sentinel.policy',
    value: 'invalid',
    fragment: 'Invalid sentinel policy',
  },
  {
    name: 'P28 invalid sentinel capability',
    rules: 'sentinel { capabilities = ["invalid-capability"] }',
    code: 'INVALID_CAPABILITY',
    field: 'sentinel.capabilities',
    value: 'invalid-capability',
    fragment: 'Invalid sentinel capability',
  },
  {
    name: 'P29 invalid escape in a label',
    rules: 'namespace "\\500" {}',
    code: 'MALFORMED',
    field: '',
    fragment: 'invalid acl policy',
  },
  {
    name: 'invalid operator capability',
    rules: 'operator { capabilities = ["license-write"] }',
    code: 'INVALID_CAPABILITY',
    field: 'operator.capabilities',
    value: 'license-write',
    fragment: 'Invalid operator capability',
  },
  {
    name: 'invalid variable capability',
    rules: 'namespace "dev" { variables { path "a" { capabilities = ["update"] } } }',
    code: 'INVALID_CAPABILITY',
    field: 'namespace "dev".variables.path "a".capabilities',
    value: 'update',
    fragment: 'Invalid variable capability',
  },
  {
    name: 'agent without policy',
    rules: 'agent {}',
    code: 'INVALID_POLICY',
    field: 'agent.policy',
    fragment: 'Invalid agent policy',
  },
  {
    name: 'operator with neither policy nor capabilities',
    rules: 'operator {}',
    code: 'INVALID_POLICY',
    field: 'operator.policy',
    fragment: 'Invalid operator policy',
  },
  {
    name: 'list level outside plugin',
    rules: 'node { policy = "list" }',
    code: 'INVALID_POLICY',
    field: 'node.policy',
    value: 'list',
    fragment: 'Invalid node policy',
  },
  {
    name: 'policy that is not a string',
    rules: 'namespace "dev" { policy = ["read"] }',
    code: 'MALFORMED',
    field: 'namespace "dev".policy',
    fragment: 'invalid acl policy',
  },
  {
    name: 'capabilities that are not a list',
    rules: 'namespace "dev" { capabilities = "read-job" }',
    code: 'INVALID_CAPABILITY',
    field: 'namespace "dev".capabilities',
    fragment: 'invalid acl policy',
  },
  {
    name: 'namespace that is not a block',
    rules: 'namespace = "dev"',
    code: 'MALFORMED',
    field: 'namespace',
    fragment: 'invalid acl policy',
  },
  {
    name: 'HCL syntax error',
    rules: 'namespace "a" {\n  policy = "read"\n  capabilities = ["read-job"\n}',
    code: 'SYNTAX',
    field: '',
    fragment: 'Failed to parse ACL Policy: At 4:2:',
  },
  {
    name: 'bare word value',
    rules: 'namespace "a" { policy = read }',
    code: 'SYNTAX',
    field: '',
    fragment: 'Failed to parse ACL Policy: At 1:26:',
  },
  {
    name: 'only unknown blocks',
    rules: 'bogus { policy = "read" }',
    code: 'NO_RULES',
    field: '',
    value: 'bogus',
    fragment: 'Invalid policy',
  },
  {
    name: 'whitespace only',
    rules: '  \n',
    code: 'NO_RULES',
    field: '',
    value: '',
    fragment: 'Invalid policy',
  },
];

/** Case P30: unknown blocks, repeated singletons, and blocks that may repeat. */
export const UNKNOWN_AND_DUPLICATE_KEYS = `
namespace "foo" {
  policy = "write"
  variables {
    path "project/*" { capabilities = ["read", "write"] }
  }
}
namespace "bar" {
  policy = "write"
  variables {
    path "system/*" { capabilities = ["read", "write"] }
  }
}
bogus { policy = "read" }
anotherbogus { policy = "write" }
node { policy = "read" }
node { policy = "write" }
agent { policy = "read" }
agent { policy = "write" }
operator { policy = "read" }
operator { policy = "write" }
quota { policy = "read" }
quota { policy = "write" }
host_volume "volume-read-only" { policy = "read" }
host_volume "volume-read-write" { policy = "write" }
plugin { policy = "read" }
plugin { policy = "write" }
node_pool "pool-read-only" { policy = "read" }
node_pool "pool-read-write" { policy = "write" }
`;

/** Rules that strict mode rejects and lenient mode accepts, with the field strict mode names. */
export const UNKNOWN_INNER_KEY_CASES: readonly (readonly [rules: string, field: string])[] = [
  ['namespace "dev" { polcy = "read" }', 'namespace "dev".polcy'],
  [
    'namespace "dev" { variables { path "a" { capabilites = ["read"] } } }',
    'namespace "dev".variables.path "a".capabilites',
  ],
  [
    'namespace "dev" { variables { path "a" { capabilities = ["read"] } extra = 1 } }',
    'namespace "dev".variables.extra',
  ],
  ['agent { policy = "read", capabilities = ["read"] }', 'agent.capabilities'],
  ['node_pool "default" { policy = "read", extra = true }', 'node_pool "default".extra'],
  [
    'namespace "dev" { variables { path "a" { capabilities = ["read"] } }\n variables { path "b" { capabilities = ["read"] } } }',
    'namespace "dev".variables',
  ],
];
