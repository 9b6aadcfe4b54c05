import type { KeyObject } from 'node:crypto';

/** Public JWK of an Ed25519 signing key (RFC 8037), as `/.well-known/jwks.json` lists it. */
export interface Ed25519PublicJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  /** Public key, base64url without padding. */
  readonly x: string;
  /** Root key id. */
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly use: 'sig';
}

/** JSON Web Key Set (RFC 7517 section 5). */
export interface JsonWebKeySet {
  readonly keys: Ed25519PublicJwk[];
}

/** Builds the public JWK of `publicKey` under `keyId`. Throws a TypeError for a key that is not an Ed25519 public key. */
export function publicJwk(keyId: string, publicKey: KeyObject): Ed25519PublicJwk {
  if (publicKey.type !== 'public' || publicKey.asymmetricKeyType !== 'ed25519') {
    throw new TypeError(
      `invalid signing key ${keyId}: expected an Ed25519 public key, got a ${publicKey.type} ${publicKey.asymmetricKeyType ?? 'secret'} key`,
    );
  }
  const { x } = publicKey.export({ format: 'jwk' });
  if (x === undefined) throw new TypeError(`invalid signing key ${keyId}: the exported JWK has no x member`);
  return { kty: 'OKP', crv: 'Ed25519', x, kid: keyId, alg: 'EdDSA', use: 'sig' };
}

/** Builds the key set of the given signing keys, in the order given. */
export function jwks(
  keys: Iterable<{ readonly keyId: string; readonly publicKey: KeyObject }>,
): JsonWebKeySet {
  return { keys: Array.from(keys, (key) => publicJwk(key.keyId, key.publicKey)) };
}
