import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { KeyringError } from './errors.js';
import { ROOT_KEY_BYTES } from './root-key.js';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** Bytes that encryption adds to the plaintext: the nonce in front and the GCM tag behind. */
export const CIPHERTEXT_OVERHEAD_BYTES = NONCE_BYTES + TAG_BYTES;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** A variable's items: keys and values are plain strings, as in Nomad's `Items`. */
export type VariableItems = Readonly<Record<string, string>>;

/**
 * Encrypts a variable's items with AES-256-GCM under root key material and returns the base64 of
 * nonce || ciphertext || tag. The plaintext is the JSON of `items`, the nonce is 12 random bytes,
 * and the key id is the additional authenticated data, so data copied onto another key id fails
 * to decrypt. Two calls with the same items return different data. Throws a `KeyringError` with
 * code KEY_MATERIAL_INVALID or ITEMS_INVALID.
 */
export function encryptItems(material: Buffer, keyId: string, items: VariableItems): string {
  checkMaterial(material, keyId);
  for (const value of Object.values(items)) {
    if (typeof value !== 'string') {
      throw new KeyringError(
        'ITEMS_INVALID',
        keyId,
        `cannot encrypt variable items with root key ${keyId}: every value must be a string`,
      );
    }
  }
  const plaintext = Buffer.from(JSON.stringify(items), 'utf8');
  try {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', material, nonce);
    cipher.setAAD(Buffer.from(keyId, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]).toString('base64');
  } finally {
    plaintext.fill(0);
  }
}

/**
 * Decrypts what `encryptItems` returned for `keyId` and returns the items. Throws a
 * `KeyringError`: KEY_MATERIAL_INVALID for material that is not 32 bytes, CIPHERTEXT_INVALID for
 * data that is not base64 or too short, DECRYPT_FAILED when the GCM tag check fails, and
 * ITEMS_INVALID when the plaintext is not a JSON object of strings. No message contains plaintext.
 */
export function decryptItems(material: Buffer, keyId: string, data: string): Record<string, string> {
  checkMaterial(material, keyId);
  if (data.length % 4 !== 0 || !BASE64.test(data)) {
    throw new KeyringError(
      'CIPHERTEXT_INVALID',
      keyId,
      `invalid variable data for root key ${keyId}: not base64 (${data.length} characters)`,
    );
  }
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length < CIPHERTEXT_OVERHEAD_BYTES) {
    throw new KeyringError(
      'CIPHERTEXT_INVALID',
      keyId,
      `invalid variable data for root key ${keyId}: ${bytes.length} bytes, shorter than the ${CIPHERTEXT_OVERHEAD_BYTES} bytes of nonce and tag`,
    );
  }
  const nonce = bytes.subarray(0, NONCE_BYTES);
  const ciphertext = bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES);
  const tag = bytes.subarray(bytes.length - TAG_BYTES);

  const decipher = createDecipheriv('aes-256-gcm', material, nonce);
  decipher.setAAD(Buffer.from(keyId, 'utf8'));
  decipher.setAuthTag(tag);
  const plaintext = decipher.update(ciphertext);
  try {
    try {
      decipher.final();
    } catch {
      throw new KeyringError(
        'DECRYPT_FAILED',
        keyId,
        `failed to decrypt variable data with root key ${keyId}: authentication failed, so the data was encrypted with another key or altered`,
      );
    }
    return parseItems(plaintext, keyId);
  } finally {
    plaintext.fill(0);
  }
}

function parseItems(plaintext: Buffer, keyId: string): Record<string, string> {
  const invalid = () =>
    new KeyringError(
      'ITEMS_INVALID',
      keyId,
      `variable data decrypted with root key ${keyId} is not a JSON object of strings`,
    );
  let value: unknown;
  try {
    value = JSON.parse(plaintext.toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalid();
  // JSON.parse defines every key as an own property, `__proto__` included, so the object is safe to return.
  const items = value as Record<string, unknown>;
  for (const entry of Object.values(items)) {
    if (typeof entry !== 'string') throw invalid();
  }
  return items as Record<string, string>;
}

function checkMaterial(material: Buffer, keyId: string): void {
  if (material.length !== ROOT_KEY_BYTES) {
    throw new KeyringError(
      'KEY_MATERIAL_INVALID',
      keyId,
      `invalid root key ${keyId} for variables: material is ${material.length} bytes, expected ${ROOT_KEY_BYTES}`,
    );
  }
}
