import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  generateRootKey,
  KeyringError,
  keyEncryptionKey,
  unwrapRootKey,
  WRAPPED_ROOT_KEY_BYTES,
  wrapRootKey,
} from '../../src/keyring/index.js';
import { handshakeKey } from '../../src/rpc/handshake.js';

const NOW_NS = 1_767_225_600_000_000_000;

function assertKeyringError(fn: () => unknown, code: KeyringError['code'], keyId: string): KeyringError {
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

describe('root key wrapping', () => {
  test('generated key has metadata and 32 bytes', () => {
    const { meta, material } = generateRootKey(NOW_NS);
    assert.match(meta.KeyID, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(meta.Algorithm, 'aes256-gcm');
    assert.equal(meta.CreateTime, NOW_NS);
    assert.equal(meta.State, 'active');
    assert.equal(material.length, 32);
    assert.notDeepEqual(generateRootKey(NOW_NS).material, material);
  });

  test('round trip returns the material', () => {
    const kek = keyEncryptionKey(randomBytes(32));
    const { meta, material } = generateRootKey(NOW_NS);
    const wrapped = wrapRootKey(kek, meta.KeyID, material);
    assert.equal(wrapped.length, WRAPPED_ROOT_KEY_BYTES);
    assert.deepEqual(unwrapRootKey(kek, meta.KeyID, wrapped), material);
  });

  test('KEK differs from cluster key and handshake key', () => {
    const clusterKey = randomBytes(32);
    const kek = keyEncryptionKey(clusterKey);
    assert.equal(kek.length, 32);
    assert.deepEqual(keyEncryptionKey(clusterKey), kek);
    assert.notDeepEqual(kek, clusterKey);
    assert.notDeepEqual(kek, handshakeKey(clusterKey));
  });

  test('different cluster key fails to unwrap', () => {
    const { meta, material } = generateRootKey(NOW_NS);
    const wrapped = wrapRootKey(keyEncryptionKey(randomBytes(32)), meta.KeyID, material);
    const otherKek = keyEncryptionKey(randomBytes(32));
    const err = assertKeyringError(
      () => unwrapRootKey(otherKek, meta.KeyID, wrapped),
      'UNWRAP_FAILED',
      meta.KeyID,
    );
    assert.ok(err.message.includes('server.encrypt'), 'the message names the cluster key setting');
    assert.ok(!err.message.includes(material.toString('hex')));
    assert.ok(!err.message.includes(material.toString('base64')));
  });

  test('wrapped key moved to another id fails', () => {
    const kek = keyEncryptionKey(randomBytes(32));
    const first = generateRootKey(NOW_NS);
    const second = generateRootKey(NOW_NS);
    const wrapped = wrapRootKey(kek, first.meta.KeyID, first.material);
    assertKeyringError(
      () => unwrapRootKey(kek, second.meta.KeyID, wrapped),
      'UNWRAP_FAILED',
      second.meta.KeyID,
    );
  });

  test('altered wrapped bytes fail', () => {
    const kek = keyEncryptionKey(randomBytes(32));
    const { meta, material } = generateRootKey(NOW_NS);
    const wrapped = wrapRootKey(kek, meta.KeyID, material);
    for (const index of [0, 12, WRAPPED_ROOT_KEY_BYTES - 1]) {
      const altered = Uint8Array.from(wrapped);
      altered[index] = altered[index]! ^ 0x01;
      assertKeyringError(() => unwrapRootKey(kek, meta.KeyID, altered), 'UNWRAP_FAILED', meta.KeyID);
    }
  });

  test('wrong length is invalid', () => {
    const kek = keyEncryptionKey(randomBytes(32));
    const { meta, material } = generateRootKey(NOW_NS);
    const wrapped = wrapRootKey(kek, meta.KeyID, material);
    assertKeyringError(
      () => unwrapRootKey(kek, meta.KeyID, wrapped.subarray(1)),
      'WRAPPED_KEY_INVALID',
      meta.KeyID,
    );
    assertKeyringError(
      () => unwrapRootKey(kek, meta.KeyID, new Uint8Array(0)),
      'WRAPPED_KEY_INVALID',
      meta.KeyID,
    );
    assertKeyringError(
      () => wrapRootKey(kek, meta.KeyID, material.subarray(1)),
      'KEY_MATERIAL_INVALID',
      meta.KeyID,
    );
  });

  test('wrapped bytes never contain the material', () => {
    const kek = keyEncryptionKey(randomBytes(32));
    const { meta, material } = generateRootKey(NOW_NS);
    const first = Buffer.from(wrapRootKey(kek, meta.KeyID, material));
    const second = Buffer.from(wrapRootKey(kek, meta.KeyID, material));
    for (const wrapped of [first, second]) {
      assert.equal(wrapped.indexOf(material), -1);
      // Any 8-byte run of the material would already be a leak.
      for (let start = 0; start + 8 <= material.length; start += 8) {
        assert.equal(wrapped.indexOf(material.subarray(start, start + 8)), -1);
      }
      assert.ok(!wrapped.toString('latin1').includes(material.toString('base64')));
    }
    assert.notDeepEqual(first, second, 'each wrap uses a fresh nonce');
    assert.notDeepEqual(first.subarray(0, 12), second.subarray(0, 12));
  });
});
