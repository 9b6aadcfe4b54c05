import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Acl,
  compileAcl,
  MANAGEMENT_ACL,
  NAMESPACE_CAPABILITIES,
  parsePolicy,
} from '../../src/acl/index.js';

function aclOf(...rules: string[]): Acl {
  return compileAcl(rules.map((text) => parsePolicy(text, 'strict')));
}

/** Runs every check of an ACL once, with fixed arguments, for the all-or-nothing ACLs. */
function everyCheck(acl: Acl): Record<string, boolean> {
  const workload = { namespace: 'default', jobId: 'example', group: 'cache', task: 'redis' };
  return {
    allowNamespace: acl.allowNamespace('default'),
    allowNamespaceAll: acl.allowNamespace('*'),
    allowNamespaceOperation: acl.allowNamespaceOperation('default', 'read-job'),
    allowNamespaceOperationAll: acl.allowNamespaceOperation('*', 'list-jobs'),
    allowNodePool: acl.allowNodePool('default'),
    allowNodePoolOperation: acl.allowNodePoolOperation('default', 'read'),
    allowHostVolume: acl.allowHostVolume('data'),
    allowHostVolumeOperation: acl.allowHostVolumeOperation('data', 'mount-readonly'),
    allowVariableOperation: acl.allowVariableOperation('default', 'shared/config', 'read', null),
    allowVariableWrite: acl.allowVariableOperation('default', 'nomad/jobs/example', 'write', workload),
    allowVariableSearch: acl.allowVariableSearch('default'),
    agentRead: acl.agentRead(),
    agentWrite: acl.agentWrite(),
    nodeRead: acl.nodeRead(),
    nodeWrite: acl.nodeWrite(),
    operatorRead: acl.operatorRead(),
    operatorWrite: acl.operatorWrite(),
    operatorOperation: acl.operatorOperation('snapshot-save'),
    quotaRead: acl.quotaRead(),
    quotaWrite: acl.quotaWrite(),
    pluginRead: acl.pluginRead(),
    pluginList: acl.pluginList(),
    sentinelOperation: acl.sentinelOperation('sentinel-submit'),
  };
}

describe('compileAcl of no policies', () => {
  test('denies every check', () => {
    const acl = compileAcl([]);
    assert.equal(acl.isManagement(), false);
    for (const [check, allowed] of Object.entries(everyCheck(acl))) assert.equal(allowed, false, check);
    for (const capability of NAMESPACE_CAPABILITIES) {
      assert.equal(acl.allowNamespaceOperation('default', capability), false, capability);
    }
  });

  test('empty policy text denies too', () => {
    const acl = compileAcl([parsePolicy('', 'strict')]);
    for (const [check, allowed] of Object.entries(everyCheck(acl))) assert.equal(allowed, false, check);
  });
});

describe('MANAGEMENT_ACL', () => {
  test('allows every check', () => {
    assert.equal(MANAGEMENT_ACL.isManagement(), true);
    for (const [check, allowed] of Object.entries(everyCheck(MANAGEMENT_ACL)))
      assert.equal(allowed, true, check);
  });
});

describe('compileAcl namespaces', () => {
  test('capabilities union across policies', () => {
    const acl = aclOf(
      'namespace "default" { policy = "read" }',
      'namespace "default" { capabilities = ["submit-job"] }',
    );
    assert.equal(acl.allowNamespaceOperation('default', 'read-job'), true);
    assert.equal(acl.allowNamespaceOperation('default', 'submit-job'), true);
    assert.equal(acl.allowNamespaceOperation('default', 'alloc-exec'), false);
    assert.equal(acl.allowNamespaceOperation('other', 'read-job'), false);
  });

  test('deny is sticky in either order', () => {
    const read = 'namespace "default" { policy = "write" }';
    const deny = 'namespace "default" { policy = "deny" }';
    for (const acl of [aclOf(read, deny), aclOf(deny, read), aclOf(read, deny, read)]) {
      assert.equal(acl.allowNamespaceOperation('default', 'read-job'), false);
      assert.equal(acl.allowNamespace('default'), false);
    }
  });

  test('deny in one list clears it', () => {
    const acl = aclOf('namespace "secret" { capabilities = ["deny", "read-logs"] }');
    assert.equal(acl.allowNamespaceOperation('secret', 'read-logs'), false);
    assert.equal(acl.allowNamespaceOperation('secret', 'deny'), true);
  });

  test('write excludes fine-grained capabilities', () => {
    const acl = aclOf('namespace "default" { policy = "write" }');
    for (const capability of [
      'alloc-node-exec',
      'csi-register-plugin',
      'sentinel-override',
      'register-job',
    ] as const) {
      assert.equal(acl.allowNamespaceOperation('default', capability), false, capability);
    }
    assert.equal(acl.allowNamespaceOperation('default', 'host-volume-read'), true);
  });

  test('closest glob wins', () => {
    const acl = aclOf('namespace "*" { policy = "write" }\nnamespace "prod-*" { policy = "read" }');
    assert.equal(acl.allowNamespaceOperation('dev', 'submit-job'), true);
    assert.equal(acl.allowNamespaceOperation('prod-api', 'submit-job'), false);
    assert.equal(acl.allowNamespaceOperation('prod-api', 'read-job'), true);
  });

  test('closest glob deny wins', () => {
    const acl = aclOf('namespace "*" { policy = "write" }', 'namespace "secret-*" { policy = "deny" }');
    assert.equal(acl.allowNamespace('secret-keys'), false);
    assert.equal(acl.allowNamespace('public'), true);
  });

  test('exact label beats globs', () => {
    const acl = aclOf('namespace "prod-*" { policy = "deny" }\nnamespace "prod-api" { policy = "read" }');
    assert.equal(acl.allowNamespaceOperation('prod-api', 'read-job'), true);
    assert.equal(acl.allowNamespaceOperation('prod-web', 'read-job'), false);
  });

  test('empty exact rule shadows globs', () => {
    const acl = aclOf('namespace "*" { policy = "read" }\nnamespace "default" {}');
    assert.equal(acl.allowNamespace('default'), false);
    assert.equal(acl.allowNamespaceOperation('default', 'read-job'), false);
    assert.equal(acl.allowNamespace('other'), true);
  });

  test('all namespaces sentinel', () => {
    const acl = aclOf(
      'namespace "default" { policy = "deny" }\nnamespace "apps-*" { capabilities = ["list-jobs"] }',
    );
    assert.equal(acl.allowNamespace('*'), true);
    assert.equal(acl.allowNamespaceOperation('*', 'list-jobs'), true);
    assert.equal(acl.allowNamespaceOperation('*', 'read-job'), false);
    const denied = aclOf('namespace "default" { policy = "deny" }');
    assert.equal(denied.allowNamespace('*'), false);
  });

  test('request namespace is literal', () => {
    const acl = aclOf('namespace "default" { policy = "read" }');
    assert.equal(acl.allowNamespaceOperation('def*', 'read-job'), false);
  });
});

describe('compileAcl node pools and host volumes', () => {
  test('node pool globs and deny', () => {
    const acl = aclOf(
      'node_pool "*" { policy = "read" }\nnode_pool "gpu_*" { policy = "write" }',
      'node_pool "gpu_secret" { policy = "deny" }',
    );
    assert.equal(acl.allowNodePoolOperation('default', 'read'), true);
    assert.equal(acl.allowNodePoolOperation('default', 'write'), false);
    assert.equal(acl.allowNodePoolOperation('gpu_a', 'delete'), true);
    assert.equal(acl.allowNodePool('gpu_secret'), false);
  });

  test('host volume globs', () => {
    const acl = aclOf(
      'host_volume "production-tls-*" { capabilities = ["mount-readonly"] }\nhost_volume "staging-*" { policy = "write" }',
    );
    assert.equal(acl.allowHostVolumeOperation('production-tls-api', 'mount-readonly'), true);
    assert.equal(acl.allowHostVolumeOperation('production-tls-api', 'mount-readwrite'), false);
    assert.equal(acl.allowHostVolumeOperation('staging-db', 'mount-readwrite'), true);
    assert.equal(acl.allowHostVolume('other'), false);
  });
});

describe('compileAcl singleton levels', () => {
  interface LevelCase {
    readonly rules: readonly string[];
    readonly read: boolean;
    readonly write: boolean;
  }

  const AGENT_CASES: readonly LevelCase[] = [
    { rules: ['agent { policy = "read" }'], read: true, write: false },
    { rules: ['agent { policy = "write" }'], read: true, write: true },
    { rules: ['agent { policy = "read" }', 'agent { policy = "write" }'], read: true, write: true },
    { rules: ['agent { policy = "write" }', 'agent { policy = "deny" }'], read: false, write: false },
    { rules: ['agent { policy = "deny" }', 'agent { policy = "read" }'], read: false, write: false },
    { rules: ['agent { policy = "scale" }'], read: false, write: false },
    { rules: ['agent { policy = "scale" }', 'agent { policy = "read" }'], read: true, write: false },
  ];

  for (const [index, testCase] of AGENT_CASES.entries()) {
    test(`agent case ${index + 1}: ${testCase.rules.join(' + ')}`, () => {
      const acl = aclOf(...testCase.rules);
      assert.equal(acl.agentRead(), testCase.read);
      assert.equal(acl.agentWrite(), testCase.write);
    });
  }

  test('node quota operator levels', () => {
    const acl = aclOf('node { policy = "write" }\nquota { policy = "read" }\noperator { policy = "read" }');
    assert.equal(acl.nodeRead(), true);
    assert.equal(acl.nodeWrite(), true);
    assert.equal(acl.quotaRead(), true);
    assert.equal(acl.quotaWrite(), false);
    assert.equal(acl.operatorRead(), true);
    assert.equal(acl.operatorWrite(), false);
  });

  test('plugin levels', () => {
    const cases: [string, boolean, boolean][] = [
      ['read', true, true],
      ['list', false, true],
      ['write', false, false],
      ['deny', false, false],
    ];
    for (const [level, read, list] of cases) {
      const acl = aclOf(`plugin { policy = "${level}" }`);
      assert.equal(acl.pluginRead(), read, level);
      assert.equal(acl.pluginList(), list, level);
    }
  });

  test('operator capabilities', () => {
    const read = aclOf('operator { policy = "read" }');
    assert.equal(read.operatorOperation('keyring-read'), true);
    assert.equal(read.operatorOperation('license-read'), true);
    assert.equal(read.operatorOperation('snapshot-save'), false);

    const write = aclOf('operator { policy = "write" }');
    assert.equal(write.operatorOperation('keyring-delete'), true);

    const only = aclOf('operator { capabilities = ["snapshot-save"] }');
    assert.equal(only.operatorOperation('snapshot-save'), true);
    assert.equal(only.operatorRead(), false);

    const denied = aclOf('operator { capabilities = ["keyring-read"] }', 'operator { policy = "deny" }');
    assert.equal(denied.operatorOperation('keyring-read'), false);
  });

  test('sentinel capabilities', () => {
    const acl = aclOf('sentinel { policy = "read", capabilities = ["sentinel-delete"] }');
    assert.equal(acl.sentinelOperation('sentinel-read'), true);
    assert.equal(acl.sentinelOperation('sentinel-delete'), true);
    assert.equal(acl.sentinelOperation('sentinel-submit'), false);
  });
});
