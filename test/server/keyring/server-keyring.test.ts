import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import pino from 'pino';
import { MAX_KEY_WAITS, ServerKeyring } from '../../../src/server/keyring/server-keyring.js';
import { snapshotPackr } from '../../../src/state/msgpack.js';
import {
  addKey,
  applyKeyCommand,
  bootstrappedStore,
  capturingLogger,
  FakeTimers,
  LEVEL,
  newKek,
  T0_MS,
} from './support.js';

const silent = pino({ level: 'silent' });

describe('ServerKeyring', () => {
  test('unwraps a key once and caches it', () => {
    const store = bootstrappedStore();
    const kek = newKek();
    const keyId = addKey(store, kek);
    const keyring = new ServerKeyring({ state: store, kek, logger: silent });

    assert.equal(keyring.cachedKeys, 0);
    const first = keyring.signingKey(keyId);
    assert.ok(first !== null);
    assert.equal(first.keyId, keyId);
    assert.equal(keyring.signingKey(keyId), first);
    assert.equal(keyring.cachedKeys, 1);
    assert.equal(keyring.signingKey(randomUUID()), null);
  });

  test('active returns the active key and follows rotation', () => {
    const store = bootstrappedStore();
    const kek = newKek();
    const keyring = new ServerKeyring({ state: store, kek, logger: silent });
    assert.equal(keyring.active(), null);

    const first = addKey(store, kek);
    assert.equal(keyring.active()?.meta.KeyID, first);
    assert.equal(keyring.active()?.key.keyId, first);

    const second = addKey(store, kek, T0_MS + 1000);
    assert.equal(keyring.active()?.meta.KeyID, second);
    assert.equal(keyring.active()?.meta.State, 'active');
  });

  test('wrong key-encryption key logs once and returns null', async () => {
    const store = bootstrappedStore();
    const keyId = addKey(store, newKek());
    const { logger, lines, raw } = capturingLogger();
    const timers = new FakeTimers();
    const keyring = new ServerKeyring({ state: store, kek: newKek(), logger, timers });

    assert.equal(keyring.signingKey(keyId), null);
    assert.equal(keyring.signingKey(keyId), null);
    assert.equal(keyring.active(), null);
    assert.deepEqual(keyring.publicKeys(), { keys: [] });
    // An unusable key is not waited for: no deadline timer, no state waiter.
    assert.equal(await keyring.waitForKey(keyId, 5000), null);
    assert.equal(timers.armedTotal, 0);
    assert.equal(store.pendingWaits('rootKeys'), 0);

    const errors = lines.filter((line) => line.level === LEVEL.error);
    assert.equal(errors.length, 1);
    assert.equal(lines.length, 1);
    assert.equal(errors[0]!.keyId, keyId);
    assert.equal(errors[0]!.code, 'UNWRAP_FAILED');
    assert.match(String(errors[0]!.msg), /server\.encrypt/);
    assert.ok(keyring.isUnusable(keyId));
    // The wrapped key is in the state, the material never: neither form belongs in the log.
    const wrapped = store.rootKey(keyId)!.WrappedKey;
    assert.ok(!raw.join('').includes(wrapped));
  });

  test('keys removed from the state are dropped', () => {
    const store = bootstrappedStore();
    const kek = newKek();
    const old = addKey(store, kek);
    const current = addKey(store, kek, T0_MS + 1000);
    const keyring = new ServerKeyring({ state: store, kek, logger: silent });
    assert.ok(keyring.signingKey(old) !== null);
    assert.ok(keyring.signingKey(current) !== null);
    assert.equal(keyring.cachedKeys, 2);

    applyKeyCommand(store, { type: 'root-key-delete', v: 1, keyId: old, force: false });
    assert.equal(keyring.cachedKeys, 1);
    assert.equal(keyring.signingKey(old), null);
    assert.deepEqual(
      keyring.publicKeys().keys.map((key) => key.kid),
      [current],
    );
  });

  test('an unusable key leaves the failure set when it is removed', () => {
    const store = bootstrappedStore();
    const kek = newKek();
    const foreign = addKey(store, newKek());
    const { logger } = capturingLogger();
    const keyring = new ServerKeyring({ state: store, kek, logger });
    assert.equal(keyring.signingKey(foreign), null);
    assert.ok(keyring.isUnusable(foreign));

    addKey(store, kek, T0_MS + 1000);
    applyKeyCommand(store, { type: 'root-key-delete', v: 1, keyId: foreign, force: false });
    assert.equal(keyring.signingKey(foreign), null);
    assert.equal(keyring.isUnusable(foreign), false);
  });

  test('waitForKey resolves when the key is applied later', async () => {
    const store = bootstrappedStore();
    const kek = newKek();
    const timers = new FakeTimers();
    const keyring = new ServerKeyring({ state: store, kek, logger: silent, timers });
    const { command, meta } = keyring.newRootKeyCommand(T0_MS, 'inactive');

    const waiting = keyring.waitForKey(meta.KeyID, 10_000);
    assert.deepEqual(timers.delays(), [10_000]);
    // Another key's entry wakes the wait without ending it.
    addKey(store, kek);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(store.pendingWaits('rootKeys'), 1);
    applyKeyCommand(store, command);
    // The deadline timer never fires here, so only the key's entry can end the wait.
    const key = await waiting;
    assert.equal(key?.keyId, meta.KeyID);
    assert.equal(store.pendingWaits('rootKeys'), 0);
    assert.equal(timers.pending, 0);
  });

  test('quick rotations get increasing creation times', () => {
    const store = bootstrappedStore();
    const keyring = new ServerKeyring({ state: store, kek: newKek(), logger: silent });
    for (let i = 0; i < 5; i++) applyKeyCommand(store, keyring.newRootKeyCommand(T0_MS, 'inactive').command);
    const times = store.rootKeys().map((row) => row.Meta.CreateTime);
    for (let i = 1; i < times.length; i++) {
      assert.ok(times[i]! > times[i - 1]!, `key ${i} was created after key ${i - 1}`);
    }
  });

  test('waitForKey returns null at its deadline', async () => {
    const store = bootstrappedStore();
    const timers = new FakeTimers();
    const keyring = new ServerKeyring({ state: store, kek: newKek(), logger: silent, timers });
    let result: unknown = 'pending';
    const waiting = keyring.waitForKey(randomUUID(), 50).then((key) => {
      result = key;
    });
    assert.deepEqual(timers.delays(), [50]);
    assert.equal(store.pendingWaits('rootKeys'), 1);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(result, 'pending', 'the wait ended before its deadline');

    timers.fireNext();
    await waiting;
    assert.equal(result, null);
    assert.equal(store.pendingWaits('rootKeys'), 0);
    assert.equal(timers.pending, 0);
  });

  test('waitForKey past the cap returns null at once', async () => {
    const store = bootstrappedStore();
    const timers = new FakeTimers();
    const { logger, lines } = capturingLogger();
    const keyring = new ServerKeyring({ state: store, kek: newKek(), logger, timers });
    const waits = Array.from({ length: MAX_KEY_WAITS }, () => keyring.waitForKey(randomUUID()));
    assert.equal(store.pendingWaits('rootKeys'), MAX_KEY_WAITS);
    assert.equal(timers.pending, MAX_KEY_WAITS);

    const rejectedKeyId = randomUUID();
    const rejected = keyring.waitForKey(rejectedKeyId);
    assert.equal(timers.pending, MAX_KEY_WAITS, 'a wait past the cap armed a timer');
    assert.equal(store.pendingWaits('rootKeys'), MAX_KEY_WAITS);
    assert.equal(await rejected, null);
    assert.equal(await keyring.waitForKey(randomUUID()), null);
    const debugs = lines.filter((line) => line.level === LEVEL.debug);
    assert.equal(debugs.length, 2);
    assert.equal(debugs[0]!.keyId, rejectedKeyId);
    assert.equal(debugs[0]!.waiting, MAX_KEY_WAITS);
    assert.equal(debugs[0]!.rejectedWaits, 1);
    assert.equal(debugs[1]!.rejectedWaits, 2);

    // Once the waits end, a new one waits again.
    assert.equal(timers.fireAll(), MAX_KEY_WAITS);
    assert.deepEqual(new Set(await Promise.all(waits)), new Set([null]));
    assert.equal(store.pendingWaits('rootKeys'), 0);
    const again = keyring.waitForKey(randomUUID());
    assert.equal(timers.pending, 1);
    timers.fireAll();
    assert.equal(await again, null);
  });

  test('publicKeys lists every key but deprecated ones, and jose verifies with it', async () => {
    const store = bootstrappedStore();
    const kek = newKek();
    const inactive = addKey(store, kek, T0_MS);
    const rekeying = addKey(store, kek, T0_MS + 1000);
    const active = addKey(store, kek, T0_MS + 2000, 'rekeying');

    // Signet never creates a deprecated key; a snapshot from a Nomad-style migration could hold one.
    const image = snapshotPackr.unpack(store.snapshot()) as {
      tables: { rootKeys: { rows: { Meta: { KeyID: string; State: string } }[] } };
    };
    for (const row of image.tables.rootKeys.rows) {
      if (row.Meta.KeyID === inactive) row.Meta.State = 'deprecated';
    }
    const copy = bootstrappedStore();
    copy.restore(snapshotPackr.pack(image));
    const keyring = new ServerKeyring({ state: copy, kek, logger: silent });

    assert.equal(copy.rootKey(rekeying)?.Meta.State, 'rekeying');
    assert.equal(copy.rootKey(inactive)?.Meta.State, 'deprecated');
    const set = keyring.publicKeys();
    assert.deepEqual(
      set.keys.map((key) => key.kid),
      [rekeying, active],
    );
    for (const key of set.keys) {
      assert.equal(key.kty, 'OKP');
      assert.equal(key.crv, 'Ed25519');
      assert.equal(key.alg, 'EdDSA');
      assert.equal(key.use, 'sig');
      assert.equal(Object.hasOwn(key, 'd'), false);
    }

    const signing = keyring.active()!.key;
    const token = await new SignJWT({ nomad_task: 'server' })
      .setProtectedHeader({ alg: 'EdDSA', kid: active, typ: 'JWT' })
      .setIssuedAt()
      .sign(signing.privateKey);
    const verified = await jwtVerify(token, createLocalJWKSet(set));
    assert.equal(verified.protectedHeader.kid, active);
  });

  test('publicKeys is cached until the keys change', () => {
    const store = bootstrappedStore();
    const kek = newKek();
    const first = addKey(store, kek);
    const keyring = new ServerKeyring({ state: store, kek, logger: silent });

    const set = keyring.publicKeys();
    assert.equal(keyring.publicKeys(), set);
    assert.ok(Object.isFrozen(set));
    assert.ok(Object.isFrozen(set.keys));
    assert.ok(Object.isFrozen(set.keys[0]));

    // A rotation changes the rootKeys table, so the next call builds the set again.
    const second = addKey(store, kek, T0_MS + 1000);
    const rotated = keyring.publicKeys();
    assert.notEqual(rotated, set);
    assert.deepEqual(
      rotated.keys.map((key) => key.kid),
      [first, second],
    );
    assert.equal(keyring.publicKeys(), rotated);
  });

  test('publicKeys caches a set without the unusable key', () => {
    const store = bootstrappedStore();
    const kek = newKek();
    const usable = addKey(store, kek);
    const foreign = addKey(store, newKek(), T0_MS + 1000, 'rekeying');
    const { logger, lines } = capturingLogger();
    const keyring = new ServerKeyring({ state: store, kek, logger });

    const set = keyring.publicKeys();
    assert.deepEqual(
      set.keys.map((key) => key.kid),
      [usable],
    );
    assert.ok(keyring.isUnusable(foreign));
    assert.equal(keyring.publicKeys(), set);
    assert.equal(lines.filter((line) => line.level === LEVEL.error).length, 1);
  });
});
