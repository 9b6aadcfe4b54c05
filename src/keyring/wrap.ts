import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { deriveKey } from '../rpc/cluster-key.js';
import { KeyringError } from './errors.js';
import { ROOT_KEY_BYTES } from './root-key.js';

/** HKDF label of the key-encryption key, distinct from the handshake's so neither key reveals the other. */
const KEK_LABEL = 'keyring kek v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Length of a wrapped root key: nonce, ciphertext and GCM tag. */
export const WRAPPED_ROOT_KEY_BYTES = NONCE_BYTES + ROOT_KEY_BYTES + TAG_BYTES;

/** Derives the key-encryption key that wraps root keys from the cluster key (`server.encrypt`). */
export function keyEncryptionKey(clusterKey: Buffer): Buffer {
  return deriveKey(clusterKey, KEK_LABEL);
}

/**
 * Encrypts root key material with AES-256-GCM under `kek` and returns nonce || ciphertext ||
 * tag. The key id is the additional authenticated data, so a wrapped key copied onto another
 * key id fails to unwrap. Each call uses a fresh random nonce.
 */
export function wrapRootKey(kek: Buffer, keyId: string, material: Buffer): Uint8Array {
  if (material.length !== ROOT_KEY_BYTES) {
    throw new KeyringError(
      'KEY_MATERIAL_INVALID',
      keyId,
      `cannot wrap root key ${keyId}: material is ${material.length} bytes, expected ${ROOT_KEY_BYTES}`,
    );
  }
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce);
  cipher.setAAD(Buffer.from(keyId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(material), cipher.final()]);
  return new Uint8Array(Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]));
}

/**
 * Decrypts a root key that `wrapRootKey` wrapped for `keyId`. Throws a `KeyringError` with
 * code WRAPPED_KEY_INVALID when the length is wrong, and UNWRAP_FAILED when the GCM tag check
 * fails.
 */
export function unwrapRootKey(kek: Buffer, keyId: string, wrapped: Uint8Array): Buffer {
  if (wrapped.length !== WRAPPED_ROOT_KEY_BYTES) {
    throw new KeyringError(
      'WRAPPED_KEY_INVALID',
      keyId,
      `invalid wrapped root key ${keyId}: ${wrapped.length} bytes, expected ${WRAPPED_ROOT_KEY_BYTES}`,
    );
  }
  const bytes = Buffer.from(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
  const nonce = bytes.subarray(0, NONCE_BYTES);
  const ciphertext = bytes.subarray(NONCE_BYTES, NONCE_BYTES + ROOT_KEY_BYTES);
  const tag = bytes.subarray(NONCE_BYTES + ROOT_KEY_BYTES);

  const decipher = createDecipheriv('aes-256-gcm', kek, nonce);
  decipher.setAAD(Buffer.from(keyId, 'utf8'));
  decipher.setAuthTag(tag);
  const material = decipher.update(ciphertext);
  try {
    decipher.final();
  } catch {
    // The tag check cannot tell a different cluster key from altered bytes, so the message
    // names the likely cause first and the others after it.
    material.fill(0);
    throw new KeyringError(
      'UNWRAP_FAILED',
      keyId,
      `failed to unwrap root key ${keyId}: authentication failed. Check that server.encrypt is the same on every server; otherwise the wrapped key was altered or belongs to another key id`,
    );
  }
  return material;
}
