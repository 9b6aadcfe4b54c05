import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import * as jose from 'jose';
import { identityClaims, signIdentity } from '../../src/identity/index.js';
import { jwks, type SigningKey } from '../../src/keyring/index.js';
import { headerOf, makeAlloc, makeJob, makeSigningKey, makeTask, NOW_MS, payloadOf } from './fixtures.js';

function claimsFor(now = NOW_MS) {
  return identityClaims({
    alloc: makeAlloc(),
    job: makeJob(),
    task: makeTask('server'),
    region: 'global',
    issuer: 'https://signet.example',
    now,
  });
}

describe('signIdentity', () => {
  test('header is EdDSA with kid and typ', () => {
    const key = makeSigningKey();
    const token = signIdentity(key, claimsFor());
    assert.deepEqual(headerOf(token), { alg: 'EdDSA', kid: key.keyId, typ: 'JWT' });
    assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  test('payload is the claims', () => {
    const claims = claimsFor();
    assert.deepEqual(payloadOf(signIdentity(makeSigningKey(), claims)), { ...claims });
  });

  test('jose verifies from the JWKS alone', async () => {
    const keys = [makeSigningKey(), makeSigningKey()];
    const keySet = jose.createLocalJWKSet(jwks(keys));

    for (const key of keys) {
      const claims = claimsFor();
      const token = signIdentity(key, claims);
      const result = await jose.jwtVerify(token, keySet, {
        algorithms: ['EdDSA'],
        audience: 'nomadproject.io',
        issuer: 'https://signet.example',
        currentDate: new Date(NOW_MS),
      });
      assert.deepEqual(result.protectedHeader, { alg: 'EdDSA', kid: key.keyId, typ: 'JWT' });
      assert.deepEqual(result.payload, { ...claims });
    }
  });

  test('jose rejects a token of another key', async () => {
    const key = makeSigningKey();
    const keySet = jose.createLocalJWKSet(jwks([key]));
    // Same kid, different key material: the signature must not verify.
    const impostor: SigningKey = { ...makeSigningKey(), keyId: key.keyId };
    const token = signIdentity(impostor, claimsFor());
    await assert.rejects(
      jose.jwtVerify(token, keySet, { algorithms: ['EdDSA'], currentDate: new Date(NOW_MS) }),
      (err: unknown) => err instanceof jose.errors.JWSSignatureVerificationFailed,
    );
  });

  test('non-Ed25519 key is rejected', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    assert.throws(() => signIdentity({ keyId: 'rsa-key', privateKey, publicKey }, claimsFor()), TypeError);
  });
});
