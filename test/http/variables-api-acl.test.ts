import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { VariableDecrypted, VariableMetadata } from '../../src/server/variables/variable-shapes.js';
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

/** Paths written before each test, in namespace default. */
const PATHS = [
  'app/db',
  'app/cache',
  'other/thing',
  'nomad/jobs',
  'nomad/jobs/web',
  'nomad/jobs/web/frontend',
  'nomad/jobs/web/frontend/server',
  'nomad/jobs/web/backend',
  'nomad/jobs/api',
];

const WORKLOAD = 'workload-jwt';

describe('variable endpoints with ACLs', () => {
  let server: TestServer;
  let management: string;
  beforeEach(async () => {
    server = await startTestServer({ aclEnabled: true });
    management = await bootstrapManagement(server);
    await server.backend.rotateRootKey(false);
    for (const path of PATHS) {
      await callJson(server, 'PUT', `/v1/var/${path}`, management, 200, { Items: { path } });
    }
    server.backend.principals.set(
      WORKLOAD,
      workloadPrincipal({ jobId: 'web', group: 'frontend', task: 'server' }),
    );
  });
  afterEach(async () => {
    await server.close();
  });

  async function tokenWith(rules: string): Promise<string> {
    await putPolicy(server, management, 'vars', rules);
    return (await createClientToken(server, management, ['vars'])).SecretID!;
  }

  async function listPaths(token: string | null, query = ''): Promise<string[]> {
    const listed = await callJson<VariableMetadata[]>(server, 'GET', `/v1/vars${query}`, token, 200);
    return listed.map((entry) => entry.Path);
  }

  test('read and list need their capabilities', async () => {
    const token = await tokenWith(
      'namespace "default" { variables { path "app/*" { capabilities = ["read"] } } }',
    );
    const read = await callJson<VariableDecrypted>(server, 'GET', '/v1/var/app/db', token, 200);
    assert.deepEqual(read.Items, { path: 'app/db' });
    assert.equal(
      await callText(server, 'GET', '/v1/var/other/thing', token, 403),
      'Permission denied: missing variables capability "read" on path "other/thing" in namespace "default"',
    );
    // Denied before the lookup, so a missing path is no different from a present one.
    await callText(server, 'GET', '/v1/var/other/missing', token, 403);
    // `read` implies `list`.
    assert.deepEqual(await listPaths(token), ['app/cache', 'app/db']);
  });

  test('list is filtered item by item', async () => {
    const token = await tokenWith(
      [
        'namespace "default" {',
        '  variables {',
        '    path "app/db" { capabilities = ["list"] }',
        '    path "nomad/jobs/*" { capabilities = ["list"] }',
        '    path "nomad/jobs/api" { capabilities = ["deny"] }',
        '  }',
        '}',
      ].join('\n'),
    );
    assert.deepEqual(await listPaths(token), [
      'app/db',
      'nomad/jobs/web',
      'nomad/jobs/web/backend',
      'nomad/jobs/web/frontend',
      'nomad/jobs/web/frontend/server',
    ]);
    assert.deepEqual(await listPaths(token, '?prefix=app'), ['app/db']);
    // `list` alone does not allow reading the items.
    await callText(server, 'GET', '/v1/var/app/db', token, 403);
  });

  test('write and destroy need their capabilities', async () => {
    const reader = await tokenWith(
      'namespace "default" { variables { path "app/*" { capabilities = ["read"] } } }',
    );
    await callText(server, 'PUT', '/v1/var/app/db', reader, 403, { Items: { a: 'b' } });
    await callText(server, 'DELETE', '/v1/var/app/db', reader, 403);

    const writer = await tokenWith(
      'namespace "default" { variables { path "app/*" { capabilities = ["write", "destroy"] } } }',
    );
    const written = await callJson<VariableDecrypted>(server, 'PUT', '/v1/var/app/new', writer, 200, {
      Items: { a: 'b' },
    });
    assert.deepEqual(written.Items, { a: 'b' });
    await callText(server, 'DELETE', '/v1/var/app/new', writer, 204);
    await callText(server, 'PUT', '/v1/var/other/new', writer, 403, { Items: { a: 'b' } });
    assert.equal(server.backend.state.variable('default', 'other/new'), null);
  });

  test('conflict hides items the caller cannot read', async () => {
    const writer = await tokenWith(
      'namespace "default" { variables { path "app/*" { capabilities = ["write"] } } }',
    );
    const response = await call(server, 'PUT', '/v1/var/app/db?cas=0', writer, { Items: { a: 'b' } });
    assert.equal(response.status, 409);
    const conflict = (await response.json()) as Record<string, unknown>;
    assert.equal(conflict.Path, 'app/db');
    assert.equal(conflict.ModifyIndex, server.backend.state.variable('default', 'app/db')!.ModifyIndex);
    assert.equal('Items' in conflict, false);

    const both = await tokenWith(
      'namespace "default" { variables { path "app/*" { capabilities = ["write", "read"] } } }',
    );
    const revealed = await call(server, 'PUT', '/v1/var/app/db?cas=0', both, { Items: { a: 'b' } });
    assert.equal(revealed.status, 409);
    assert.deepEqual(((await revealed.json()) as VariableDecrypted).Items, { path: 'app/db' });
  });

  test('anonymous requests see nothing', async () => {
    await callText(server, 'GET', '/v1/var/app/db', null, 403);
    assert.deepEqual(await listPaths(null), []);
    await callText(server, 'PUT', '/v1/var/app/db', null, 403, { Items: { a: 'b' } });
  });

  test('workload reads its own paths only', async () => {
    for (const path of [
      'nomad/jobs',
      'nomad/jobs/web',
      'nomad/jobs/web/frontend',
      'nomad/jobs/web/frontend/server',
    ]) {
      const read = await callJson<VariableDecrypted>(server, 'GET', `/v1/var/${path}`, WORKLOAD, 200);
      assert.deepEqual(read.Items, { path });
    }
    for (const path of ['nomad/jobs/api', 'nomad/jobs/web/backend', 'app/db']) {
      await callText(server, 'GET', `/v1/var/${path}`, WORKLOAD, 403);
    }
    // The other job's and the other group's paths under the same prefix do not leak.
    assert.deepEqual(await listPaths(WORKLOAD, '?prefix=nomad/jobs'), [
      'nomad/jobs',
      'nomad/jobs/web',
      'nomad/jobs/web/frontend',
      'nomad/jobs/web/frontend/server',
    ]);
    // Implicit access never includes write or destroy.
    await callText(server, 'PUT', '/v1/var/nomad/jobs/web', WORKLOAD, 403, { Items: { a: 'b' } });
    await callText(server, 'DELETE', '/v1/var/nomad/jobs/web', WORKLOAD, 403);
  });

  test('exact deny beats implicit access', async () => {
    await putPolicy(
      server,
      management,
      'deny-own',
      'namespace "default" { variables { path "nomad/jobs/web" { capabilities = ["deny"] } } }',
      { Namespace: 'default', JobID: 'web', Group: '', Task: '' },
    );
    await callText(server, 'GET', '/v1/var/nomad/jobs/web', WORKLOAD, 403);
    await callJson(server, 'GET', '/v1/var/nomad/jobs/web/frontend', WORKLOAD, 200);
  });
});
