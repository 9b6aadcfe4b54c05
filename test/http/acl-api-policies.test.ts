import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { workloadPrincipal } from '../server/acl/support.js';
import {
  bootstrapManagement,
  call,
  callJson,
  callText,
  createClientToken,
  putPolicy,
} from './support/acl-api.js';
import { startTestServer, type TestServer } from './support/test-backend.js';

interface PolicyJson {
  Name: string;
  Description: string;
  Rules?: string;
  JobACL: { Namespace: string; JobID: string; Group: string; Task: string } | null;
  CreateIndex: number;
  ModifyIndex: number;
}

const READ_DEFAULT = 'namespace "default" { policy = "read" }';

describe('ACL policy endpoints', () => {
  let server: TestServer;
  let management: string;
  beforeEach(async () => {
    server = await startTestServer({ aclEnabled: true });
    management = await bootstrapManagement(server);
  });
  afterEach(async () => {
    await server.close();
  });

  test('write, read, list and delete', async () => {
    const response = await call(server, 'PUT', '/v1/acl/policy/readonly', management, {
      Name: 'readonly',
      Description: 'read jobs',
      Rules: READ_DEFAULT,
    });
    assert.equal(response.status, 200);
    assert.equal(await response.text(), '');
    const index = Number(response.headers.get('x-nomad-index'));
    assert.ok(index > 0);

    const policy = await callJson<PolicyJson>(server, 'GET', '/v1/acl/policy/readonly', management, 200);
    assert.deepEqual(policy, {
      Name: 'readonly',
      Description: 'read jobs',
      Rules: READ_DEFAULT,
      JobACL: null,
      CreateIndex: index,
      ModifyIndex: index,
    });

    await putPolicy(server, management, 'other', 'node { policy = "read" }');
    const listed = await callJson<PolicyJson[]>(server, 'GET', '/v1/acl/policies', management, 200);
    assert.deepEqual(
      listed.map((entry) => entry.Name),
      ['other', 'readonly'],
    );
    assert.equal('Rules' in listed[0]!, false);
    const prefixed = await callJson<PolicyJson[]>(
      server,
      'GET',
      '/v1/acl/policies?prefix=re',
      management,
      200,
    );
    assert.deepEqual(
      prefixed.map((entry) => entry.Name),
      ['readonly'],
    );

    await callText(server, 'DELETE', '/v1/acl/policy/readonly', management, 200);
    assert.equal(
      await callText(server, 'GET', '/v1/acl/policy/readonly', management, 404),
      'ACL policy not found',
    );
    await callText(server, 'DELETE', '/v1/acl/policy/readonly', management, 404);
  });

  test('update keeps the create index', async () => {
    await putPolicy(server, management, 'readonly', READ_DEFAULT);
    const first = server.backend.state.aclPolicy('readonly')!;
    await putPolicy(server, management, 'readonly', 'namespace "default" { policy = "write" }');
    const second = server.backend.state.aclPolicy('readonly')!;
    assert.equal(second.CreateIndex, first.CreateIndex);
    assert.ok(second.ModifyIndex > first.ModifyIndex);
    assert.equal(second.Rules, 'namespace "default" { policy = "write" }');
  });

  test('name must match the path', async () => {
    const message = await callText(server, 'PUT', '/v1/acl/policy/readonly', management, 400, {
      Name: 'other',
      Rules: READ_DEFAULT,
    });
    assert.match(message, /^ACL policy name does not match request path/);

    // Without a Name, the path names the policy.
    await callText(server, 'POST', '/v1/acl/policy/from-path', management, 200, { Rules: READ_DEFAULT });
    assert.equal(server.backend.state.aclPolicy('from-path')?.Rules, READ_DEFAULT);
  });

  test('invalid rules are rejected naming the problem', async () => {
    const cases: [string, string][] = [
      ['namespace "default" { policy = "reed" }', 'Invalid namespace policy'],
      [
        'nmespace "default" { policy = "read" }\nnode { policy = "read" }',
        'Invalid or duplicate policy keys: nmespace',
      ],
      ['namespace "default" { capabilites = ["read-job"] }', 'Invalid key "capabilites"'],
      ['namespace "default" { policy = ', 'Failed to parse ACL Policy: At'],
      ['namespace "default" { capabilities = ["fly"] }', 'Invalid namespace capability'],
      ['namespace "de fault" { policy = "read" }', 'Invalid namespace name'],
      [
        'namespace "default" { variables { path "/a" { capabilities = ["read"] } } }',
        "cannot start with a leading '/'",
      ],
      ['   ', 'Invalid policy'],
    ];
    for (const [rules, fragment] of cases) {
      const message = await callText(server, 'PUT', '/v1/acl/policy/broken', management, 400, {
        Rules: rules,
      });
      assert.ok(message.startsWith('invalid ACL policy broken: '), message);
      assert.ok(message.includes(fragment), `${rules}: ${message}`);
    }
    assert.equal(server.backend.state.aclPolicy('broken'), null);
  });

  test('invalid job association is rejected', async () => {
    const cases: [Record<string, string>, string[]][] = [
      [{ JobID: 'web' }, ['namespace must be set to set job ID']],
      [{ Namespace: 'default', Group: 'cache' }, ['job ID must be set to set group']],
      [{ Namespace: 'default', JobID: 'web', Task: 'redis' }, ['group must be set to set task']],
      [{ Task: 'redis', Group: 'cache', JobID: '' }, ['job ID must be set to set group']],
      [
        { JobID: 'web', Task: 'redis' },
        ['namespace must be set to set job ID', 'group must be set to set task'],
      ],
    ];
    for (const [jobAcl, fragments] of cases) {
      const message = await callText(server, 'PUT', '/v1/acl/policy/tied', management, 400, {
        Rules: READ_DEFAULT,
        JobACL: jobAcl,
      });
      for (const fragment of fragments)
        assert.ok(message.includes(fragment), `${JSON.stringify(jobAcl)}: ${message}`);
    }
    assert.equal(server.backend.state.aclPolicy('tied'), null);
  });

  test('job association is stored', async () => {
    const jobAcl = { Namespace: 'default', JobID: 'example', Group: 'cache', Task: 'redis' };
    await putPolicy(server, management, 'tied', READ_DEFAULT, jobAcl);
    const policy = await callJson<PolicyJson>(server, 'GET', '/v1/acl/policy/tied', management, 200);
    assert.deepEqual(policy.JobACL, jobAcl);

    // A JobACL whose fields are all empty ties the policy to nothing.
    await putPolicy(server, management, 'untied', READ_DEFAULT, {
      Namespace: '',
      JobID: '',
      Group: '',
      Task: '',
    });
    assert.equal(server.backend.state.aclPolicy('untied')?.JobACL, null);
  });

  test('writes need a management token', async () => {
    await putPolicy(server, management, 'readonly', READ_DEFAULT);
    const client = await createClientToken(server, management, ['readonly']);
    for (const token of [client.SecretID!, null]) {
      const denied = await callText(server, 'PUT', '/v1/acl/policy/mine', token, 403, {
        Rules: READ_DEFAULT,
      });
      assert.equal(denied, 'Permission denied: a management token is required');
      await callText(server, 'DELETE', '/v1/acl/policy/readonly', token, 403);
    }
    assert.equal(server.backend.state.aclPolicy('mine'), null);
    assert.ok(server.backend.state.aclPolicy('readonly') !== null);
  });

  test('client token reads only its policies', async () => {
    await putPolicy(server, management, 'readonly', READ_DEFAULT);
    await putPolicy(server, management, 'secret-ops', 'operator { policy = "write" }');
    const client = await createClientToken(server, management, ['readonly', 'deleted-later']);
    const secret = client.SecretID!;

    await callJson<PolicyJson>(server, 'GET', '/v1/acl/policy/readonly', secret, 200);
    assert.equal(
      await callText(server, 'GET', '/v1/acl/policy/secret-ops', secret, 403),
      'Permission denied',
    );
    // A policy the token names but that does not exist is a 404; one it does not name is a 403 either way.
    await callText(server, 'GET', '/v1/acl/policy/deleted-later', secret, 404);
    await callText(server, 'GET', '/v1/acl/policy/nothing-here', secret, 403);

    const listed = await callJson<PolicyJson[]>(server, 'GET', '/v1/acl/policies', secret, 200);
    assert.deepEqual(
      listed.map((entry) => entry.Name),
      ['readonly'],
    );
  });

  test('anonymous policy is readable by anyone', async () => {
    await putPolicy(server, management, 'anonymous', READ_DEFAULT);
    await putPolicy(server, management, 'readonly', READ_DEFAULT);
    await callJson<PolicyJson>(server, 'GET', '/v1/acl/policy/anonymous', null, 200);
    await callText(server, 'GET', '/v1/acl/policy/readonly', null, 403);
    const listed = await callJson<PolicyJson[]>(server, 'GET', '/v1/acl/policies', null, 200);
    assert.deepEqual(
      listed.map((entry) => entry.Name),
      ['anonymous'],
    );
  });

  test('workload reads the policies tied to it', async () => {
    await putPolicy(server, management, 'job-wide', READ_DEFAULT, {
      Namespace: 'default',
      JobID: 'web',
      Group: '',
      Task: '',
    });
    await putPolicy(server, management, 'other-group', READ_DEFAULT, {
      Namespace: 'default',
      JobID: 'web',
      Group: 'backend',
      Task: '',
    });
    await putPolicy(server, management, 'untied', READ_DEFAULT);
    server.backend.principals.set('workload-jwt', workloadPrincipal({ jobId: 'web', group: 'frontend' }));

    const listed = await callJson<PolicyJson[]>(server, 'GET', '/v1/acl/policies', 'workload-jwt', 200);
    assert.deepEqual(
      listed.map((entry) => entry.Name),
      ['job-wide'],
    );
    await callJson<PolicyJson>(server, 'GET', '/v1/acl/policy/job-wide', 'workload-jwt', 200);
    await callText(server, 'GET', '/v1/acl/policy/other-group', 'workload-jwt', 403);
    await callText(server, 'GET', '/v1/acl/policy/untied', 'workload-jwt', 403);
  });
});
