import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type PolicyErrorCode, type PolicyParseMode, parsePolicy } from '../../src/acl/index.js';
import { PolicyError } from '../../src/acl/policy-error.js';
import {
  BIG_POLICY_HCL,
  BIG_POLICY_JSON,
  READ_EXPANSION,
  SCALE_EXPANSION,
  WRITE_EXPANSION,
} from './fixtures.js';

function parseError(rules: string, mode: PolicyParseMode = 'strict'): PolicyError {
  try {
    parsePolicy(rules, mode);
  } catch (err) {
    assert.ok(err instanceof PolicyError, `expected a PolicyError, got ${String(err)}`);
    return err;
  }
  assert.fail(`rules parsed without error: ${rules}`);
}

describe('parsePolicy accepts (Nomad cases P1 to P3, P19 to P21, P24, P26)', () => {
  test('P1 read shorthand expands', () => {
    const policy = parsePolicy('namespace "default" { policy = "read" }', 'strict');
    assert.equal(policy.namespaces.length, 1);
    assert.equal(policy.namespaces[0]!.label, 'default');
    assert.equal(policy.namespaces[0]!.policy, 'read');
    assert.deepEqual(policy.namespaces[0]!.capabilities, READ_EXPANSION);
    assert.deepEqual(policy.namespaces[0]!.variables, []);
  });

  test('P2 every block', () => {
    const policy = parsePolicy(BIG_POLICY_HCL, 'strict');
    const byLabel = new Map(policy.namespaces.map((rule) => [rule.label, rule]));
    assert.deepEqual(byLabel.get('default')!.capabilities, READ_EXPANSION);
    assert.deepEqual(byLabel.get('other')!.capabilities, WRITE_EXPANSION);
    assert.deepEqual(byLabel.get('secret')!.capabilities, ['deny', 'read-logs']);
    assert.deepEqual(byLabel.get('autoscaler')!.capabilities, SCALE_EXPANSION);
    assert.deepEqual(byLabel.get('apps')!.variables, [
      { path: 'jobs/write-does-not-imply-read-or-delete', capabilities: ['write'] },
      { path: 'project/read-implies-list', capabilities: ['read', 'list'] },
      { path: 'project/explicit', capabilities: ['read', 'list', 'destroy'] },
    ]);
    assert.deepEqual(policy.hostVolumes, [
      { label: 'production-tls-*', policy: null, capabilities: ['mount-readonly'] },
      { label: 'staging-tls-*', policy: 'write', capabilities: ['mount-readonly', 'mount-readwrite'] },
    ]);
    assert.deepEqual(policy.nodePools, [
      { label: 'prod', policy: null, capabilities: ['read'] },
      { label: 'dev', policy: 'write', capabilities: ['delete', 'read', 'write'] },
    ]);
    assert.deepEqual(policy.agent, { policy: 'read' });
    assert.deepEqual(policy.node, { policy: 'write' });
    assert.deepEqual(policy.operator, { policy: 'deny', capabilities: ['deny'] });
    assert.deepEqual(policy.sentinel, { policy: 'read', capabilities: ['sentinel-delete', 'sentinel-read'] });
    assert.deepEqual(policy.quota, { policy: 'read' });
    assert.deepEqual(policy.plugin, { policy: 'read' });
  });

  test('P3 JSON form parses alike', () => {
    const fromHcl = parsePolicy(BIG_POLICY_HCL, 'strict');
    const fromJson = parsePolicy(BIG_POLICY_JSON, 'strict');
    assert.deepEqual(fromJson, { ...fromHcl, sentinel: null });
  });

  test('P19 sentinel-override alone', () => {
    const policy = parsePolicy('namespace "default" { capabilities = ["sentinel-override"] }', 'strict');
    assert.deepEqual(policy.namespaces[0]!.capabilities, ['sentinel-override']);
  });

  test('P20 implied host volume capabilities', () => {
    const policy = parsePolicy(
      `namespace "register" { capabilities = ["host-volume-register"] }
       namespace "create" { capabilities = ["host-volume-create"] }
       namespace "write" { capabilities = ["host-volume-write"] }`,
      'strict',
    );
    const cases: [string, string[]][] = [
      ['register', ['host-volume-register', 'host-volume-create', 'host-volume-read']],
      ['create', ['host-volume-create', 'host-volume-read']],
      [
        'write',
        [
          'host-volume-write',
          'host-volume-register',
          'host-volume-create',
          'host-volume-delete',
          'host-volume-read',
        ],
      ],
    ];
    for (const [label, expected] of cases) {
      const rule = policy.namespaces.find((namespace) => namespace.label === label);
      assert.deepEqual(rule?.capabilities, expected, label);
    }
  });

  test('P21 node pool expansion', () => {
    const cases: [string, string[]][] = [
      ['policy = "read"', ['read']],
      ['policy = "write"', ['delete', 'read', 'write']],
      ['policy = "read", capabilities = ["write"]', ['write', 'read']],
      ['policy = "read", capabilities = ["write", "delete"]', ['write', 'delete', 'read']],
      ['policy = "deny", capabilities = ["write"]', ['write', 'deny']],
      ['capabilities = ["deny", "read"]', ['deny', 'read']],
      ['policy = "scale"', []],
    ];
    for (const [body, expected] of cases) {
      const policy = parsePolicy(`node_pool "default" { ${body} }`, 'strict');
      assert.deepEqual(policy.nodePools[0]!.capabilities, expected, body);
    }
    const glob = parsePolicy('node_pool "pool-*" { policy = "read" }', 'strict');
    assert.deepEqual(glob.nodePools[0], { label: 'pool-*', policy: 'read', capabilities: ['read'] });
    const underscore = parsePolicy('node_pool "my_pool" { policy = "read" }', 'strict');
    assert.equal(underscore.nodePools[0]!.label, 'my_pool');
  });

  test('P24 host volume capabilities', () => {
    for (const capability of ['mount-readonly', 'mount-readwrite']) {
      const policy = parsePolicy(`host_volume "shared" { capabilities = ["${capability}"] }`, 'strict');
      assert.deepEqual(policy.hostVolumes[0]!.capabilities, [capability]);
    }
    const read = parsePolicy('host_volume "shared" { policy = "read" }', 'strict');
    assert.deepEqual(read.hostVolumes[0]!.capabilities, ['mount-readonly']);
  });

  test('P26 P31 plugin levels', () => {
    for (const level of ['deny', 'read', 'list', 'write']) {
      const policy = parsePolicy(`plugin { policy = "${level}" }`, 'strict');
      assert.deepEqual(policy.plugin, { policy: level });
    }
  });

  test('operator levels expand', () => {
    const cases: [string, string[]][] = [
      ['policy = "deny"', ['deny']],
      ['policy = "read"', ['license-read', 'keyring-read']],
      [
        'policy = "write"',
        ['snapshot-save', 'license-read', 'keyring-rotate', 'keyring-read', 'keyring-delete'],
      ],
      ['capabilities = ["keyring-read"]', ['keyring-read']],
      [
        'policy = "read", capabilities = ["snapshot-save"]',
        ['snapshot-save', 'license-read', 'keyring-read'],
      ],
    ];
    for (const [body, expected] of cases) {
      const policy = parsePolicy(`operator { ${body} }`, 'strict');
      assert.deepEqual(policy.operator?.capabilities, expected, body);
    }
  });

  test('variable capability expansion', () => {
    const cases: [string, string[]][] = [
      ['["read"]', ['read', 'list']],
      ['["write"]', ['write']],
      ['["read", "list", "destroy"]', ['read', 'list', 'destroy']],
      ['["list", "read"]', ['list', 'read']],
      ['["read", "write", "deny"]', ['deny']],
      ['[]', []],
    ];
    for (const [list, expected] of cases) {
      const policy = parsePolicy(
        `namespace "dev" { variables { path "a/*" { capabilities = ${list} } } }`,
        'strict',
      );
      assert.deepEqual(policy.namespaces[0]!.variables, [{ path: 'a/*', capabilities: expected }], list);
    }
  });

  test('explicit capabilities come first', () => {
    const policy = parsePolicy(
      'namespace "x" { policy = "read", capabilities = ["alloc-node-exec"] }',
      'strict',
    );
    assert.deepEqual(policy.namespaces[0]!.capabilities, ['alloc-node-exec', ...READ_EXPANSION]);
  });

  test('empty rules grant nothing', () => {
    const policy = parsePolicy('', 'strict');
    assert.deepEqual(policy.namespaces, []);
    assert.equal(policy.agent, null);
    assert.equal(policy.operator, null);
  });

  test('namespace glob labels', () => {
    const policy = parsePolicy(
      'namespace "*" { policy = "read" }\nnamespace "prod-*" { policy = "deny" }',
      'strict',
    );
    assert.deepEqual(
      policy.namespaces.map((rule) => rule.label),
      ['*', 'prod-*'],
    );
  });
});

interface ErrorCase {
  readonly name: string;
  readonly rules: string;
  readonly code: PolicyErrorCode;
  readonly field: string;
  readonly value?: string;
  /** Nomad's fragment that the message keeps. */
  readonly fragment: string;
}

const ERROR_CASES: readonly ErrorCase[] = [
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

describe('parsePolicy rejects', () => {
  for (const testCase of ERROR_CASES) {
    test(testCase.name, () => {
      const err = parseError(testCase.rules);
      assert.equal(err.code, testCase.code, err.message);
      assert.equal(err.field, testCase.field, err.message);
      if (testCase.value !== undefined) assert.equal(err.value, testCase.value, err.message);
      assert.ok(err.message.includes(testCase.fragment), `"${err.message}" lacks "${testCase.fragment}"`);
    });
  }

  test('lenient mode checks values alike', () => {
    for (const testCase of ERROR_CASES) {
      assert.equal(parseError(testCase.rules, 'lenient').code, testCase.code, testCase.name);
    }
  });
});

/** Case P30: unknown blocks, repeated singletons, and blocks that may repeat. */
const UNKNOWN_AND_DUPLICATE_KEYS = `
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

describe('parsePolicy modes (Nomad case P30)', () => {
  test('strict lists offending keys sorted', () => {
    const err = parseError(UNKNOWN_AND_DUPLICATE_KEYS, 'strict');
    assert.equal(err.code, 'UNKNOWN_OR_DUPLICATE_KEY');
    assert.equal(err.value, 'agent, anotherbogus, bogus, node, operator, plugin, quota');
    assert.ok(
      err.message.includes(
        'Invalid or duplicate policy keys: agent, anotherbogus, bogus, node, operator, plugin, quota',
      ),
    );
  });

  test('lenient ignores them and merges repeats', () => {
    const policy = parsePolicy(UNKNOWN_AND_DUPLICATE_KEYS, 'lenient');
    assert.deepEqual(
      policy.namespaces.map((rule) => rule.label),
      ['foo', 'bar'],
    );
    assert.equal(policy.hostVolumes.length, 2);
    assert.equal(policy.nodePools.length, 2);
    assert.deepEqual(policy.agent, { policy: 'write' });
    assert.deepEqual(policy.plugin, { policy: 'write' });
    assert.equal(policy.operator?.policy, 'write');
  });

  test('lenient merges a repeated deny as deny', () => {
    const policy = parsePolicy('agent { policy = "write" }\nagent { policy = "deny" }', 'lenient');
    assert.deepEqual(policy.agent, { policy: 'deny' });
  });

  test('strict rejects unknown keys inside blocks', () => {
    const cases: [string, string][] = [
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
    for (const [rules, field] of cases) {
      const err = parseError(rules, 'strict');
      assert.equal(err.code, 'UNKNOWN_OR_DUPLICATE_KEY', rules);
      assert.equal(err.field, field, rules);
      assert.doesNotThrow(() => parsePolicy(rules, 'lenient'), rules);
    }
  });

  test('lenient joins repeated variables blocks', () => {
    const policy = parsePolicy(
      'namespace "dev" { variables { path "a" { capabilities = ["read"] } }\n variables { path "b" { capabilities = ["write"] } } }',
      'lenient',
    );
    assert.deepEqual(
      policy.namespaces[0]!.variables.map((rule) => rule.path),
      ['a', 'b'],
    );
  });

  test('parser still works after an invalid escape', () => {
    parseError('namespace "\\500" {}');
    const policy = parsePolicy('namespace "default" { policy = "deny" }', 'strict');
    assert.deepEqual(policy.namespaces[0]!.capabilities, ['deny']);
  });
});
