import assert from 'node:assert/strict';
import { createCipheriv, randomBytes, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  CIPHERTEXT_OVERHEAD_BYTES,
  decryptItems,
  encryptItems,
  KeyringError,
  type KeyringErrorCode,
} from '../../src/keyring/index.js';

const ITEMS = Object.freeze({ user: 'admin', password: 'correct horse battery staple', '': 'ü €' });

function assertKeyringError(fn: () => unknown, code: KeyringErrorCode, keyId: string): KeyringError {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof KeyringError, `expected a KeyringError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  assert.equal(caught.keyId, keyId);
  return caught;
}

/** Encrypts `plaintext` by hand in the documented layout: nonce || ciphertext || tag, AAD = key id. */
function sealByHand(material: Buffer, keyId: string, plaintext: string): string {
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', material, nonce);
  cipher.setAAD(Buffer.from(keyId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([nonce, ciphertext, cipher.getAuthTag()]).toString('base64');
}

describe('variable encryption', () => {
  test('round trip returns the items', () => {
    const material = randomBytes(32);
    const keyId = randomUUID();
    const data = encryptItems(material, keyId, ITEMS);
    assert.deepEqual(decryptItems(material, keyId, data), ITEMS);
    assert.deepEqual(decryptItems(material, keyId, encryptItems(material, keyId, {})), {});
  });

  test('layout is nonce, JSON ciphertext and tag', () => {
    const material = randomBytes(32);
    const keyId = randomUUID();
    const data = encryptItems(material, keyId, ITEMS);
    const bytes = Buffer.from(data, 'base64');
    assert.equal(CIPHERTEXT_OVERHEAD_BYTES, 28);
    assert.equal(bytes.length, 12 + Buffer.byteLength(JSON.stringify(ITEMS)) + 16);
    // Data sealed by hand in that layout decrypts, so other implementations of it interoperate.
    assert.deepEqual(decryptItems(material, keyId, sealByHand(material, keyId, '{"k":"v"}')), { k: 'v' });
  });

  test('each encryption uses a fresh nonce', () => {
    const material = randomBytes(32);
    const keyId = randomUUID();
    const first = Buffer.from(encryptItems(material, keyId, ITEMS), 'base64');
    const second = Buffer.from(encryptItems(material, keyId, ITEMS), 'base64');
    assert.notDeepEqual(first.subarray(0, 12), second.subarray(0, 12));
    assert.notDeepEqual(first, second);
  });

  test('the __proto__ item stays an item', () => {
    const material = randomBytes(32);
    const keyId = randomUUID();
    const items = JSON.parse('{"__proto__":"x","a":"b"}') as Record<string, string>;
    const decrypted = decryptItems(material, keyId, encryptItems(material, keyId, items));
    assert.deepEqual(Object.keys(decrypted), ['__proto__', 'a']);
    assert.equal(Object.getPrototypeOf(decrypted), Object.prototype);
  });

  test('another key fails with DECRYPT_FAILED', () => {
    const keyId = randomUUID();
    const data = encryptItems(randomBytes(32), keyId, ITEMS);
    assertKeyringError(() => decryptItems(randomBytes(32), keyId, data), 'DECRYPT_FAILED', keyId);
  });

  test('another key id fails with DECRYPT_FAILED', () => {
    const material = randomBytes(32);
    const keyId = randomUUID();
    const otherId = randomUUID();
    const data = encryptItems(material, keyId, ITEMS);
    assertKeyringError(() => decryptItems(material, otherId, data), 'DECRYPT_FAILED', otherId);
  });

  test('an altered byte fails with DECRYPT_FAILED', () => {
    const material = randomBytes(32);
    const keyId = randomUUID();
    const bytes = Buffer.from(encryptItems(material, keyId, ITEMS), 'base64');
    for (const position of [0, 12, bytes.length - 1]) {
      const altered = Buffer.from(bytes);
      altered[position]! ^= 1;
      assertKeyringError(
        () => decryptItems(material, keyId, altered.toString('base64')),
        'DECRYPT_FAILED',
        keyId,
      );
    }
  });

  test('malformed data fails with CIPHERTEXT_INVALID', () => {
    const material = randomBytes(32);
    const keyId = randomUUID();
    for (const data of ['', 'not base64!', 'QUJD=', Buffer.alloc(27).toString('base64')]) {
      assertKeyringError(() => decryptItems(material, keyId, data), 'CIPHERTEXT_INVALID', keyId);
    }
  });

  test('material of the wrong length fails with KEY_MATERIAL_INVALID', () => {
    const keyId = randomUUID();
    const data = encryptItems(randomBytes(32), keyId, ITEMS);
    for (const material of [randomBytes(31), randomBytes(33), Buffer.alloc(0)]) {
      assertKeyringError(() => encryptItems(material, keyId, ITEMS), 'KEY_MATERIAL_INVALID', keyId);
      assertKeyringError(() => decryptItems(material, keyId, data), 'KEY_MATERIAL_INVALID', keyId);
    }
  });

  test('plaintext that is not an object of strings fails with ITEMS_INVALID', () => {
    const material = randomBytes(32);
    const keyId = randomUUID();
    for (const plaintext of ['["a"]', '{"a":1}', 'null', '"text"', '{"a":', '{"a":{"b":"c"}}']) {
      const data = sealByHand(material, keyId, plaintext);
      assertKeyringError(() => decryptItems(material, keyId, data), 'ITEMS_INVALID', keyId);
    }
    const numbers = { a: 1 } as unknown as Record<string, string>;
    assertKeyringError(() => encryptItems(material, keyId, numbers), 'ITEMS_INVALID', keyId);
  });

  test('messages never contain the items', () => {
    const material = randomBytes(32);
    const keyId = randomUUID();
    const secret = `secret-${randomUUID()}`;
    const data = encryptItems(material, keyId, { [secret]: secret });
    const failures = [
      assertKeyringError(() => decryptItems(randomBytes(32), keyId, data), 'DECRYPT_FAILED', keyId),
      assertKeyringError(
        () => decryptItems(material, keyId, sealByHand(material, keyId, `{"${secret}":7}`)),
        'ITEMS_INVALID',
        keyId,
      ),
    ];
    for (const err of failures) assert.equal(err.message.includes(secret), false, err.message);
  });
});
