import assert from 'node:assert/strict';
import { type KeyObject, randomUUID, sign } from 'node:crypto';
import { describe, test } from 'node:test';
import * as jose from 'jose';
import {
  deriveSigningKey,
  generateRootKey,
  jwks,
  publicJwk,
  SigningKeyCache,
} from '../../src/keyring/index.js';

const NOW_NS = 1_767_225_600_000_000_000;

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** Signs a compact JWS with node:crypto alone, without jose. */
function signJwt(kid: string, payload: Record<string, unknown>, privateKey: KeyObject): string {
  const signingInput = `${base64url({ alg: 'EdDSA', kid, typ: 'JWT' })}.${base64url(payload)}`;
  const signature = sign(null, Buffer.from(signingInput), privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}

function claims(): Record<string, unknown> {
  return {
    nomad_namespace: 'default',
    nomad_job_id: 'example',
    nomad_allocation_id: randomUUID(),
    nomad_task: 'redis',
    aud: ['nomadproject.io'],
    iat: Math.floor(Date.now() / 1000),
    nbf: Math.floor(Date.now() / 1000),
  };
}

async function rejectionCode(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof jose.errors.JOSEError, `expected a JOSEError, got ${String(err)}`);
    return err.code;
  }
  assert.fail('verification succeeded');
}

describe('signing key derivation', () => {
  test('same root key gives same key', () => {
    const { meta, material } = generateRootKey(NOW_NS);
    const first = deriveSigningKey(meta.KeyID, material);
    const second = deriveSigningKey(meta.KeyID, Buffer.from(material));
    assert.equal(first.privateKey.asymmetricKeyType, 'ed25519');
    assert.equal(first.keyId, meta.KeyID);
    assert.deepEqual(publicJwk(meta.KeyID, second.publicKey), publicJwk(meta.KeyID, first.publicKey));
    assert.deepEqual(
      first.privateKey.export({ format: 'der', type: 'pkcs8' }),
      second.privateKey.export({ format: 'der', type: 'pkcs8' }),
    );
  });

  test('different root keys give different keys', () => {
    const first = generateRootKey(NOW_NS);
    const second = generateRootKey(NOW_NS);
    const firstX = publicJwk('k', deriveSigningKey(first.meta.KeyID, first.material).publicKey).x;
    const secondX = publicJwk('k', deriveSigningKey(second.meta.KeyID, second.material).publicKey).x;
    assert.notEqual(firstX, secondX);
  });

  test('seed is not the root key material', () => {
    const { meta, material } = generateRootKey(NOW_NS);
    const der = deriveSigningKey(meta.KeyID, material).privateKey.export({ format: 'der', type: 'pkcs8' });
    assert.equal(der.length, 48);
    assert.notDeepEqual(der.subarray(16), material);
  });

  test('cache imports each key once', () => {
    const cache = new SigningKeyCache();
    const { meta, material } = generateRootKey(NOW_NS);
    const first = cache.get(meta.KeyID, material);
    assert.equal(cache.get(meta.KeyID, material), first);
    assert.equal(cache.size, 1);
    assert.ok(cache.has(meta.KeyID));
    assert.ok(cache.delete(meta.KeyID));
    assert.ok(!cache.has(meta.KeyID));
    assert.notEqual(cache.get(meta.KeyID, material), first);
  });
});

describe('JWKS', () => {
  test('public JWK has the Ed25519 members', () => {
    const { meta, material } = generateRootKey(NOW_NS);
    const key = deriveSigningKey(meta.KeyID, material);
    const jwk = publicJwk(meta.KeyID, key.publicKey);
    assert.equal(jwk.kty, 'OKP');
    assert.equal(jwk.crv, 'Ed25519');
    assert.equal(jwk.kid, meta.KeyID);
    assert.equal(jwk.alg, 'EdDSA');
    assert.equal(jwk.use, 'sig');
    assert.equal(Buffer.from(jwk.x, 'base64url').length, 32);
    assert.deepEqual(Object.keys(jwk).sort(), ['alg', 'crv', 'kid', 'kty', 'use', 'x']);
  });

  test('private key is not accepted', () => {
    const { meta, material } = generateRootKey(NOW_NS);
    const key = deriveSigningKey(meta.KeyID, material);
    assert.throws(() => publicJwk(meta.KeyID, key.privateKey), TypeError);
  });

  test('jose verifies a node:crypto token', async () => {
    const keys = [generateRootKey(NOW_NS), generateRootKey(NOW_NS)].map(({ meta, material }) =>
      deriveSigningKey(meta.KeyID, material),
    );
    const keySet = jose.createLocalJWKSet(jwks(keys));
    const payload = claims();

    for (const key of keys) {
      const token = signJwt(key.keyId, payload, key.privateKey);
      const result = await jose.jwtVerify(token, keySet, { algorithms: ['EdDSA'] });
      assert.equal(result.protectedHeader.kid, key.keyId);
      assert.equal(result.protectedHeader.alg, 'EdDSA');
      assert.equal(result.protectedHeader.typ, 'JWT');
      assert.deepEqual(result.payload, payload);
    }
  });

  test('jose rejects tampered and unknown-kid tokens', async () => {
    const { meta, material } = generateRootKey(NOW_NS);
    const key = deriveSigningKey(meta.KeyID, material);
    const keySet = jose.createLocalJWKSet(jwks([key]));
    const token = signJwt(key.keyId, claims(), key.privateKey);
    const [header, , signature] = token.split('.');

    const tampered = `${header}.${base64url({ ...claims(), nomad_job_id: 'other' })}.${signature}`;
    assert.equal(
      await rejectionCode(jose.jwtVerify(tampered, keySet, { algorithms: ['EdDSA'] })),
      'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    );

    const other = generateRootKey(NOW_NS);
    const otherKey = deriveSigningKey(other.meta.KeyID, other.material);
    const unknownKid = signJwt(otherKey.keyId, claims(), otherKey.privateKey);
    assert.equal(
      await rejectionCode(jose.jwtVerify(unknownKid, keySet, { algorithms: ['EdDSA'] })),
      'ERR_JWKS_NO_MATCHING_KEY',
    );

    // The right kid over another key's signature must fail too.
    const wrongKey = signJwt(key.keyId, claims(), otherKey.privateKey);
    assert.equal(
      await rejectionCode(jose.jwtVerify(wrongKey, keySet, { algorithms: ['EdDSA'] })),
      'ERR_JWS_SIGNATURE_VERIFICATION_FAILED',
    );
  });
});
