import assert from 'node:assert/strict';
import { after, beforeEach, describe, test } from 'node:test';
import * as jose from 'jose';
import { JWKS_MAX_AGE_SECONDS } from '../../src/http/routes/well-known.js';
import type { JsonWebKeySet } from '../../src/keyring/index.js';
import { startTestServer, type TestServer } from './support/test-backend.js';

describe('well-known endpoints', () => {
  let server: TestServer;
  beforeEach(async () => {
    if (server !== undefined) await server.close();
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  async function fetchJwks(query = ''): Promise<{ response: Response; keySet: JsonWebKeySet }> {
    const response = await fetch(`${server.url}/.well-known/jwks.json${query}`);
    assert.equal(response.status, 200);
    return { response, keySet: (await response.json()) as JsonWebKeySet };
  }

  test('JWKS without keys has no cache header', async () => {
    const { response, keySet } = await fetchJwks();
    assert.deepEqual(keySet, { keys: [] });
    assert.equal(response.headers.get('cache-control'), null);
  });

  test('JWKS lists the public key of each key', async () => {
    const old = await server.backend.rotateRootKey(false);
    const current = await server.backend.rotateRootKey(false);
    const { response, keySet } = await fetchJwks();

    assert.deepEqual(
      keySet.keys.map((key) => key.kid),
      [old.Key.KeyID, current.Key.KeyID],
    );
    for (const key of keySet.keys) {
      assert.deepEqual(Object.keys(key).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
      assert.equal(key.kty, 'OKP');
      assert.equal(key.crv, 'Ed25519');
      assert.equal(key.alg, 'EdDSA');
      assert.equal(key.use, 'sig');
      // An Ed25519 public key is 32 bytes: 43 characters of unpadded base64url.
      assert.match(key.x, /^[A-Za-z0-9_-]{43}$/);
    }
    assert.notEqual(keySet.keys[0]!.x, keySet.keys[1]!.x);
    assert.equal(response.headers.get('cache-control'), `max-age=${JWKS_MAX_AGE_SECONDS}`);
    assert.equal(response.headers.get('x-nomad-index'), String(current.Index));
  });

  test('JWKS imports into jose', async () => {
    const created = await server.backend.rotateRootKey(false);
    const { keySet } = await fetchJwks();
    const key = await jose.importJWK(keySet.keys[0]!, 'EdDSA');
    assert.equal((key as { type: string }).type, 'public');
    const local = jose.createLocalJWKSet(keySet);
    const resolved = await local({ alg: 'EdDSA', kid: created.Key.KeyID });
    assert.equal((resolved as { type: string }).type, 'public');
  });

  test('JWKS drops a removed key', async () => {
    const old = await server.backend.rotateRootKey(false);
    const current = await server.backend.rotateRootKey(false);
    await server.backend.removeRootKey(old.Key.KeyID, false);
    const { keySet } = await fetchJwks();
    assert.deepEqual(
      keySet.keys.map((key) => key.kid),
      [current.Key.KeyID],
    );
  });

  test('JWKS read is consistent unless stale', async () => {
    const before = server.backend.consistentReads;
    await fetchJwks();
    assert.equal(server.backend.consistentReads, before + 1);
    await fetchJwks('?stale=true');
    assert.equal(server.backend.consistentReads, before + 1);
  });

  test('JWKS accepts only GET', async () => {
    const response = await fetch(`${server.url}/.well-known/jwks.json`, { method: 'POST' });
    assert.equal(response.status, 405);
  });

  test('OIDC discovery is off without an issuer', async () => {
    const response = await fetch(`${server.url}/.well-known/openid-configuration`);
    assert.equal(response.status, 404);
    assert.equal(await response.text(), 'OIDC Discovery endpoint disabled');
  });

  test('OIDC discovery document with an issuer', async () => {
    for (const issuer of ['https://signet.example.com', 'https://signet.example.com/']) {
      server.backend.issuer = issuer;
      const response = await fetch(`${server.url}/.well-known/openid-configuration`);
      assert.equal(response.status, 200, issuer);
      assert.deepEqual(await response.json(), {
        issuer,
        jwks_uri: 'https://signet.example.com/.well-known/jwks.json',
        id_token_signing_alg_values_supported: ['EdDSA'],
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
      });
    }
  });
});
