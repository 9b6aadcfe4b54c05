import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { AclPolicy, AclToken } from '../../src/state/store.js';
import type { Allocation } from '../../src/structs/allocation.js';
import type { Evaluation } from '../../src/structs/evaluation.js';
import { accessorId, secretId, workloadPrincipal } from '../server/acl/support.js';
import { makePolicy, makeToken } from '../state/acl-fixtures.js';
import { completeEvaluation, jobInput, registerNode, testNode } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/test-backend.js';

const POLICIES: Record<string, string> = {
  'read-default': 'namespace "default" { policy = "read" }',
  'operator-read': 'operator { policy = "read" }',
  'operator-write': 'operator { policy = "write" }',
  'agent-read': 'agent { policy = "read" }',
  'node-read': 'node { policy = "read" }',
  'register-only': 'namespace "default" { capabilities = ["register-job"] }',
  'deregister-only': 'namespace "default" { capabilities = ["deregister-job"] }',
};

/** Secret IDs of the test's tokens. Each client token gets the policies listed in `TOKENS`. */
const MANAGEMENT = secretId(1);
const READER = secretId(2);
const OPERATOR_READER = secretId(3);
const OPERATOR_WRITER = secretId(4);
const AGENT_NODE_READER = secretId(5);
const REGISTER_ONLY = secretId(6);
const DEREGISTER_ONLY = secretId(7);
const EXPIRED = secretId(8);
const WORKLOAD = 'workload-identity-token';

const TOKENS: [number, string[]][] = [
  [2, ['read-default']],
  [3, ['operator-read']],
  [4, ['operator-write']],
  [5, ['agent-read', 'node-read', 'read-default']],
  [6, ['register-only']],
  [7, ['deregister-only']],
];

describe('ACL enforcement on the HTTP API', () => {
  let server: TestServer;
  let defaultAllocs: Allocation[];
  let prodAllocs: Allocation[];
  let prodEval: Evaluation;
  let nodeId: string;

  async function call(method: string, path: string, token: string | null, body?: unknown): Promise<Response> {
    const headers: Record<string, string> = token === null ? {} : { 'X-Nomad-Token': token };
    return fetch(`${server.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  }

  async function assertStatus(
    method: string,
    path: string,
    token: string | null,
    status: number,
  ): Promise<void> {
    const response = await call(method, path, token);
    assert.equal(response.status, status, `${method} ${path}: ${await response.text()}`);
  }

  async function assertDenied(
    method: string,
    path: string,
    token: string | null,
    body?: unknown,
  ): Promise<void> {
    const response = await call(method, path, token, body);
    assert.equal(response.status, 403, `${method} ${path}`);
    // Nomad's prefix, which API clients look for, then what the ACL lacked.
    assert.match(await response.text(), /^Permission denied(: \S.*)?$/, `${method} ${path}`);
  }

  async function listIds(path: string, token: string | null, field = 'ID'): Promise<string[]> {
    const response = await call('GET', path, token);
    assert.equal(response.status, 200, `GET ${path}: ${await response.clone().text()}`);
    const rows = (await response.json()) as Record<string, unknown>[];
    return rows.map((row) => String(row[field])).sort();
  }

  async function registerJob(id: string, namespace: string): Promise<Evaluation> {
    const response = await call('PUT', `/v1/jobs?namespace=${namespace}`, MANAGEMENT, { Job: jobInput(id) });
    assert.equal(response.status, 200, await response.clone().text());
    const { EvalID } = (await response.json()) as { EvalID: string };
    return server.backend.state.evaluation(EvalID)!;
  }

  before(async () => {
    server = await startTestServer({ aclEnabled: true });
    const { backend } = server;

    const policies: AclPolicy[] = Object.entries(POLICIES).map(([Name, Rules]) =>
      makePolicy({ Name, Rules }),
    );
    await backend.apply({ type: 'acl-policy-upsert', v: 1, policies });
    const nowNs = Date.now() * 1_000_000;
    const tokens: AclToken[] = [
      makeToken({ AccessorID: accessorId(1), SecretID: MANAGEMENT, Type: 'management', Policies: [] }),
      ...TOKENS.map(([n, names]) =>
        makeToken({ AccessorID: accessorId(n), SecretID: secretId(n), Policies: names }),
      ),
      makeToken({
        AccessorID: accessorId(8),
        SecretID: EXPIRED,
        Policies: ['read-default'],
        CreateTime: nowNs - 7_200_000_000_000,
        ExpirationTime: nowNs - 3_600_000_000_000,
      }),
    ];
    await backend.apply({ type: 'acl-token-upsert', v: 1, tokens });
    for (const token of tokens)
      backend.principals.set(token.SecretID, { kind: 'acl-token', secretId: token.SecretID });
    backend.principals.set(WORKLOAD, workloadPrincipal());

    const node = testNode();
    nodeId = node.ID;
    await registerNode(backend, node);
    const created = await call('PUT', '/v1/namespace/prod', MANAGEMENT, { Name: 'prod' });
    assert.equal(created.status, 200);
    defaultAllocs = await completeEvaluation(backend, await registerJob('web', 'default'), {
      node,
      allocCount: 1,
    });
    prodEval = await registerJob('api', 'prod');
    prodAllocs = await completeEvaluation(backend, prodEval, { node, allocCount: 1 });
  });

  after(async () => {
    await server.close();
  });

  test('public endpoints need no token', async () => {
    for (const path of [
      '/v1/status/leader',
      '/v1/status/peers',
      '/v1/metrics',
      '/v1/agent/health',
      '/.well-known/jwks.json',
    ]) {
      await assertStatus('GET', path, null, 200);
    }
  });

  const PROTECTED_READS = [
    '/v1/agent/self',
    '/v1/agent/members',
    '/v1/jobs',
    '/v1/job/web',
    '/v1/job/web/allocations',
    '/v1/job/web/evaluations',
    '/v1/allocations',
    '/v1/evaluations',
    '/v1/nodes',
    '/v1/namespace/default',
    '/v1/operator/raft/configuration',
    '/v1/operator/keyring/keys',
  ];

  test('anonymous requests are denied', async () => {
    for (const path of PROTECTED_READS) await assertDenied('GET', path, null);
    await assertDenied('PUT', '/v1/operator/keyring/rotate', null);
    await assertDenied('PUT', '/v1/jobs', null, { Job: jobInput('sneaky') });
    assert.equal(server.backend.state.job('default', 'sneaky'), null);
  });

  test('anonymous namespace list is empty', async () => {
    assert.deepEqual(await listIds('/v1/namespaces', null, 'Name'), []);
  });

  test('management token is allowed', async () => {
    for (const path of PROTECTED_READS) await assertStatus('GET', path, MANAGEMENT, 200);
    assert.deepEqual(await listIds('/v1/namespaces', MANAGEMENT, 'Name'), ['default', 'prod']);
    assert.deepEqual(await listIds('/v1/jobs?namespace=*', MANAGEMENT), ['api', 'web']);
  });

  test('read-job token reads but cannot submit', async () => {
    assert.deepEqual(await listIds('/v1/jobs', READER), ['web']);
    await assertStatus('GET', '/v1/job/web', READER, 200);
    await assertStatus('GET', '/v1/job/web/allocations', READER, 200);
    await assertStatus('GET', '/v1/job/web/evaluations', READER, 200);

    await assertDenied('PUT', '/v1/jobs', READER, { Job: jobInput('reader-job') });
    assert.equal(server.backend.state.job('default', 'reader-job'), null);
    await assertDenied('DELETE', '/v1/job/web', READER);
    assert.equal(server.backend.state.job('default', 'web')?.Stop, false);
  });

  test('read-job token sees only its namespace', async () => {
    await assertDenied('GET', '/v1/jobs?namespace=prod', READER);
    await assertDenied('GET', '/v1/job/api?namespace=prod', READER);
    await assertDenied('GET', '/v1/allocations?namespace=prod', READER);
    await assertDenied('GET', '/v1/namespace/prod', READER);
    await assertStatus('GET', '/v1/namespace/default', READER, 200);

    assert.deepEqual(await listIds('/v1/jobs?namespace=*', READER), ['web']);
    assert.deepEqual(await listIds('/v1/namespaces', READER, 'Name'), ['default']);
    const defaultIds = defaultAllocs.map((alloc) => alloc.ID).sort();
    assert.deepEqual(await listIds('/v1/allocations?namespace=*', READER), defaultIds);
    const evalNamespaces = await listIds('/v1/evaluations?namespace=*', READER, 'Namespace');
    assert.deepEqual([...new Set(evalNamespaces)], ['default']);
  });

  test('by-ID reads check the row namespace', async () => {
    await assertStatus('GET', `/v1/allocation/${defaultAllocs[0]!.ID}`, READER, 200);
    await assertDenied('GET', `/v1/allocation/${prodAllocs[0]!.ID}`, READER);
    await assertDenied('GET', `/v1/evaluation/${prodEval.ID}`, READER);
    await assertDenied('GET', `/v1/evaluation/${prodEval.ID}/allocations`, READER);
    await assertStatus('GET', `/v1/allocation/${randomUUID()}`, READER, 404);
  });

  test('deny-all caller cannot probe IDs', async () => {
    await assertDenied('GET', `/v1/allocation/${randomUUID()}`, WORKLOAD);
    await assertDenied('GET', `/v1/evaluation/${randomUUID()}`, WORKLOAD);
  });

  test('keyring needs operator capabilities', async () => {
    await assertStatus('GET', '/v1/operator/keyring/keys', OPERATOR_READER, 200);
    await assertDenied('PUT', '/v1/operator/keyring/rotate', OPERATOR_READER);
    await assertDenied('DELETE', `/v1/operator/keyring/key/${randomUUID()}`, OPERATOR_READER);
    await assertDenied('GET', '/v1/operator/keyring/keys', READER);

    const rotated = await call('PUT', '/v1/operator/keyring/rotate', OPERATOR_WRITER);
    assert.equal(rotated.status, 200, await rotated.clone().text());
    assert.equal(server.backend.rootKeys().length, 1);
  });

  test('raft endpoints need management', async () => {
    for (const token of [OPERATOR_READER, OPERATOR_WRITER, AGENT_NODE_READER]) {
      await assertDenied('GET', '/v1/operator/raft/configuration', token);
      await assertDenied('PUT', '/v1/operator/raft/transfer-leadership', token);
      await assertDenied('DELETE', '/v1/operator/raft/peer?id=102', token);
    }
    assert.deepEqual(server.backend.transfers, []);
    assert.deepEqual(server.backend.removedPeers, []);
  });

  test('agent and node policies', async () => {
    await assertStatus('GET', '/v1/agent/self', AGENT_NODE_READER, 200);
    await assertStatus('GET', '/v1/agent/members', AGENT_NODE_READER, 200);
    await assertStatus('GET', '/v1/nodes', AGENT_NODE_READER, 200);
    await assertStatus('GET', `/v1/node/${nodeId}`, AGENT_NODE_READER, 200);
    await assertDenied('GET', '/v1/agent/self', READER);
    await assertDenied('GET', '/v1/nodes', READER);
    await assertDenied('GET', `/v1/node/${nodeId}/allocations`, READER);
  });

  test('node allocations keep readable namespaces', async () => {
    const path = `/v1/node/${nodeId}/allocations`;
    const defaultIds = defaultAllocs.map((alloc) => alloc.ID).sort();
    assert.deepEqual(await listIds(path, AGENT_NODE_READER), defaultIds);
    const allIds = [...defaultAllocs, ...prodAllocs].map((alloc) => alloc.ID).sort();
    assert.deepEqual(await listIds(path, MANAGEMENT), allIds);
  });

  test('fine-grained job capabilities', async () => {
    const registered = await call('PUT', '/v1/jobs', REGISTER_ONLY, { Job: jobInput('registered') });
    assert.equal(registered.status, 200, await registered.clone().text());
    await assertDenied('DELETE', '/v1/job/registered', REGISTER_ONLY);

    await assertDenied('PUT', '/v1/jobs', DEREGISTER_ONLY, { Job: jobInput('other') });
    await assertDenied('DELETE', '/v1/job/registered?purge=true', DEREGISTER_ONLY);
    assert.notEqual(server.backend.state.job('default', 'registered'), null);
    await assertStatus('DELETE', '/v1/job/registered', DEREGISTER_ONLY, 200);
    assert.equal(server.backend.state.job('default', 'registered')?.Stop, true);
  });

  test('namespace writes need management', async () => {
    for (const token of [READER, OPERATOR_WRITER, WORKLOAD]) {
      await assertDenied('PUT', '/v1/namespace/staging', token, { Name: 'staging' });
      await assertDenied('DELETE', '/v1/namespace/prod', token);
    }
    assert.equal(server.backend.state.namespace('staging'), null);
    assert.notEqual(server.backend.state.namespace('prod'), null);
    const created = await call('PUT', '/v1/namespace/staging', MANAGEMENT, { Name: 'staging' });
    assert.equal(created.status, 200);
  });

  test('workload identity is denied operator endpoints', async () => {
    await assertDenied('GET', '/v1/operator/raft/configuration', WORKLOAD);
    await assertDenied('GET', '/v1/operator/keyring/keys', WORKLOAD);
    await assertDenied('PUT', '/v1/operator/keyring/rotate', WORKLOAD);
    await assertDenied('GET', '/v1/agent/self', WORKLOAD);
    await assertDenied('GET', '/v1/jobs', WORKLOAD);
    await assertStatus('GET', '/v1/status/leader', WORKLOAD, 200);
  });

  test('expired token is rejected', async () => {
    const response = await call('GET', '/v1/jobs', EXPIRED);
    assert.equal(response.status, 403);
    assert.equal(await response.text(), 'ACL token expired');
  });

  test('unknown token is rejected', async () => {
    await assertDenied('GET', '/v1/jobs', secretId(99));
  });

  test('single-object endpoints reject namespace *', async () => {
    // READER may read jobs in `default` only, which the any-namespace rule would let through for `*`.
    for (const [method, path] of [
      ['GET', '/v1/job/web?namespace=*'],
      ['DELETE', '/v1/job/web?namespace=*'],
      ['GET', '/v1/job/web/allocations?namespace=*'],
      ['GET', '/v1/job/web/evaluations?namespace=*'],
      ['GET', '/v1/var/app/db?namespace=*'],
      ['DELETE', '/v1/var/app/db?namespace=*'],
    ] as const) {
      for (const token of [READER, MANAGEMENT]) {
        const response = await call(method, path, token);
        assert.equal(response.status, 400, `${method} ${path}`);
        assert.match(await response.text(), /^Invalid namespace "\*": /, `${method} ${path}`);
      }
    }
    const write = await call('PUT', '/v1/var/app/db?namespace=*', MANAGEMENT, { Items: { a: 'b' } });
    assert.equal(write.status, 400);
    assert.match(await write.text(), /^Invalid namespace "\*": /);
    const bodyNamespace = await call('PUT', '/v1/var/app/db', MANAGEMENT, {
      Namespace: '*',
      Items: { a: 'b' },
    });
    assert.equal(bodyNamespace.status, 400);
    assert.match(await bodyNamespace.text(), /^Invalid namespace "\*": /);
    assert.equal(server.backend.state.job('default', 'web')?.Stop, false);
  });
});
