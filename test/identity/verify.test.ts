import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, test } from 'node:test';
import * as jose from 'jose';
import {
  type IdentityClaims,
  IdentityError,
  type IdentityErrorCode,
  identityClaims,
  MAX_TOKEN_LENGTH,
  signIdentity,
  type VerifyIdentityOptions,
  verifyIdentity,
} from '../../src/identity/index.js';
import type { SigningKey } from '../../src/keyring/index.js';
import {
  base64urlJson,
  keyLookup,
  makeAlloc,
  makeJob,
  makeSigningKey,
  makeTask,
  NOW_MS,
  signRaw,
} from './fixtures.js';

const HOUR_NS = 3_600_000_000_000;

function claimsFor(now = NOW_MS, ttlNs = 0): IdentityClaims {
  return identityClaims({
    alloc: makeAlloc(),
    job: makeJob(),
    task: makeTask('server', { Name: 'default', Audience: [], Env: false, File: true, TTL: ttlNs }),
    region: 'global',
    now,
  });
}

/** Copies claims into jose's payload type, whose `aud` is a mutable array. */
function josePayload(claims: IdentityClaims): jose.JWTPayload {
  return { ...claims, aud: [...claims.aud] };
}

/** Key material, in every encoding it could leak in, that no message may contain. */
function secretsOf(key: SigningKey): string[] {
  const seed = key.privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(16);
  return [seed.toString('base64url'), seed.toString('base64'), seed.toString('hex')];
}

/**
 * Verifies `token` expecting a rejection, and returns the IdentityError after checking that its
 * message quotes neither the token, nor any of its parts, nor the key material.
 */
async function rejection(
  token: string,
  options: { key: VerifyIdentityOptions['key']; now?: number; leewaySeconds?: number },
  secrets: string[] = [],
): Promise<IdentityError> {
  try {
    await verifyIdentity(token, { now: NOW_MS, ...options });
  } catch (err) {
    assert.ok(err instanceof IdentityError, `expected an IdentityError, got ${String(err)}`);
    for (const part of [token, ...String(token).split('.')]) {
      if (part.length >= 8) assert.equal(err.message.includes(part), false, 'message contains a token part');
    }
    for (const secret of secrets)
      assert.equal(err.message.includes(secret), false, 'message contains key material');
    return err;
  }
  assert.fail('verification succeeded');
}

async function codeOf(token: string, key: SigningKey, now = NOW_MS): Promise<IdentityErrorCode> {
  return (await rejection(token, { key: keyLookup(key).key, now }, secretsOf(key))).code;
}

describe('verifyIdentity accepts', () => {
  test('token it signed', async () => {
    const key = makeSigningKey();
    const claims = claimsFor();
    const lookup = keyLookup(key);
    const verified = await verifyIdentity(signIdentity(key, claims), { key: lookup.key, now: NOW_MS });
    assert.deepEqual(verified, claims);
    assert.deepEqual(lookup.calls, [key.keyId]);
  });

  test('token jose signed', async () => {
    const key = makeSigningKey();
    const claims = claimsFor();
    const token = await new jose.SignJWT(josePayload(claims))
      .setProtectedHeader({ alg: 'EdDSA', kid: key.keyId, typ: 'JWT' })
      .sign(key.privateKey);
    assert.deepEqual(await verifyIdentity(token, { key: keyLookup(key).key, now: NOW_MS }), claims);
  });

  test('token without typ', async () => {
    const key = makeSigningKey();
    const claims = claimsFor();
    const token = signRaw({ alg: 'EdDSA', kid: key.keyId }, claims, key.privateKey);
    assert.deepEqual(await verifyIdentity(token, { key: keyLookup(key).key, now: NOW_MS }), claims);
  });

  test('unknown claims are dropped', async () => {
    const key = makeSigningKey();
    const claims = claimsFor();
    const token = signRaw({ alg: 'EdDSA', kid: key.keyId }, { ...claims, extra: 1 }, key.privateKey);
    assert.deepEqual(await verifyIdentity(token, { key: keyLookup(key).key, now: NOW_MS }), claims);
  });
});

describe('verifyIdentity rejects', () => {
  test('tampered payload', async () => {
    const key = makeSigningKey();
    const [header, , signature] = signIdentity(key, claimsFor()).split('.');
    const forged = base64urlJson({ ...claimsFor(), nomad_job_id: 'admin' });
    const error = await rejection(
      `${header}.${forged}.${signature}`,
      { key: keyLookup(key).key },
      secretsOf(key),
    );
    assert.equal(error.code, 'SIGNATURE_INVALID');
    assert.equal(error.keyId, key.keyId);
  });

  test('tampered signature', async () => {
    const key = makeSigningKey();
    const [header, payload, signature] = signIdentity(key, claimsFor()).split('.') as [
      string,
      string,
      string,
    ];
    const bytes = Buffer.from(signature, 'base64url');
    bytes[10] = bytes[10]! ^ 0x01;
    assert.equal(
      await codeOf(`${header}.${payload}.${bytes.toString('base64url')}`, key),
      'SIGNATURE_INVALID',
    );
    const truncated = bytes.subarray(0, 63).toString('base64url');
    assert.equal(await codeOf(`${header}.${payload}.${truncated}`, key), 'SIGNATURE_INVALID');
  });

  test('right kid, other key', async () => {
    const key = makeSigningKey();
    const other = makeSigningKey();
    const token = signRaw({ alg: 'EdDSA', kid: key.keyId, typ: 'JWT' }, claimsFor(), other.privateKey);
    assert.equal(await codeOf(token, key), 'SIGNATURE_INVALID');
  });

  test('alg none', async () => {
    const key = makeSigningKey();
    const lookup = keyLookup(key);
    const unsecured = new jose.UnsecuredJWT(josePayload(claimsFor())).encode();
    assert.equal((await rejection(unsecured, { key: lookup.key })).code, 'ALGORITHM_NOT_ALLOWED');

    // With a kid and even a real Ed25519 signature, `none` is still refused.
    const signed = signIdentity(key, claimsFor()).split('.');
    const noneHeader = base64urlJson({ alg: 'none', kid: key.keyId, typ: 'JWT' });
    for (const signature of ['', signed[2]]) {
      const token = `${noneHeader}.${signed[1]}.${signature}`;
      assert.equal((await rejection(token, { key: lookup.key })).code, 'ALGORITHM_NOT_ALLOWED');
    }
    assert.deepEqual(lookup.calls, []);
  });

  test('HS256 keyed with the public key', async () => {
    const key = makeSigningKey();
    const lookup = keyLookup(key);
    const rawPublicKey = Buffer.from(key.publicKey.export({ format: 'jwk' }).x ?? '', 'base64url');
    const pemPublicKey = Buffer.from(key.publicKey.export({ format: 'pem', type: 'spki' }));
    assert.equal(rawPublicKey.length, 32);

    for (const secret of [rawPublicKey, pemPublicKey]) {
      const token = await new jose.SignJWT(josePayload(claimsFor()))
        .setProtectedHeader({ alg: 'HS256', kid: key.keyId, typ: 'JWT' })
        .sign(secret);
      // The forgery is a genuine HMAC under the public key, so only the pinned algorithm stops it.
      await jose.jwtVerify(token, secret, { currentDate: new Date(NOW_MS) });
      assert.equal((await rejection(token, { key: lookup.key })).code, 'ALGORITHM_NOT_ALLOWED');
    }
    assert.deepEqual(lookup.calls, []);
  });

  test('RS256 and other algorithms', async () => {
    const key = makeSigningKey();
    const lookup = keyLookup(key);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rs256 = await new jose.SignJWT(josePayload(claimsFor()))
      .setProtectedHeader({ alg: 'RS256', kid: key.keyId, typ: 'JWT' })
      .sign(rsa.privateKey);
    assert.equal((await rejection(rs256, { key: lookup.key })).code, 'ALGORITHM_NOT_ALLOWED');

    for (const alg of ['Ed25519', 'eddsa', 'ES256', undefined, 7]) {
      const token = signRaw({ alg, kid: key.keyId, typ: 'JWT' }, claimsFor(), key.privateKey);
      assert.equal((await rejection(token, { key: lookup.key })).code, 'ALGORITHM_NOT_ALLOWED', String(alg));
    }
    assert.deepEqual(lookup.calls, []);
  });

  test('unknown kid', async () => {
    const known = makeSigningKey();
    const unknown = makeSigningKey();
    const lookup = keyLookup(known);
    const error = await rejection(signIdentity(unknown, claimsFor()), { key: lookup.key });
    assert.equal(error.code, 'KEY_UNKNOWN');
    assert.equal(error.keyId, unknown.keyId);
    assert.deepEqual(lookup.calls, [unknown.keyId]);
  });

  test('kid that is not a key id', async () => {
    const key = makeSigningKey();
    const lookup = keyLookup(key);
    const token = signRaw({ alg: 'EdDSA', kid: '../../etc/passwd', typ: 'JWT' }, claimsFor(), key.privateKey);
    assert.equal((await rejection(token, { key: lookup.key })).code, 'KEY_UNKNOWN');
    assert.deepEqual(lookup.calls, []);
  });

  test('missing kid', async () => {
    const key = makeSigningKey();
    const lookup = keyLookup(key);
    for (const header of [
      { alg: 'EdDSA', typ: 'JWT' },
      { alg: 'EdDSA', kid: '', typ: 'JWT' },
    ]) {
      const token = signRaw(header, claimsFor(), key.privateKey);
      assert.equal((await rejection(token, { key: lookup.key })).code, 'KEY_ID_MISSING');
    }
    assert.deepEqual(lookup.calls, []);
  });

  test('malformed tokens', async () => {
    const key = makeSigningKey();
    const token = signIdentity(key, claimsFor());
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const lastIndex = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(
      signature.at(-1)!,
    );
    // 64 bytes use 512 of the last part's 516 bits; flipping a stray bit keeps the same bytes.
    const strayBit = `${signature.slice(0, -1)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[lastIndex ^ 1]}`;
    assert.deepEqual(Buffer.from(strayBit, 'base64url'), Buffer.from(signature, 'base64url'));

    const cases: Record<string, string> = {
      'two parts': `${header}.${payload}`,
      'four parts': `${token}.${signature}`,
      'empty header': `.${payload}.${signature}`,
      'empty payload': `${header}..${signature}`,
      padding: `${header}.${payload}.${signature}==`,
      'standard base64': `${header}.${payload}.${signature.replaceAll('-', '+').replaceAll('_', '/')}+`,
      'stray bits': `${header}.${payload}.${strayBit}`,
      'header not JSON': `${Buffer.from('{"alg":').toString('base64url')}.${payload}.${signature}`,
      'header array': `${base64urlJson(['EdDSA'])}.${payload}.${signature}`,
      'header null': `${base64urlJson(null)}.${payload}.${signature}`,
      'typ not JWT': signRaw({ alg: 'EdDSA', kid: key.keyId, typ: 'jwt' }, claimsFor(), key.privateKey),
      crit: signRaw({ alg: 'EdDSA', kid: key.keyId, crit: ['b64'], b64: false }, claimsFor(), key.privateKey),
      'kid not a string': signRaw({ alg: 'EdDSA', kid: 42 }, claimsFor(), key.privateKey),
      oversized: `${header}.${'A'.repeat(MAX_TOKEN_LENGTH)}.${signature}`,
      empty: '',
    };
    for (const [name, malformed] of Object.entries(cases)) {
      assert.equal(await codeOf(malformed, key), 'TOKEN_MALFORMED', name);
    }
    const notAString = await rejection(42 as unknown as string, { key: keyLookup(key).key });
    assert.equal(notAString.code, 'TOKEN_MALFORMED');
  });

  test('invalid claims', async () => {
    const key = makeSigningKey();
    const { nomad_task: _task, ...withoutTask } = claimsFor();
    const header = { alg: 'EdDSA', kid: key.keyId, typ: 'JWT' };
    const payloads: Record<string, unknown> = {
      'missing nomad_task': withoutTask,
      'empty namespace': { ...claimsFor(), nomad_namespace: '' },
      'aud as a string': { ...claimsFor(), aud: 'nomadproject.io' },
      'iat as a string': { ...claimsFor(), iat: String(NOW_MS / 1000) },
      'exp null': { ...claimsFor(), exp: null },
      'iss a number': { ...claimsFor(), iss: 1 },
      'payload array': [claimsFor()],
    };
    for (const [name, payload] of Object.entries(payloads)) {
      const error = await rejection(signRaw(header, payload, key.privateKey), { key: keyLookup(key).key });
      assert.equal(error.code, 'CLAIMS_INVALID', name);
      assert.equal(error.keyId, key.keyId, name);
    }

    // Signed, but the payload is not JSON at all.
    const signingInput = `${base64urlJson(header)}.${Buffer.from('not json').toString('base64url')}`;
    const signature = sign(null, Buffer.from(signingInput), key.privateKey).toString('base64url');
    assert.equal(await codeOf(`${signingInput}.${signature}`, key), 'CLAIMS_INVALID');
  });
});

describe('verifyIdentity key lookup', () => {
  test('receives the unverified claims', async () => {
    const key = makeSigningKey();
    const seen: unknown[] = [];
    const lookup: VerifyIdentityOptions['key'] = async (kid, unverifiedClaims) => {
      seen.push(unverifiedClaims);
      return kid === key.keyId ? key : null;
    };
    const claims = claimsFor();
    const token = signIdentity(key, claims);
    await verifyIdentity(token, { key: lookup, now: NOW_MS });
    assert.deepEqual(seen, [JSON.parse(JSON.stringify(claims))]);

    // A forged payload reaches the lookup as it is, and the signature check still rejects it.
    seen.length = 0;
    const forged = { ...claims, nomad_allocation_id: 'another-alloc' };
    const [header, , signature] = token.split('.') as [string, string, string];
    const forgedError = await rejection(`${header}.${base64urlJson(forged)}.${signature}`, { key: lookup });
    assert.equal(forgedError.code, 'SIGNATURE_INVALID');
    assert.deepEqual(seen, [JSON.parse(JSON.stringify(forged))]);

    // A payload that is not a JSON object reaches it as null, and fails only after the signature check.
    seen.length = 0;
    const arrayPayload = signRaw({ alg: 'EdDSA', kid: key.keyId, typ: 'JWT' }, [claims], key.privateKey);
    assert.equal((await rejection(arrayPayload, { key: lookup })).code, 'CLAIMS_INVALID');
    assert.deepEqual(seen, [null]);
  });
});

describe('verifyIdentity time claims', () => {
  test('expired beyond the leeway', async () => {
    const key = makeSigningKey();
    const claims = claimsFor(NOW_MS, HOUR_NS);
    const token = signIdentity(key, claims);
    const exp = claims.exp!;
    assert.equal(exp, NOW_MS / 1000 + 3600);

    const error = await rejection(token, { key: keyLookup(key).key, now: (exp + 61) * 1000 });
    assert.equal(error.code, 'TOKEN_EXPIRED');
    assert.equal(error.allocationId, claims.nomad_allocation_id);
    assert.equal(
      (await rejection(token, { key: keyLookup(key).key, now: (exp + 1) * 1000, leewaySeconds: 0 })).code,
      'TOKEN_EXPIRED',
    );
  });

  test('expired within the leeway', async () => {
    const key = makeSigningKey();
    const claims = claimsFor(NOW_MS, HOUR_NS);
    const token = signIdentity(key, claims);
    for (const after of [0, 30, 60]) {
      const now = (claims.exp! + after) * 1000;
      assert.deepEqual(await verifyIdentity(token, { key: keyLookup(key).key, now }), claims, `${after} s`);
    }
  });

  test('nbf in the future', async () => {
    const key = makeSigningKey();
    const early = signIdentity(key, claimsFor(NOW_MS + 120_000));
    assert.equal(await codeOf(early, key), 'TOKEN_NOT_YET_VALID');

    // Exactly at the leeway is still accepted.
    const edge = signIdentity(key, claimsFor(NOW_MS + 60_000));
    await verifyIdentity(edge, { key: keyLookup(key).key, now: NOW_MS });
  });

  test('iat in the future', async () => {
    const key = makeSigningKey();
    const claims = { ...claimsFor(), iat: NOW_MS / 1000 + 3600 };
    assert.equal(await codeOf(signIdentity(key, claims), key), 'TOKEN_ISSUED_IN_FUTURE');
  });

  test('negative leeway', async () => {
    const key = makeSigningKey();
    await assert.rejects(
      verifyIdentity(signIdentity(key, claimsFor()), {
        key: keyLookup(key).key,
        now: NOW_MS,
        leewaySeconds: -1,
      }),
      RangeError,
    );
  });
});
