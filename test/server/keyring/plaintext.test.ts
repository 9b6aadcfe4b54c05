import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { unwrapRootKey } from '../../../src/keyring/index.js';
import { type KeyringCommand, KeyringLeader } from '../../../src/server/keyring/keyring-leader.js';
import { ServerKeyring } from '../../../src/server/keyring/server-keyring.js';
import { encodeCommand } from '../../../src/state/commands.js';
import { decodeSnapshot, encodeSnapshot } from '../../../src/state/snapshot-codec.js';
import { applyKeyCommand, bootstrappedStore, capturingLogger, HOUR_MS, newKek, T0_MS } from './support.js';

/** Returns every encoding of a secret that could carry it into a file or a log: raw, hex, base64, base64url. */
function encodings(secret: Buffer): Buffer[] {
  return [
    secret,
    Buffer.from(secret.toString('hex')),
    Buffer.from(secret.toString('base64')),
    Buffer.from(secret.toString('base64url')),
  ];
}

function assertAbsent(haystack: Uint8Array, secret: Buffer, where: string): void {
  const bytes = Buffer.from(haystack);
  for (const form of encodings(secret)) {
    assert.equal(bytes.indexOf(form), -1, `${where} contains the secret (${form.length} bytes)`);
  }
}

describe('root key material in raw bytes', () => {
  test('the command and the snapshot hold only the wrapped key', () => {
    const kek = newKek();
    const store = bootstrappedStore();
    const { logger, raw } = capturingLogger();
    const keyring = new ServerKeyring({ state: store, kek, logger });
    const { command, meta } = keyring.newRootKeyCommand(T0_MS, 'inactive');
    const wrapped = Buffer.from(command.wrappedKey, 'base64');
    const material = unwrapRootKey(kek, meta.KeyID, wrapped);
    assert.equal(material.length, 32);

    const entry = encodeCommand(command);
    assertAbsent(entry, material, 'the Raft entry');
    assert.notEqual(
      Buffer.from(entry).indexOf(Buffer.from(command.wrappedKey)),
      -1,
      'the entry carries the wrapped key',
    );

    applyKeyCommand(store, command);
    const seed = Buffer.from(
      keyring.signingKey(meta.KeyID)!.privateKey.export({ format: 'jwk' }).d!,
      'base64url',
    );
    // StateStore.snapshot is what the Raft driver writes to the snapshot file; encoding the decoded
    // image again must give the same bytes.
    const snapshot = store.snapshot();
    assert.deepEqual(Buffer.from(encodeSnapshot(decodeSnapshot(snapshot))), Buffer.from(snapshot));
    assertAbsent(snapshot, material, 'the snapshot');
    assertAbsent(snapshot, seed, 'the snapshot');
    assert.notEqual(
      Buffer.from(snapshot).indexOf(Buffer.from(command.wrappedKey)),
      -1,
      'the snapshot carries the wrapped key',
    );

    const publicSet = Buffer.from(JSON.stringify(keyring.publicKeys()));
    assertAbsent(publicSet, material, 'the JWKS');
    assertAbsent(publicSet, seed, 'the JWKS');
    assertAbsent(Buffer.from(raw.join('')), material, 'the log');
  });

  test('the leader logs key ids, never the material', async () => {
    const kek = newKek();
    const store = bootstrappedStore();
    const { logger, raw, lines } = capturingLogger();
    const keyring = new ServerKeyring({ state: store, kek, logger });
    const committed: KeyringCommand[] = [];
    let now = T0_MS;
    const leader = new KeyringLeader({
      state: store,
      keyring,
      barrier: async () => undefined,
      commit: async (command) => {
        committed.push(command);
        return applyKeyCommand(store, command);
      },
      now: () => now,
      options: { rotationThresholdMs: HOUR_MS, gcThresholdMs: HOUR_MS, gcIntervalMs: 60_000 },
      logger,
    });
    await leader.ensureActiveKey();
    now += 2 * HOUR_MS;
    await leader.check();
    await leader.check();
    await leader.stop();

    const upserts = committed.filter((command) => command.type === 'root-key-upsert');
    assert.equal(upserts.length, 2);
    assert.ok(committed.some((command) => command.type === 'root-key-delete'));
    assert.ok(lines.length >= 3, 'creation, rotation and removal are logged');
    const log = Buffer.from(raw.join(''));
    for (const command of upserts) {
      const material = unwrapRootKey(kek, command.key.KeyID, Buffer.from(command.wrappedKey, 'base64'));
      assertAbsent(log, material, 'the log');
      assert.equal(log.indexOf(Buffer.from(command.wrappedKey)), -1, 'the log holds no wrapped key either');
    }
  });
});
