import { sign } from 'node:crypto';
import type { SigningKey } from '../keyring/index.js';
import type { IdentityClaims } from './claims.js';
import { encodeJsonPart } from './compact-jws.js';

/**
 * Encoded JWS headers by signing key. The header depends only on the key id, so each key is
 * checked and its header encoded once. A SigningKeyCache returns one object per key id, and the
 * WeakMap drops an entry when its key is garbage-collected after the root key is removed.
 */
const encodedHeaders = new WeakMap<SigningKey, string>();

function encodedHeader(key: SigningKey): string {
  let header = encodedHeaders.get(key);
  if (header === undefined) {
    // With another key type, sign(null, ...) would produce a signature that no EdDSA verifier accepts.
    if (key.privateKey.type !== 'private' || key.privateKey.asymmetricKeyType !== 'ed25519') {
      throw new TypeError(
        `cannot sign with key ${key.keyId}: expected an Ed25519 private key, got a ${key.privateKey.type} ${key.privateKey.asymmetricKeyType ?? 'secret'} key`,
      );
    }
    header = encodeJsonPart({ alg: 'EdDSA', kid: key.keyId, typ: 'JWT' });
    encodedHeaders.set(key, header);
  }
  return header;
}

/**
 * Signs `claims` with the Ed25519 key and returns the compact JWS. The header is
 * `{"alg":"EdDSA","kid":KEY_ID,"typ":"JWT"}`. Throws a TypeError for a key that is not an Ed25519
 * private key.
 */
export function signIdentity(key: SigningKey, claims: IdentityClaims): string {
  const signingInput = `${encodedHeader(key)}.${encodeJsonPart(claims)}`;
  const signature = sign(null, Buffer.from(signingInput, 'latin1'), key.privateKey);
  return `${signingInput}.${signature.toString('base64url')}`;
}
