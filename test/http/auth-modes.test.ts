import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { RequestError } from '../../src/server/request-error.js';
import { makePolicy, makeToken } from '../state/acl-fixtures.js';
import {
  bootstrapManagement,
  call,
  callJson,
  callText,
  createClientToken,
  putPolicy,
  type TokenJson,
} from './support/acl-api.js';
import { jobInput } from './support/fixtures.js';
import { startTestServer, type TestServer } from './support/test-backend.js';

/** Every route registered with mode `none`. */
const UNAUTHENTICATED_PATHS = [
  '/v1/status/leader',
  '/v1/status/peers',
  '/v1/agent/health',
  '/v1/metrics',
  '/.well-known/jwks.json',
  '/.well-known/openid-configuration',
];

const WRITE_DEFAULT = 'namespace "default" { policy = "write" }';
const READ_DEFAULT = 'namespace "default" { policy = "read" }';

describe('authentication modes of routes', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer({ aclEnabled: true });
    server.backend.issuer = 'https://signet.test';
  });
  afterEach(async () => {
    await server.close();
  });

  /** Stores an `anonymous` policy that no longer parses, as after a parser change between versions. */
  async function breakAnonymousPolicy(): Promise<void> {
    await server.backend.apply({
      type: 'acl-policy-upsert',
      v: 1,
      policies: [makePolicy({ Name: 'anonymous', Rules: 'namespace "default" {' })],
    });
  }

  test('mode none ignores a stale token', async () => {
    const stale = randomUUID();
    for (const path of UNAUTHENTICATED_PATHS) {
      const response = await call(server, 'GET', path, stale);
      assert.equal(response.status, 200, path);
    }
    assert.deepEqual(server.backend.authenticatedTokens, []);
  });

  test('mode none ignores a broken anonymous policy', async () => {
    await breakAnonymousPolicy();
    // A route that resolves the anonymous ACL fails, which shows that the policy is broken.
    assert.equal((await call(server, 'GET', '/v1/jobs', null)).status, 500);
    for (const path of UNAUTHENTICATED_PATHS) {
      const response = await call(server, 'GET', path, null);
      assert.equal(response.status, 200, path);
    }
  });

  test('mode none makes no consistent read', async () => {
    const before = server.backend.consistentReads;
    // The key set makes its own consistent read, unless `stale` is set, so that a verifier finds
    // every committed key.
    for (const path of UNAUTHENTICATED_PATHS) await call(server, 'GET', `${path}?stale`, null);
    assert.equal(server.backend.consistentReads, before);
  });

  test('bootstrap ignores an unknown token', async () => {
    const stale = randomUUID();
    const token = await callJson<TokenJson>(server, 'PUT', '/v1/acl/bootstrap', stale, 200);
    assert.equal(token.Type, 'management');
    assert.equal(server.backend.state.aclToken(token.AccessorID)?.SecretID, token.SecretID);

    const ignored = server.logLines.find(
      (line) => line.msg === 'request token failed, so the request runs anonymously',
    );
    assert.equal(ignored?.reason, 'Permission denied');
    assert.equal(ignored?.path, '/v1/acl/bootstrap');
    assert.doesNotMatch(JSON.stringify(server.logLines), new RegExp(stale));
  });

  test('bootstrap ignores an expired token', async () => {
    const nowNs = Date.now() * 1_000_000;
    const expired = makeToken({
      Policies: ['missing'],
      CreateTime: nowNs - 7_200_000_000_000,
      ExpirationTime: nowNs - 3_600_000_000_000,
    });
    await server.backend.apply({ type: 'acl-token-upsert', v: 1, tokens: [expired] });
    server.backend.principals.set(expired.SecretID, { kind: 'acl-token', secretId: expired.SecretID });
    assert.equal(await callText(server, 'GET', '/v1/jobs', expired.SecretID, 403), 'ACL token expired');

    const token = await callJson<TokenJson>(server, 'PUT', '/v1/acl/bootstrap', expired.SecretID, 200);
    assert.equal(token.Type, 'management');
  });

  test('agent endpoints work without a leader', async () => {
    const management = await bootstrapManagement(server);
    server.backend.consistentReadError = new RequestError(500, 'No cluster leader');
    assert.equal((await call(server, 'GET', '/v1/jobs', management)).status, 500);
    assert.equal((await call(server, 'GET', '/v1/agent/members', management)).status, 200);
    assert.equal((await call(server, 'GET', '/v1/agent/self', management)).status, 200);
    // They still authenticate, against this server's own state.
    assert.equal((await call(server, 'GET', '/v1/agent/members', randomUUID())).status, 403);
    assert.equal((await call(server, 'GET', '/v1/agent/self', null)).status, 403);
  });
});

describe('ACL resolution after the consistent read', () => {
  let server: TestServer;
  let management: string;
  let writer: TokenJson;
  beforeEach(async () => {
    server = await startTestServer({ aclEnabled: true });
    management = await bootstrapManagement(server);
    await putPolicy(server, management, 'write-default', WRITE_DEFAULT);
    writer = await createClientToken(server, management, ['write-default']);
  });
  afterEach(async () => {
    await server.close();
  });

  /** Makes the next consistent read apply `command`, as a lagging follower applies what the leader committed. */
  function commitOnLeader(command: Parameters<TestServer['backend']['apply']>[0]): void {
    server.backend.catchUp = async () => {
      await server.backend.apply(command);
    };
  }

  test('read sees a token deleted on the leader', async () => {
    commitOnLeader({ type: 'acl-token-delete', v: 1, accessorIds: [writer.AccessorID] });
    assert.equal(await callText(server, 'GET', '/v1/jobs', writer.SecretID!, 403), 'ACL token not found');
    assert.equal(server.backend.catchUp, null, 'the consistent read ran');
  });

  test('write sees a policy tightened on the leader', async () => {
    commitOnLeader({
      type: 'acl-policy-upsert',
      v: 1,
      policies: [makePolicy({ Name: 'write-default', Rules: READ_DEFAULT })],
    });
    const text = await callText(server, 'PUT', '/v1/jobs', writer.SecretID!, 403, { Job: jobInput('late') });
    assert.equal(
      text,
      'Permission denied: missing capability "submit-job" or "register-job" in namespace "default"',
    );
    assert.equal(server.backend.state.job('default', 'late'), null);
  });

  test('write sees a token deleted on the leader', async () => {
    await callJson(server, 'PUT', '/v1/jobs', writer.SecretID!, 200, { Job: jobInput('web') });
    commitOnLeader({ type: 'acl-token-delete', v: 1, accessorIds: [writer.AccessorID] });
    const text = await callText(server, 'DELETE', '/v1/job/web', writer.SecretID!, 403);
    assert.equal(text, 'ACL token not found');
    assert.equal(server.backend.state.job('default', 'web')?.Stop, false);
  });

  test('stale read resolves from local state', async () => {
    const before = server.backend.consistentReads;
    commitOnLeader({ type: 'acl-token-delete', v: 1, accessorIds: [writer.AccessorID] });
    assert.equal((await call(server, 'GET', '/v1/jobs?stale', writer.SecretID!)).status, 200);
    assert.equal(server.backend.consistentReads, before);
    assert.notEqual(server.backend.catchUp, null, 'no consistent read ran');
  });

  test('one consistent read per read, one write barrier per write', async () => {
    const before = server.backend.consistentReads;
    const barriers = server.backend.writeBarriers;
    await callJson(server, 'GET', '/v1/jobs', writer.SecretID!, 200);
    await callJson(server, 'GET', '/v1/jobs?index=1&wait=1ms', writer.SecretID!, 200);
    assert.equal(server.backend.consistentReads, before + 2);
    assert.equal(server.backend.writeBarriers, barriers);
    await callJson(server, 'PUT', '/v1/jobs', writer.SecretID!, 200, { Job: jobInput('web') });
    assert.equal(server.backend.consistentReads, before + 2);
    assert.equal(server.backend.writeBarriers, barriers + 1);
  });
});
