import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import pino from 'pino';
import { decryptItems, encryptItems, unwrapRootKey } from '../../../src/keyring/index.js';
import { ServerKeyring } from '../../../src/server/keyring/server-keyring.js';
import {
  addKey,
  applyKeyCommand,
  bootstrappedStore,
  capturingLogger,
  FakeTimers,
  LEVEL,
  newKek,
  T0_MS,
  withDeadline,
} from './support.js';

const silent = pino({ level: 'silent' });

function materialOf(store: ReturnType<typeof bootstrappedStore>, kek: Buffer, keyId: string): Buffer {
  return unwrapRootKey(kek, keyId, Buffer.from(store.rootKey(keyId)!.WrappedKey, 'base64'));
}

describe('ServerKeyring: encryption keys', () => {
  test('returns the unwrapped material and caches it', () => {
    const store = bootstrappedStore();
    const kek = newKek();
    const keyId = addKey(store, kek);
    const keyring = new ServerKeyring({ state: store, kek, logger: silent });

    const material = keyring.encryptionKey(keyId);
    assert.ok(material !== null);
    assert.deepEqual(material, materialOf(store, kek, keyId));
    assert.equal(keyring.encryptionKey(keyId), material, 'a second call unwrapped again');
    assert.equal(keyring.encryptionKey(randomUUID()), null);
  });

  test('signing and encryption share one unwrap', () => {
    const store = bootstrappedStore();
    const kek = newKek();
    const keyId = addKey(store, kek);
    const keyring = new ServerKeyring({ state: store, kek, logger: silent });

    const signing = keyring.signingKey(keyId);
    assert.equal(keyring.cachedKeys, 1);
    const material = keyring.encryptionKey(keyId);
    assert.equal(keyring.cachedKeys, 1);
    assert.equal(keyring.signingKey(keyId), signing);
    // The material encrypts for any server that unwraps the same key.
    const other = new ServerKeyring({ state: store, kek, logger: silent });
    const data = encryptItems(material!, keyId, { a: 'b' });
    assert.deepEqual(decryptItems(other.encryptionKey(keyId)!, keyId, data), { a: 'b' });
  });

  test('a removed key is zeroed and dropped', () => {
    const store = bootstrappedStore();
    const kek = newKek();
    const old = addKey(store, kek);
    addKey(store, kek, T0_MS + 1000);
    const keyring = new ServerKeyring({ state: store, kek, logger: silent });
    const material = keyring.encryptionKey(old)!;
    assert.notDeepEqual(material, Buffer.alloc(32));

    applyKeyCommand(store, { type: 'root-key-delete', v: 1, keyId: old, force: false });
    assert.equal(keyring.encryptionKey(old), null);
    assert.deepEqual(material, Buffer.alloc(32), 'the dropped material was not zeroed');
    assert.equal(keyring.cachedKeys, 0);
  });

  test('a key that does not unwrap has no material and is logged once', () => {
    const store = bootstrappedStore();
    const keyId = addKey(store, newKek());
    const { logger, lines } = capturingLogger();
    const keyring = new ServerKeyring({ state: store, kek: newKek(), logger });

    assert.equal(keyring.encryptionKey(keyId), null);
    assert.equal(keyring.signingKey(keyId), null);
    assert.equal(keyring.encryptionKey(keyId), null);
    assert.equal(lines.filter((line) => line.level === LEVEL.error).length, 1);
    assert.equal(keyring.cachedKeys, 0);
  });

  test('waitForEncryptionKey resolves when the key is applied later', async () => {
    const store = bootstrappedStore();
    const kek = newKek();
    const timers = new FakeTimers();
    const keyring = new ServerKeyring({ state: store, kek, logger: silent, timers });
    const { command, meta } = keyring.newRootKeyCommand(T0_MS, 'inactive');

    const waiting = keyring.waitForEncryptionKey(meta.KeyID);
    assert.equal(timers.pending, 1);
    applyKeyCommand(store, command);
    const material = await withDeadline(waiting, 'the key is found');
    assert.deepEqual(material, materialOf(store, kek, meta.KeyID));
    assert.equal(timers.pending, 0);
  });

  test('waitForEncryptionKey resolves with null at the deadline', async () => {
    const store = bootstrappedStore();
    const timers = new FakeTimers();
    const keyring = new ServerKeyring({ state: store, kek: newKek(), logger: silent, timers });
    const waiting = keyring.waitForEncryptionKey(randomUUID(), 250);
    assert.deepEqual(timers.delays(), [250]);
    timers.fireNext();
    assert.equal(await withDeadline(waiting, 'the wait ends'), null);
    assert.equal(store.pendingWaits('rootKeys'), 0);
  });

  test('the material never reaches the log', () => {
    const store = bootstrappedStore();
    const kek = newKek();
    const keyId = addKey(store, kek);
    const { logger, raw } = capturingLogger();
    const keyring = new ServerKeyring({ state: store, kek, logger });
    const material = keyring.encryptionKey(keyId)!;
    const removed = addKey(store, newKek(), T0_MS + 1000);
    assert.equal(keyring.encryptionKey(removed), null);
    assert.ok(raw.length > 0, 'the failed unwrap was logged');

    const log = Buffer.from(raw.join(''));
    for (const form of [material, material.toString('hex'), material.toString('base64')]) {
      assert.equal(log.indexOf(form), -1);
    }
  });
});
