import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Acl,
  compileAcl,
  MANAGEMENT_ACL,
  parsePolicy,
  type VariableCapability,
  type WorkloadScope,
} from '../../src/acl/index.js';

type Rules = Readonly<Record<string, Readonly<Record<string, readonly VariableCapability[]>>>>;

/** Compiles one policy per entry of `policies`, each mapping namespace to path to capabilities. */
function aclOf(...policies: Rules[]): Acl {
  return compileAcl(
    policies.map((rules) => {
      const text = Object.entries(rules)
        .map(([namespace, paths]) => {
          const pathBlocks = Object.entries(paths)
            .map(([path, caps]) => `path ${JSON.stringify(path)} { capabilities = ${JSON.stringify(caps)} }`)
            .join('\n');
          return `namespace ${JSON.stringify(namespace)} { variables { ${pathBlocks} } }`;
        })
        .join('\n');
      return parsePolicy(text, 'strict');
    }),
  );
}

const CLAIM: WorkloadScope = { namespace: 'ns', jobId: 'example', group: 'foo', task: 'bar' };

interface MatchCase {
  readonly name: string;
  readonly rules: Rules;
  readonly namespace?: string;
  readonly path?: string;
  readonly capability: VariableCapability;
  readonly workload?: WorkloadScope;
  readonly expected: boolean;
}

/** Nomad's TestVariablesMatching cases, which request namespace `ns` and path `foo/bar` unless they set others. */
const MATCH_CASES: readonly MatchCase[] = [
  { name: 'V1 exact read', rules: { ns: { 'foo/bar': ['read'] } }, capability: 'read', expected: true },
  {
    name: 'V2 read implies list',
    rules: { ns: { 'foo/bar': ['read'] } },
    capability: 'list',
    expected: true,
  },
  { name: 'V3 suffix glob', rules: { ns: { 'foo/*': ['read'] } }, capability: 'read', expected: true },
  { name: 'V4 prefix glob', rules: { ns: { '*/bar': ['read'] } }, capability: 'read', expected: true },
  {
    name: 'V5 tie picks foo/*',
    rules: { ns: { '*/bar': ['list'], 'foo/*': ['write'] } },
    capability: 'write',
    expected: true,
  },
  {
    name: 'V6 tie does not merge',
    rules: { ns: { '*/bar': ['list'], 'foo/*': ['write'] } },
    capability: 'list',
    expected: false,
  },
  {
    name: 'V7 exact path wins',
    rules: { ns: { '*': ['read'], 'foo/*': ['read'], 'foo/bar': ['list'] } },
    capability: 'read',
    expected: false,
  },
  { name: 'V8 other path', rules: { ns: { bar: ['read'] } }, capability: 'read', expected: false },
  { name: 'V9 glob that misses', rules: { ns: { '*/foo': ['read'] } }, capability: 'read', expected: false },
  { name: 'V10 namespace glob', rules: { '*': { 'foo/bar': ['read'] } }, capability: 'read', expected: true },
  {
    name: 'V11 namespace glob other path',
    rules: { '*': { bar: ['read'] } },
    capability: 'read',
    expected: false,
  },
  {
    name: 'V12 request path is literal',
    rules: { ns: { 'foo/bar': ['read'] } },
    path: '*',
    capability: 'read',
    expected: false,
  },
  {
    name: 'V13 request namespace is literal',
    rules: { ns: { 'foo/bar': ['read'] } },
    namespace: 'ns*',
    path: 'bar',
    capability: 'read',
    expected: false,
  },
  {
    name: 'V14 closer glob denies',
    rules: { ns: { '*': ['list'], 'system/*': ['deny'] } },
    path: 'system/not-allowed',
    capability: 'list',
    expected: false,
  },
  {
    name: 'V15 deny stays in its namespace',
    rules: { ns: { '*': ['list'], 'system/*': ['deny'] }, prod: { '*': ['list'] } },
    namespace: 'prod',
    path: 'system/is-allowed',
    capability: 'list',
    expected: true,
  },
  {
    name: 'V16 exact deny beats implicit',
    rules: { ns: { 'nomad/jobs/example': ['deny'] } },
    path: 'nomad/jobs/example',
    capability: 'read',
    workload: CLAIM,
    expected: false,
  },
  {
    name: 'V17 deny on another path',
    rules: { ns: { 'nomad/jobs': ['deny'] } },
    path: 'nomad/jobs/example',
    capability: 'read',
    workload: CLAIM,
    expected: true,
  },
  {
    name: 'V18 glob deny loses to implicit',
    rules: { ns: { 'nomad/jobs/*': ['deny'] } },
    path: 'nomad/jobs/example',
    capability: 'read',
    workload: CLAIM,
    expected: true,
  },
];

describe('allowVariableOperation matching (Nomad cases V1 to V18)', () => {
  for (const testCase of MATCH_CASES) {
    test(testCase.name, () => {
      const acl = aclOf(testCase.rules);
      const allowed = acl.allowVariableOperation(
        testCase.namespace ?? 'ns',
        testCase.path ?? 'foo/bar',
        testCase.capability,
        testCase.workload ?? null,
      );
      assert.equal(allowed, testCase.expected);
    });
  }
});

describe('allowVariableSearch (Nomad case V19)', () => {
  test('rule in namespace', () => {
    const acl = aclOf({ ns: { 'foo/bar': ['read'] } });
    assert.equal(acl.allowVariableSearch('ns'), true);
    assert.equal(acl.allowVariableSearch('no-access'), false);
    assert.equal(acl.allowVariableSearch('*'), true);
  });

  test('raw prefix of the key', () => {
    const acl = aclOf({ production: { 'a/*': ['read'] } });
    assert.equal(acl.allowVariableSearch('prod'), true);
    assert.equal(acl.allowVariableSearch('production'), true);
    assert.equal(acl.allowVariableSearch('dev'), false);
  });

  test('no rules', () => {
    const acl = compileAcl([parsePolicy('namespace "ns" { policy = "write" }', 'strict')]);
    assert.equal(acl.allowVariableSearch('*'), false);
    assert.equal(acl.allowVariableSearch('ns'), false);
    assert.equal(MANAGEMENT_ACL.allowVariableSearch('ns'), true);
  });
});

interface ImplicitCase {
  readonly path: string;
  readonly capability: VariableCapability;
  readonly namespace?: string;
  readonly expected: boolean;
}

const IMPLICIT_CASES: readonly ImplicitCase[] = [
  { path: 'nomad/jobs', capability: 'read', expected: true },
  { path: 'nomad/jobs', capability: 'list', expected: true },
  { path: 'nomad/jobs/example', capability: 'read', expected: true },
  { path: 'nomad/jobs/example/foo', capability: 'read', expected: true },
  { path: 'nomad/jobs/example/foo/bar', capability: 'read', expected: true },
  { path: 'nomad/jobs/example/foo/bar', capability: 'list', expected: true },
  { path: 'nomad/jobs/example/foo/bar', capability: 'write', expected: false },
  { path: 'nomad/jobs/example/foo/bar', capability: 'destroy', expected: false },
  { path: 'nomad/jobs/example/foo/bar/deeper', capability: 'read', expected: false },
  { path: 'nomad/jobs/example/foo/other', capability: 'read', expected: false },
  { path: 'nomad/jobs/example/other', capability: 'read', expected: false },
  { path: 'nomad/jobs/other', capability: 'read', expected: false },
  { path: 'nomad/jobs/examples', capability: 'read', expected: false },
  { path: 'nomad/jobs/example/', capability: 'read', expected: false },
  { path: 'nomad/jobsx', capability: 'read', expected: false },
  { path: 'nomad', capability: 'read', expected: false },
  { path: 'nomad/jobs/example', capability: 'read', namespace: 'other', expected: false },
];

describe('implicit workload access', () => {
  const denyAll = compileAcl([]);

  for (const testCase of IMPLICIT_CASES) {
    const namespace = testCase.namespace ?? 'ns';
    test(`${testCase.capability} ${namespace}/${testCase.path}`, () => {
      assert.equal(
        denyAll.allowVariableOperation(namespace, testCase.path, testCase.capability, CLAIM),
        testCase.expected,
      );
    });
  }

  test('none without a workload', () => {
    assert.equal(denyAll.allowVariableOperation('ns', 'nomad/jobs/example', 'read', null), false);
  });

  test('group identity has no task path', () => {
    const group: WorkloadScope = { ...CLAIM, task: '' };
    assert.equal(denyAll.allowVariableOperation('ns', 'nomad/jobs/example/foo', 'read', group), true);
    assert.equal(denyAll.allowVariableOperation('ns', 'nomad/jobs/example/foo/', 'read', group), false);
  });

  test('exact deny beats implicit access', () => {
    const acl = aclOf({ ns: { 'nomad/jobs/example/foo/bar': ['deny'] } });
    assert.equal(acl.allowVariableOperation('ns', 'nomad/jobs/example/foo/bar', 'read', CLAIM), false);
    assert.equal(acl.allowVariableOperation('ns', 'nomad/jobs/example/foo', 'read', CLAIM), true);
  });

  test('glob deny does not take it away', () => {
    for (const glob of ['*', 'nomad/*', 'nomad/jobs/*', 'nomad/jobs/example/*']) {
      const acl = aclOf({ ns: { [glob]: ['deny'] } }, { '*': { '*': ['deny'] } });
      assert.equal(acl.allowVariableOperation('ns', 'nomad/jobs/example/foo/bar', 'read', CLAIM), true, glob);
      assert.equal(
        acl.allowVariableOperation('ns', 'nomad/jobs/example/foo/baz', 'read', CLAIM),
        false,
        glob,
      );
    }
  });

  test('implicit set hides a glob write', () => {
    // Nomad returns the implicit read and list set and stops, so writing to the workload's own path
    // needs an exact rule.
    const acl = aclOf({ ns: { 'nomad/jobs/*': ['read', 'write'] } });
    assert.equal(acl.allowVariableOperation('ns', 'nomad/jobs/example', 'write', CLAIM), false);
    assert.equal(acl.allowVariableOperation('ns', 'nomad/jobs/example', 'write', null), true);
    const exact = aclOf({ ns: { 'nomad/jobs/example': ['write'] } });
    assert.equal(exact.allowVariableOperation('ns', 'nomad/jobs/example', 'write', CLAIM), true);
  });

  test('policy grants beyond implicit paths', () => {
    const acl = aclOf({ shared: { '*': ['read'] } });
    assert.equal(acl.allowVariableOperation('shared', 'config/db', 'read', CLAIM), true);
    assert.equal(acl.allowVariableOperation('shared', 'config/db', 'write', CLAIM), false);
    assert.equal(acl.allowVariableOperation('ns', 'nomad/jobs/example', 'read', CLAIM), true);
  });
});

describe('variables compile', () => {
  test('deny wins across policies in either order', () => {
    for (const acl of [
      aclOf({ ns: { 'a/b': ['deny'] } }, { ns: { 'a/b': ['read'] } }),
      aclOf({ ns: { 'a/b': ['read'] } }, { ns: { 'a/b': ['deny'] } }),
    ]) {
      assert.equal(acl.allowVariableOperation('ns', 'a/b', 'read', null), false);
      assert.equal(acl.allowVariableOperation('ns', 'a/b', 'write', null), false);
    }
  });

  test('a job name with a slash reaches no other job implicit paths', () => {
    const acl = aclOf();
    const workload = { namespace: 'ns', jobId: 'web/cache', group: 'g', task: 't' };
    assert.equal(acl.allowVariableOperation('ns', 'nomad/jobs', 'read', workload), true);
    for (const path of ['nomad/jobs/web/cache', 'nomad/jobs/web/cache/g', 'nomad/jobs/web']) {
      assert.equal(acl.allowVariableOperation('ns', path, 'read', workload), false, path);
    }
  });

  test('capabilities union per path', () => {
    const acl = aclOf({ ns: { 'a/*': ['read'] } }, { ns: { 'a/*': ['write'] } });
    for (const capability of ['read', 'list', 'write'] as const) {
      assert.equal(acl.allowVariableOperation('ns', 'a/b', capability, null), true, capability);
    }
    assert.equal(acl.allowVariableOperation('ns', 'a/b', 'destroy', null), false);
  });

  test('empty exact rule shadows globs', () => {
    const acl = aclOf({ ns: { '*': ['read'], 'a/b': [] } });
    assert.equal(acl.allowVariableOperation('ns', 'a/b', 'read', null), false);
    assert.equal(acl.allowVariableOperation('ns', 'a/c', 'read', null), true);
  });

  test('namespace glob with literal path', () => {
    const acl = aclOf({ 'prod-*': { 'db/password': ['read'] } });
    assert.equal(acl.allowVariableOperation('prod-eu', 'db/password', 'read', null), true);
    assert.equal(acl.allowVariableOperation('dev', 'db/password', 'read', null), false);
  });

  test('namespace rule does not grant variables', () => {
    const acl = compileAcl([parsePolicy('namespace "ns" { policy = "write" }', 'strict')]);
    assert.equal(acl.allowVariableOperation('ns', 'a', 'read', null), false);
  });
});
