import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type PolicyParseMode, parsePolicy } from '../../src/acl/index.js';
import { PolicyError } from '../../src/acl/policy-error.js';
import {
  BIG_POLICY_HCL,
  BIG_POLICY_JSON,
  READ_EXPANSION,
  SCALE_EXPANSION,
  WRITE_EXPANSION,
} from './fixtures.js';
import { ERROR_CASES, UNKNOWN_AND_DUPLICATE_KEYS, UNKNOWN_INNER_KEY_CASES } from './policy-cases.js';

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
    for (const [rules, field] of UNKNOWN_INNER_KEY_CASES) {
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

describe('parsePolicy nesting', () => {
  test('deep nesting is refused before the HCL parser runs', () => {
    const deep = `agent { policy = "read" }\nx = ${'{ b = '.repeat(3000)}1${' }'.repeat(3000)}\n`;
    assert.throws(
      () => parsePolicy(deep, 'lenient'),
      (err: unknown) => err instanceof PolicyError && /nest 3000 levels deep/.test(err.message),
    );
    // The parser still works afterwards.
    assert.equal(parsePolicy('agent { policy = "read" }', 'strict').agent?.policy, 'read');
  });

  test('braces inside strings do not count as nesting', () => {
    const policy = parsePolicy(`namespace "default" { policy = "read" }\n# ${'{'.repeat(100)}\n`, 'strict');
    assert.equal(policy.namespaces.length, 1);
  });
});
