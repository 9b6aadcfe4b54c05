import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { workloadPrincipal } from '../server/acl/support.js';
import {
  bootstrapManagement,
  call,
  callJson,
  callText,
  createClientToken,
  putPolicy,
  type TokenJson,
  trustStoredTokens,
} from './support/acl-api.js';
import { startTestServer, type TestServer } from './support/test-backend.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;

describe('ACL bootstrap endpoint', () => {
  let server: TestServer;
  let folder: string;
  beforeEach(async () => {
    server = await startTestServer({ aclEnabled: true });
    folder = await mkdtemp(join(tmpdir(), 'signet-acl-bootstrap-'));
  });
  afterEach(async () => {
    await server.close();
    await rm(folder, { recursive: true, force: true });
  });

  test('creates one management token', async () => {
    const response = await call(server, 'PUT', '/v1/acl/bootstrap', null);
    assert.equal(response.status, 200);
    const token = (await response.json()) as TokenJson;
    assert.match(token.AccessorID, UUID);
    assert.match(token.SecretID!, UUID);
    assert.notEqual(token.SecretID, token.AccessorID);
    assert.equal(token.Name, 'Bootstrap Token');
    assert.equal(token.Type, 'management');
    assert.deepEqual(token.Policies, []);
    assert.equal(token.Global, true);
    assert.match(token.CreateTime, RFC3339);
    assert.equal(token.ExpirationTime, undefined);
    assert.equal(response.headers.get('x-nomad-index'), String(token.CreateIndex));
    assert.equal(server.backend.state.aclToken(token.AccessorID)?.SecretID, token.SecretID);
  });

  test('second attempt names the reset index', async () => {
    const first = await callJson<TokenJson>(server, 'POST', '/v1/acl/bootstrap', null, 200);
    const message = await callText(server, 'PUT', '/v1/acl/bootstrap', null, 400);
    assert.equal(message, `ACL bootstrap already done (reset index: ${first.CreateIndex})`);
    assert.equal(server.backend.state.aclTokens().length, 1);
  });

  test('reset file allows one more bootstrap', async () => {
    const first = await callJson<TokenJson>(server, 'PUT', '/v1/acl/bootstrap', null, 200);
    const resetFile = join(folder, 'acl-bootstrap-reset');
    server.backend.bootstrapResetFile = resetFile;
    await writeFile(resetFile, `${first.CreateIndex}\n`);

    const second = await callJson<TokenJson>(server, 'PUT', '/v1/acl/bootstrap', null, 200);
    assert.notEqual(second.AccessorID, first.AccessorID);
    assert.equal(server.backend.state.aclTokens().length, 2);

    // The file still names the old index, which no longer matches.
    const message = await callText(server, 'PUT', '/v1/acl/bootstrap', null, 400);
    assert.equal(
      message,
      `Invalid bootstrap reset index (specified ${first.CreateIndex}, reset index: ${second.CreateIndex})`,
    );
  });

  test('reset file with garbage is rejected', async () => {
    const resetFile = join(folder, 'acl-bootstrap-reset');
    server.backend.bootstrapResetFile = resetFile;
    await writeFile(resetFile, 'seven');
    const message = await callText(server, 'PUT', '/v1/acl/bootstrap', null, 400);
    assert.match(message, /invalid ACL bootstrap reset file/);
    assert.ok(message.includes(resetFile));
  });

  test('chosen secret and an invalid one', async () => {
    const secret = randomUUID();
    const token = await callJson<TokenJson>(server, 'PUT', '/v1/acl/bootstrap', null, 200, {
      BootstrapSecret: secret,
    });
    assert.equal(token.SecretID, secret);

    const other = await startTestServer({ aclEnabled: true });
    try {
      const bad = 'not-a-uuid-but-a-secret';
      const message = await callText(other, 'PUT', '/v1/acl/bootstrap', null, 400, { BootstrapSecret: bad });
      assert.match(message, /^invalid acl token/);
      assert.equal(message.includes(bad), false);
    } finally {
      await other.close();
    }
  });
});

describe('ACL endpoints with ACLs disabled', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer();
  });
  afterEach(async () => {
    await server.close();
  });

  test('every ACL endpoint answers 400', async () => {
    for (const [method, path] of [
      ['PUT', '/v1/acl/bootstrap'],
      ['GET', '/v1/acl/tokens'],
      ['GET', '/v1/acl/token/self'],
      ['GET', '/v1/acl/policies'],
      ['GET', '/v1/acl/policy/anonymous'],
      ['DELETE', '/v1/acl/policy/anonymous'],
    ] as const) {
      const message = await callText(server, method, path, null, 400);
      assert.equal(message, 'ACL support disabled', `${method} ${path}`);
    }
  });
});

describe('ACL token endpoints', () => {
  let server: TestServer;
  let management: string;
  beforeEach(async () => {
    server = await startTestServer({ aclEnabled: true });
    management = await bootstrapManagement(server);
    await putPolicy(server, management, 'readonly', 'namespace "default" { policy = "read" }');
  });
  afterEach(async () => {
    await server.close();
  });

  test('create a client token', async () => {
    const response = await call(server, 'PUT', '/v1/acl/token', management, {
      Name: 'deploy',
      Type: 'client',
      Policies: ['readonly', 'readonly'],
    });
    assert.equal(response.status, 200);
    const token = (await response.json()) as TokenJson;
    assert.match(token.SecretID!, UUID);
    assert.equal(token.Name, 'deploy');
    assert.deepEqual(token.Policies, ['readonly']);
    assert.equal(token.Global, false);
    assert.equal(response.headers.get('x-nomad-index'), String(token.ModifyIndex));
    assert.equal(server.backend.state.aclToken(token.AccessorID)?.Name, 'deploy');
  });

  test('ttl sets the expiration time', async () => {
    const before = Date.now();
    const token = await callJson<TokenJson>(server, 'PUT', '/v1/acl/token', management, 200, {
      Type: 'client',
      Policies: ['readonly'],
      ExpirationTTL: '1h',
    });
    const expires = Date.parse(token.ExpirationTime!);
    assert.ok(expires >= before + 3_600_000 - 1, token.ExpirationTime);
    assert.ok(expires <= Date.now() + 3_600_000, token.ExpirationTime);

    const nanos = await callJson<TokenJson>(server, 'PUT', '/v1/acl/token', management, 200, {
      Type: 'client',
      Policies: ['readonly'],
      ExpirationTTL: 2 * 3_600_000_000_000,
    });
    assert.ok(Date.parse(nanos.ExpirationTime!) >= before + 7_200_000 - 1);
  });

  test('ttl outside 1m to 24h is rejected', async () => {
    for (const [ttl, fragment] of [
      ['30s', 'expiration time cannot be less than 1m0s in the future'],
      ['25h', 'expiration time cannot be more than 24h0m0s in the future'],
      ['soon', 'ExpirationTTL must be a duration'],
    ] as const) {
      const message = await callText(server, 'PUT', '/v1/acl/token', management, 400, {
        Type: 'client',
        Policies: ['readonly'],
        ExpirationTTL: ttl,
      });
      assert.ok(message.includes(fragment), message);
    }
    assert.equal(server.backend.state.aclTokens().length, 1);
  });

  test('type and policies must agree', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ Type: 'client', Policies: [] }, 'client token missing policies'],
      [{ Type: 'management', Policies: ['readonly'] }, 'management token cannot be associated with policies'],
      [{ Type: 'admin', Policies: [] }, 'token type must be client or management'],
      [{ Type: 'client', Policies: ['no spaces allowed'] }, 'invalid policy name'],
      [{ Type: 'client', Policies: ['readonly'], Roles: [{ Name: 'ops' }] }, 'no ACL roles'],
    ];
    for (const [body, fragment] of cases) {
      const message = await callText(server, 'PUT', '/v1/acl/token', management, 400, body);
      assert.ok(message.includes(fragment), `${JSON.stringify(body)}: ${message}`);
    }
  });

  test('writes need a management token', async () => {
    const client = await createClientToken(server, management, ['readonly']);
    for (const token of [client.SecretID!, null]) {
      const message = await callText(server, 'PUT', '/v1/acl/token', token, 403, {
        Type: 'management',
      });
      assert.equal(message, 'Permission denied: a management token is required');
      await callText(server, 'GET', '/v1/acl/tokens', token, 403);
      await callText(server, 'DELETE', `/v1/acl/token/${client.AccessorID}`, token, 403);
      await callText(server, 'POST', `/v1/acl/token/${client.AccessorID}`, token, 403, {
        Type: 'management',
      });
    }
    assert.ok(server.backend.state.aclToken(client.AccessorID) !== null);
  });

  test('list returns stubs without secrets', async () => {
    const client = await createClientToken(server, management, ['readonly'], 'deploy');
    const response = await call(server, 'GET', '/v1/acl/tokens', management);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-nomad-index'), String(server.backend.state.tableIndex('aclTokens')));
    const tokens = (await response.json()) as TokenJson[];
    assert.equal(tokens.length, 2);
    for (const token of tokens) assert.equal('SecretID' in token, false);
    const listed = tokens.find((token) => token.AccessorID === client.AccessorID);
    assert.equal(listed?.Name, 'deploy');
    assert.deepEqual(listed?.Policies, ['readonly']);

    const filtered = await callJson<TokenJson[]>(
      server,
      'GET',
      `/v1/acl/tokens?prefix=${client.AccessorID.slice(0, 8)}`,
      management,
      200,
    );
    assert.deepEqual(
      filtered.map((token) => token.AccessorID),
      [client.AccessorID],
    );
  });

  test('read by management or by itself', async () => {
    const alice = await createClientToken(server, management, ['readonly'], 'alice');
    const bob = await createClientToken(server, management, ['readonly'], 'bob');

    const byManagement = await callJson<TokenJson>(
      server,
      'GET',
      `/v1/acl/token/${alice.AccessorID}`,
      management,
      200,
    );
    assert.equal(byManagement.SecretID, alice.SecretID);
    const byItself = await callJson<TokenJson>(
      server,
      'GET',
      `/v1/acl/token/${alice.AccessorID}`,
      alice.SecretID!,
      200,
    );
    assert.equal(byItself.Name, 'alice');

    assert.equal(
      await callText(server, 'GET', `/v1/acl/token/${alice.AccessorID}`, bob.SecretID!, 403),
      'Permission denied: a management token is required',
    );
    // Another caller learns nothing about whether a token exists.
    await callText(server, 'GET', `/v1/acl/token/${randomUUID()}`, bob.SecretID!, 403);
    assert.equal(
      await callText(server, 'GET', `/v1/acl/token/${randomUUID()}`, management, 404),
      'ACL token not found',
    );
  });

  test('self returns the caller token', async () => {
    const alice = await createClientToken(server, management, ['readonly'], 'alice');
    const self = await callJson<TokenJson>(server, 'GET', '/v1/acl/token/self', alice.SecretID!, 200);
    assert.equal(self.AccessorID, alice.AccessorID);
    assert.equal(self.SecretID, alice.SecretID);

    assert.equal(await callText(server, 'GET', '/v1/acl/token/self', null, 404), 'ACL token not found');
    server.backend.principals.set('workload-jwt', workloadPrincipal());
    await callText(server, 'GET', '/v1/acl/token/self', 'workload-jwt', 404);
  });

  test('update keeps the immutable fields', async () => {
    await putPolicy(server, management, 'ops', 'node { policy = "read" }');
    const created = await callJson<TokenJson>(server, 'PUT', '/v1/acl/token', management, 200, {
      Name: 'deploy',
      Type: 'client',
      Policies: ['readonly'],
      ExpirationTTL: '2h',
    });
    const updated = await callJson<TokenJson>(
      server,
      'POST',
      `/v1/acl/token/${created.AccessorID}`,
      management,
      200,
      { ...created, Name: 'renamed', Policies: ['ops'], SecretID: randomUUID() },
    );
    assert.equal(updated.Name, 'renamed');
    assert.deepEqual(updated.Policies, ['ops']);
    assert.equal(updated.SecretID, created.SecretID);
    assert.equal(updated.CreateTime, created.CreateTime);
    assert.equal(updated.ExpirationTime, created.ExpirationTime);
    assert.equal(updated.CreateIndex, created.CreateIndex);
    assert.ok(updated.ModifyIndex > created.ModifyIndex);

    // A body that names the AccessorID on the create path updates too.
    const again = await callJson<TokenJson>(server, 'PUT', '/v1/acl/token', management, 200, {
      AccessorID: created.AccessorID,
      Name: 'again',
      Type: 'management',
    });
    assert.equal(again.Type, 'management');
    assert.deepEqual(again.Policies, []);
    assert.equal(server.backend.state.aclTokens().length, 2);
  });

  test('update rejects what cannot change', async () => {
    const created = await createClientToken(server, management, ['readonly']);
    const path = `/v1/acl/token/${created.AccessorID}`;
    const cases: [Record<string, unknown>, string][] = [
      [
        { AccessorID: randomUUID(), Type: 'client', Policies: ['readonly'] },
        'does not match the request path',
      ],
      [{ Type: 'client', Policies: ['readonly'], Global: true }, 'cannot toggle the Global value'],
      [{ Type: 'client', Policies: ['readonly'], ExpirationTTL: '1h' }, 'cannot set ExpirationTTL'],
    ];
    for (const [body, fragment] of cases) {
      const message = await callText(server, 'POST', path, management, 400, body);
      assert.ok(message.includes(fragment), message);
    }
    const missing = await callText(server, 'POST', `/v1/acl/token/${randomUUID()}`, management, 404, {
      Type: 'client',
      Policies: ['readonly'],
    });
    assert.equal(missing, 'ACL token not found');
  });

  test('delete and delete again', async () => {
    const created = await createClientToken(server, management, ['readonly']);
    const response = await call(server, 'DELETE', `/v1/acl/token/${created.AccessorID}`, management);
    assert.equal(response.status, 200);
    assert.ok(Number(response.headers.get('x-nomad-index')) > created.ModifyIndex);
    assert.equal(server.backend.state.aclToken(created.AccessorID), null);

    await callText(server, 'DELETE', `/v1/acl/token/${created.AccessorID}`, management, 404);
    await callText(server, 'DELETE', '/v1/acl/token/not-a-uuid', management, 404);
  });

  test('secrets stay out of the log', async () => {
    const created = await createClientToken(server, management, ['readonly']);
    await callText(server, 'DELETE', `/v1/acl/token/${created.AccessorID}`, management, 200);
    await callText(server, 'PUT', '/v1/acl/bootstrap', null, 400);
    trustStoredTokens(server.backend);
    const log = JSON.stringify([...server.logLines, ...server.backend.operationLogLines]);
    assert.ok(server.backend.operationLogLines.length > 0, 'the writers logged nothing');
    assert.equal(log.includes(management), false);
    assert.equal(log.includes(created.SecretID!), false);
  });
});
