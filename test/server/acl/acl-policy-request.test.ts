import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type AclPolicyRequest, checkedAclPolicy } from '../../../src/server/acl/acl-policy-request.js';
import { RequestError } from '../../../src/server/request-error.js';
import { MAX_ACL_RULES_BYTES } from '../../../src/state/limits.js';
import { largePolicy } from '../../acl/large-policy.js';

function request(fields: Partial<AclPolicyRequest>): AclPolicyRequest {
  return { name: 'ops', description: '', rules: 'agent { policy = "read" }', jobAcl: null, ...fields };
}

async function rejection(fields: Partial<AclPolicyRequest>): Promise<RequestError> {
  try {
    await checkedAclPolicy(request(fields));
  } catch (err) {
    assert.ok(err instanceof RequestError, `expected a RequestError, got ${String(err)}`);
    return err;
  }
  assert.fail('the request was accepted');
}

describe('checkedAclPolicy', () => {
  test('valid policy becomes a row', async () => {
    const row = await checkedAclPolicy(request({ description: 'agents' }));
    assert.deepEqual(row, {
      Name: 'ops',
      Description: 'agents',
      Rules: 'agent { policy = "read" }',
      JobACL: null,
      CreateIndex: 0,
      ModifyIndex: 0,
    });
  });

  test('64 KiB policy is accepted', async () => {
    const rules = largePolicy(MAX_ACL_RULES_BYTES);
    const row = await checkedAclPolicy(request({ rules }));
    assert.equal(row.Rules, rules);
  });

  test('strict parse errors are 400', async () => {
    const err = await rejection({ rules: 'agent { policy = "read" }\nbogus { policy = "read" }' });
    assert.equal(err.status, 400);
    assert.ok(
      err.message.startsWith('invalid ACL policy ops: Invalid or duplicate policy keys: bogus'),
      err.message,
    );
  });

  test('syntax errors are 400', async () => {
    const err = await rejection({ rules: 'namespace "default" {' });
    assert.equal(err.status, 400);
    assert.ok(err.message.startsWith('invalid ACL policy ops: Failed to parse ACL Policy: At '), err.message);
  });

  test('oversized rules are 400', async () => {
    const err = await rejection({ rules: largePolicy(2 * MAX_ACL_RULES_BYTES) });
    assert.equal(err.status, 400);
    assert.match(err.message, /above the limit of 65536/);
  });
});
