import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Acl, compileAcl, MANAGEMENT_ACL, parsePolicy } from '../../src/acl/index.js';
import { describeDeniedChecks, recordDeniedChecks } from '../../src/http/denied-checks.js';

function aclOf(...rules: string[]): Acl {
  return compileAcl(rules.map((text) => parsePolicy(text, 'strict')));
}

const READ_DEFAULT = 'namespace "default" { policy = "read" }';

/** Namespaces that the request named, which the description may repeat. */
const REQUEST_NAMESPACES: ReadonlySet<string> = new Set(['default', 'prod']);

function denial(acl: Acl, allowed: (acl: Acl) => boolean): string {
  return describeDeniedChecks(recordDeniedChecks(acl, allowed), REQUEST_NAMESPACES);
}

describe('denied check descriptions', () => {
  test('namespace capability', () => {
    const text = denial(aclOf(READ_DEFAULT), (acl) => acl.allowNamespaceOperation('default', 'submit-job'));
    assert.equal(text, 'missing capability "submit-job" in namespace "default"');
  });

  test('wildcard namespace reads as any', () => {
    const text = denial(aclOf(), (acl) => acl.allowNamespaceOperation('*', 'read-job'));
    assert.equal(text, 'missing capability "read-job" in any namespace');
  });

  test('alternatives in one namespace merge', () => {
    const text = denial(
      aclOf(READ_DEFAULT),
      (acl) =>
        acl.allowNamespaceOperation('prod', 'submit-job') ||
        acl.allowNamespaceOperation('prod', 'register-job'),
    );
    assert.equal(text, 'missing capability "submit-job" or "register-job" in namespace "prod"');
  });

  test('different kinds are listed', () => {
    const text = denial(aclOf(), (acl) => acl.nodeRead() || acl.operatorOperation('keyring-read'));
    assert.equal(text, 'missing one of: node:read; operator capability "keyring-read"');
  });

  test('passing checks are not listed', () => {
    // The first check passes and the second fails, so only the second is what is missing.
    const text = denial(
      aclOf(READ_DEFAULT),
      (acl) =>
        acl.allowNamespaceOperation('default', 'read-job') &&
        acl.allowNamespaceOperation('default', 'scale-job'),
    );
    assert.equal(text, 'missing capability "scale-job" in namespace "default"');
  });

  test('variables path', () => {
    const text = denial(aclOf(READ_DEFAULT), (acl) =>
      acl.allowVariableOperation('default', 'app/db', 'write', null),
    );
    assert.equal(text, 'missing variables capability "write" on path "app/db" in namespace "default"');
  });

  test('object namespace stays unnamed', () => {
    // An evaluation read by ID is checked in its own namespace, which the request did not name.
    const text = denial(aclOf(READ_DEFAULT), (acl) => acl.allowNamespaceOperation('secret-team', 'read-job'));
    assert.equal(text, 'missing capability "read-job" in the namespace of the requested object');
    assert.ok(!text.includes('secret-team'));
  });

  test('management requirement', () => {
    assert.equal(
      denial(aclOf(READ_DEFAULT), (acl) => acl.isManagement()),
      'a management token is required',
    );
  });

  test('predicate without ACL checks', () => {
    assert.equal(
      denial(aclOf(), () => false),
      '',
    );
  });

  test('allowed checks record nothing', () => {
    assert.deepEqual(
      recordDeniedChecks(MANAGEMENT_ACL, (acl) => acl.allowNamespaceOperation('x', 'submit-job')),
      [],
    );
  });
});
