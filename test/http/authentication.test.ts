import assert from 'node:assert/strict';
import type { IncomingHttpHeaders } from 'node:http';
import { after, before, beforeEach, describe, test } from 'node:test';
import { requestToken } from '../../src/http/request-token.js';
import { startTestServer, type TestServer } from './support/test-backend.js';

describe('requestToken', () => {
  const cases: [string, IncomingHttpHeaders, string | null][] = [
    ['no headers', {}, null],
    ['X-Nomad-Token', { 'x-nomad-token': 'abc' }, 'abc'],
    ['X-Nomad-Token trimmed', { 'x-nomad-token': '  abc \t' }, 'abc'],
    ['blank X-Nomad-Token falls through', { 'x-nomad-token': '  ', authorization: 'Bearer xyz' }, 'xyz'],
    ['X-Nomad-Token wins', { 'x-nomad-token': 'abc', authorization: 'Bearer xyz' }, 'abc'],
    ['Bearer', { authorization: 'Bearer xyz' }, 'xyz'],
    ['scheme of any case', { authorization: 'bEaReR xyz' }, 'xyz'],
    ['first word after the scheme', { authorization: 'Bearer   xyz trailing words' }, 'xyz'],
    ['tab after the scheme', { authorization: 'Bearer\txyz' }, 'xyz'],
    ['Basic ignored', { authorization: 'Basic dXNlcjpwYXNz' }, null],
    ['scheme without token', { authorization: 'Bearer' }, null],
    ['scheme with blanks only', { authorization: 'Bearer   ' }, null],
    ['token without scheme', { authorization: 'xyz' }, null],
  ];
  for (const [name, headers, expected] of cases) {
    test(name, () => {
      assert.equal(requestToken(headers), expected);
    });
  }
});

describe('request authentication', () => {
  const ACL_TOKEN = 'e2a4c3c1-5d39-4f4e-9a0b-6d6f1c1d2a7e';
  const SECRET_LOOKING = 'secret-token-that-must-not-be-logged';
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    server.backend.principals.set(ACL_TOKEN, { kind: 'acl-token', secretId: ACL_TOKEN });
  });
  beforeEach(() => {
    server.backend.authenticatedTokens.length = 0;
  });
  after(async () => {
    await server.close();
  });

  // A route with the default mode, `required`. ACLs are disabled, so only authentication can deny it.
  const probe = (headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${server.url}/v1/namespaces`, { headers });

  test('request without a token is anonymous', async () => {
    const response = await probe();
    assert.equal(response.status, 200);
    assert.deepEqual(server.backend.authenticatedTokens, []);
  });

  test('valid X-Nomad-Token proceeds', async () => {
    const response = await probe({ 'X-Nomad-Token': ACL_TOKEN });
    assert.equal(response.status, 200);
    assert.deepEqual(server.backend.authenticatedTokens, [ACL_TOKEN]);
  });

  test('valid bearer token proceeds', async () => {
    const response = await probe({ Authorization: `Bearer ${ACL_TOKEN}` });
    assert.equal(response.status, 200);
    assert.deepEqual(server.backend.authenticatedTokens, [ACL_TOKEN]);
  });

  test('invalid token gets 403 Permission denied', async () => {
    const response = await probe({ 'X-Nomad-Token': SECRET_LOOKING });
    assert.equal(response.status, 403);
    assert.equal(await response.text(), 'Permission denied');
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain/);
  });

  test('X-Nomad-Token takes precedence over bearer', async () => {
    const response = await probe({ 'X-Nomad-Token': SECRET_LOOKING, Authorization: `Bearer ${ACL_TOKEN}` });
    assert.equal(response.status, 403);
    assert.deepEqual(server.backend.authenticatedTokens, [SECRET_LOOKING]);
  });

  test('other authorization schemes are anonymous', async () => {
    const response = await probe({ Authorization: 'Basic dXNlcjpwYXNz' });
    assert.equal(response.status, 200);
    assert.deepEqual(server.backend.authenticatedTokens, []);
  });

  test('a write with an invalid token changes nothing', async () => {
    const response = await fetch(`${server.url}/v1/operator/keyring/rotate`, {
      method: 'PUT',
      headers: { 'X-Nomad-Token': SECRET_LOOKING },
    });
    assert.equal(response.status, 403);
    assert.deepEqual(server.backend.rootKeys(), []);
  });

  test('routes of mode none skip authentication', async () => {
    for (const path of [
      '/.well-known/jwks.json',
      '/.well-known/openid-configuration',
      '/v1/status/leader',
      '/v1/status/peers',
      '/v1/agent/health',
      '/v1/metrics',
    ]) {
      const response = await fetch(`${server.url}${path}`, { headers: { 'X-Nomad-Token': SECRET_LOOKING } });
      assert.notEqual(response.status, 403, path);
    }
    assert.deepEqual(server.backend.authenticatedTokens, []);
  });

  test('unknown path is 404 before authentication', async () => {
    const response = await fetch(`${server.url}/v1/no-such-endpoint`, {
      headers: { 'X-Nomad-Token': SECRET_LOOKING },
    });
    assert.equal(response.status, 404);
    assert.deepEqual(server.backend.authenticatedTokens, []);
  });

  test('tokens never reach the log', async () => {
    await probe({ 'X-Nomad-Token': SECRET_LOOKING });
    await probe({ Authorization: `Bearer ${SECRET_LOOKING}` });
    await probe({ 'X-Nomad-Token': ACL_TOKEN });
    const failures = server.logLines.filter(
      (line) => line.msg === 'HTTP request failed' && line.status === 403,
    );
    assert.ok(failures.length >= 2, 'the rejections are logged');
    const log = JSON.stringify(server.logLines);
    assert.doesNotMatch(log, new RegExp(SECRET_LOOKING));
    assert.doesNotMatch(log, new RegExp(ACL_TOKEN));
  });
});
