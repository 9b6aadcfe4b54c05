import { createPrivateKey, createPublicKey, hkdfSync, type KeyObject } from 'node:crypto';

/** HKDF label of the Ed25519 seed, so the seed differs from the AES key it comes from. */
const SEED_LABEL = 'signet keyring ed25519 seed v1';
const SEED_BYTES = 32;
/** DER of a PKCS#8 PrivateKeyInfo for Ed25519 (OID 1.3.101.112, RFC 8410) up to the 32-byte seed. */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The Ed25519 key pair that signs identities for one root key. */
export interface SigningKey {
  /** Root key id, the `kid` of tokens signed with this key. */
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/**
 * Derives the Ed25519 key pair of a root key: HKDF-SHA256 of the material (empty salt) gives
 * the seed. The result is the same on every server that has the material.
 */
export function deriveSigningKey(keyId: string, material: Buffer): SigningKey {
  const seed = Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), SEED_LABEL, SEED_BYTES));
  const der = Buffer.concat([ED25519_PKCS8_PREFIX, seed]);
  const privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  // The KeyObject keeps its own copy, so the plaintext buffers can be cleared.
  seed.fill(0);
  der.fill(0);
  return { keyId, privateKey, publicKey: createPublicKey(privateKey) };
}

/**
 * Signing keys by root key id, so each root key is derived and imported once. A key id names
 * one material for its whole life, so a cached entry never goes stale. Call `delete` when the
 * root key is removed.
 */
export class SigningKeyCache {
  readonly #keys = new Map<string, SigningKey>();

  /** Returns the cached signing key of `keyId`, deriving it from `material` on first use. */
  get(keyId: string, material: Buffer): SigningKey {
    let key = this.#keys.get(keyId);
    if (key === undefined) {
      key = deriveSigningKey(keyId, material);
      this.#keys.set(keyId, key);
    }
    return key;
  }

  has(keyId: string): boolean {
    return this.#keys.has(keyId);
  }

  delete(keyId: string): boolean {
    return this.#keys.delete(keyId);
  }

  get size(): number {
    return this.#keys.size;
  }
}
