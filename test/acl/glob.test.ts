import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileAcl, Glob, parsePolicy } from '../../src/acl/index.js';

describe('Glob matches', () => {
  const cases: [string, string, boolean][] = [
    ['production-*', 'production-api', true],
    ['prod-*', 'production-api', false],
    ['production-*', 'production-admin-api', true],
    ['production-*-api', 'production-admin-api', true],
    ['production-*-api', 'production-api', false],
    ['*', '', true],
    ['*', 'a/b/c', true],
    ['a*', 'a', true],
    ['*a', 'a', true],
    ['a*a', 'a', false],
    ['a*a', 'aa', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'acb', false],
    ['a*b*c', 'aXbYbZc', true],
    ['**', 'x', true],
    ['foo/*', 'foo/bar/baz', true],
    ['*/bar', 'foo/bar', true],
    ['*/foo', 'foo/bar', false],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
    ['foo', '*', false],
    ['f?o', 'foo', false],
    ['f?o', 'f?o', true],
    ['[ab]', 'a', false],
  ];
  for (const [pattern, target, expected] of cases) {
    test(`${pattern} against ${JSON.stringify(target)}`, () => {
      assert.equal(new Glob(pattern).matches(target), expected);
    });
  }
});

describe('Glob difference (Nomad findAllMatchingWildcards)', () => {
  const cases: [string, string, number][] = [
    ['production-*', 'production-api', 3],
    ['production-*', 'production-admin-api', 9],
    ['production-**', 'production-admin-api', 9],
    ['*', 'production-admin-api', 20],
    ['*admin*', 'production-admin-api', 15],
    ['é*', 'éa', 1],
  ];
  for (const [pattern, target, expected] of cases) {
    test(`${pattern} against ${target}`, () => {
      assert.equal(new Glob(pattern).difference(target), expected);
    });
  }
});

describe('closest glob lookup', () => {
  function namespaceAcl(labels: Record<string, string>) {
    const text = Object.entries(labels)
      .map(([label, capability]) => `namespace "${label}" { capabilities = ["${capability}"] }`)
      .join('\n');
    return compileAcl([parsePolicy(text, 'strict')]);
  }

  test('smallest difference wins', () => {
    const acl = namespaceAcl({ '*': 'list-jobs', 'production-*': 'read-job', '*admin*': 'submit-job' });
    assert.equal(acl.allowNamespaceOperation('production-admin-api', 'read-job'), true);
    assert.equal(acl.allowNamespaceOperation('production-admin-api', 'submit-job'), false);
    assert.equal(acl.allowNamespaceOperation('staging-admin', 'submit-job'), true);
    assert.equal(acl.allowNamespaceOperation('dev', 'list-jobs'), true);
  });

  test('tie picks the greatest pattern', () => {
    // Both have difference 4 against "ab-x-cd", and "ab-*" sorts after "*-cd".
    const acl = namespaceAcl({ 'ab-*': 'read-job', '*-cd': 'submit-job' });
    assert.equal(acl.allowNamespaceOperation('ab-x-cd', 'read-job'), true);
    assert.equal(acl.allowNamespaceOperation('ab-x-cd', 'submit-job'), false);
  });

  test('tie order independent of input', () => {
    const orders: Record<string, string>[] = [
      { 'a*': 'read-job', '*z': 'submit-job', 'b*': 'list-jobs' },
      { '*z': 'submit-job', 'a*': 'read-job' },
    ];
    for (const labels of orders) {
      const acl = namespaceAcl(labels);
      assert.equal(acl.allowNamespaceOperation('az', 'read-job'), true);
      assert.equal(acl.allowNamespaceOperation('az', 'submit-job'), false);
    }
  });

  test('more stars means farther', () => {
    const acl = namespaceAcl({ 'prod*': 'read-job', 'p*od*': 'submit-job' });
    assert.equal(acl.allowNamespaceOperation('production', 'read-job'), true);
    assert.equal(acl.allowNamespaceOperation('production', 'submit-job'), false);
  });
});
