import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import type { Logger } from 'pino';
import pino from 'pino';
import { decryptItems, encryptItems, type VariableItems } from '../../../src/keyring/index.js';
import {
  type KeyringCommand,
  KeyringLeader,
  type KeyringLeaderOptions,
} from '../../../src/server/keyring/keyring-leader.js';
import { ServerKeyring } from '../../../src/server/keyring/server-keyring.js';
import type { StateStore } from '../../../src/state/store.js';
import type { VariableCommand } from '../../../src/state/var-apply.js';
import { applyOk, entry } from '../../state/workload-fixtures.js';
import {
  addKey,
  applyKeyCommand,
  bootstrappedStore,
  capturingLogger,
  FakeTimers,
  HOUR_MS,
  LEVEL,
  newKek,
  T0_MS,
  withDeadline,
} from './support.js';

const silent = pino({ level: 'silent' });
const NS_PER_MS = 1_000_000;

const OPTIONS: KeyringLeaderOptions = {
  rotationThresholdMs: 30 * 24 * HOUR_MS,
  gcThresholdMs: HOUR_MS,
  gcIntervalMs: 10 * 60_000,
};

interface Harness {
  readonly store: StateStore;
  readonly kek: Buffer;
  readonly keyring: ServerKeyring;
  readonly leader: KeyringLeader;
  /** Commands that the state applied, in order. */
  readonly committed: KeyringCommand[];
  readonly timers: FakeTimers;
  readonly clock: { now: number };
}

/**
 * Builds a keyring leader whose commits apply straight to a StateStore. `beforeCommit` runs before
 * each of the leader's commits reaches the state, as another writer's entry would.
 */
function harness(
  options: {
    beforeCommit?: (command: KeyringCommand) => void;
    logger?: Logger;
    store?: StateStore;
    kek?: Buffer;
  } = {},
): Harness {
  const store = options.store ?? bootstrappedStore();
  const kek = options.kek ?? newKek();
  const keyring = new ServerKeyring({ state: store, kek, logger: silent });
  const committed: KeyringCommand[] = [];
  const timers = new FakeTimers();
  const clock = { now: T0_MS };
  const leader = new KeyringLeader({
    state: store,
    keyring,
    barrier: async () => undefined,
    commit: async (command) => {
      options.beforeCommit?.(command);
      const index = applyKeyCommand(store, command);
      committed.push(command);
      return index;
    },
    now: () => clock.now,
    timers,
    options: OPTIONS,
    logger: options.logger ?? silent,
  });
  return { store, kek, keyring, leader, committed, timers, clock };
}

/** Writes `items` at `path` encrypted under the active key, as the HTTP writer would. */
function writeVariable(
  h: Pick<Harness, 'store' | 'keyring'>,
  path: string,
  items: VariableItems,
  options: { namespace?: string; keyId?: string } = {},
): number {
  const keyId = options.keyId ?? h.store.activeRootKey()!.Meta.KeyID;
  const command: VariableCommand = {
    type: 'var-apply',
    v: 1,
    op: 'set',
    variable: {
      Namespace: options.namespace ?? 'default',
      Path: path,
      KeyID: keyId,
      Data: encryptItems(h.keyring.encryptionKey(keyId)!, keyId, items),
      ModifyTime: (T0_MS + 5) * NS_PER_MS,
    },
    casIndex: 0,
  };
  return applyKeyCommand(h.store, command);
}

function itemsOf(
  h: Pick<Harness, 'store' | 'keyring'>,
  namespace: string,
  path: string,
): Record<string, string> {
  const row = h.store.variable(namespace, path)!;
  return decryptItems(h.keyring.encryptionKey(row.KeyID)!, row.KeyID, row.Data);
}

function varApplies(committed: readonly KeyringCommand[]): VariableCommand[] {
  return committed.filter((command) => command.type === 'var-apply');
}

describe('KeyringLeader: rekey', () => {
  test('re-encrypts every variable, then marks the key inactive', async () => {
    const h = harness();
    const old = addKey(h.store, h.kek, T0_MS);
    applyOk(h.store, entry('namespace-upsert', { namespace: { Name: 'prod', Description: '', Meta: null } }));
    writeVariable(h, 'app/db', { password: 'p1' });
    writeVariable(h, 'nomad/jobs/web', { port: '8080' });
    writeVariable(h, 'app/db', { password: 'p2' }, { namespace: 'prod' });
    const before = h.store.variables('*');
    const current = addKey(h.store, h.kek, T0_MS, 'rekeying');
    assert.equal(h.store.rootKey(old)?.Meta.State, 'rekeying');

    await h.leader.check();
    await h.leader.stop();

    assert.deepEqual(h.store.variablesByKey(old), []);
    assert.equal(h.store.variablesByKey(current).length, 3);
    assert.equal(h.store.rootKey(old)?.Meta.State, 'inactive');
    assert.deepEqual(itemsOf(h, 'default', 'app/db'), { password: 'p1' });
    assert.deepEqual(itemsOf(h, 'default', 'nomad/jobs/web'), { port: '8080' });
    assert.deepEqual(itemsOf(h, 'prod', 'app/db'), { password: 'p2' });

    const applies = varApplies(h.committed);
    assert.equal(applies.length, 3);
    for (const previous of before) {
      const command = applies.find(
        (candidate) =>
          candidate.variable.Namespace === previous.Namespace && candidate.variable.Path === previous.Path,
      );
      assert.ok(command !== undefined);
      assert.equal(command.op, 'cas');
      assert.equal(command.casIndex, previous.ModifyIndex);
      const after = h.store.variable(previous.Namespace, previous.Path)!;
      assert.equal(after.CreateIndex, previous.CreateIndex);
      assert.equal(after.CreateTime, previous.CreateTime);
      assert.equal(after.ModifyTime, previous.ModifyTime, 'a rekey changed ModifyTime');
      assert.ok(after.ModifyIndex > previous.ModifyIndex);
    }
    // The key goes inactive only after its variables moved.
    assert.equal(h.committed.at(-1)?.type, 'root-key-state');
  });

  test('a write racing the rekey wins', async () => {
    let raced = false;
    const h: Harness = harness({
      beforeCommit: (command) => {
        if (command.type !== 'var-apply' || raced) return;
        raced = true;
        // Another writer's entry lands between the leader's read and its commit.
        writeVariable(h, command.variable.Path, { password: 'written during the rekey' });
      },
    });
    const old = addKey(h.store, h.kek, T0_MS);
    writeVariable(h, 'app/db', { password: 'before' });
    writeVariable(h, 'app/other', { password: 'other' });
    const current = addKey(h.store, h.kek, T0_MS, 'rekeying');

    await h.leader.check();
    await h.leader.stop();

    assert.ok(raced);
    assert.deepEqual(itemsOf(h, 'default', 'app/db'), { password: 'written during the rekey' });
    assert.deepEqual(itemsOf(h, 'default', 'app/other'), { password: 'other' });
    assert.equal(h.store.variable('default', 'app/db')?.KeyID, current);
    // The leader's entry for app/db lost its check-and-set, so only app/other was applied.
    assert.deepEqual(
      varApplies(h.committed).map((command) => command.variable.Path),
      ['app/other'],
    );
    assert.equal(h.store.rootKey(old)?.Meta.State, 'inactive');
  });

  test('a late write under the rekeying key waits for the next pass', async () => {
    let raced = false;
    let old = '';
    const h: Harness = harness({
      beforeCommit: (command) => {
        if (command.type !== 'var-apply' || raced) return;
        raced = true;
        // A writer that encrypted before the rotation commits after it.
        writeVariable(h, command.variable.Path, { password: 'stale writer' }, { keyId: old });
      },
    });
    old = addKey(h.store, h.kek, T0_MS);
    writeVariable(h, 'app/db', { password: 'before' });
    addKey(h.store, h.kek, T0_MS, 'rekeying');

    await h.leader.check();
    assert.equal(h.store.rootKey(old)?.Meta.State, 'rekeying');
    assert.equal(h.store.variable('default', 'app/db')?.KeyID, old);

    await h.leader.check();
    await h.leader.stop();
    assert.equal(h.store.rootKey(old)?.Meta.State, 'inactive');
    assert.deepEqual(itemsOf(h, 'default', 'app/db'), { password: 'stale writer' });
  });

  test('paces its writes to 100 a second', async () => {
    const h = harness();
    const old = addKey(h.store, h.kek, T0_MS);
    for (let i = 0; i < 150; i++) writeVariable(h, `app/${String(i).padStart(3, '0')}`, { i: String(i) });
    addKey(h.store, h.kek, T0_MS, 'rekeying');

    const pass = h.leader.check();
    await h.timers.whenPending();
    assert.equal(varApplies(h.committed).length, 100);
    // The fake clock stood still, so the rest waits a whole second.
    assert.deepEqual(h.timers.delays(), [1000]);
    assert.equal(h.store.rootKey(old)?.Meta.State, 'rekeying');

    h.clock.now += 1000;
    h.timers.fireNext();
    await withDeadline(pass, 'the pass ends');
    await h.leader.stop();
    assert.equal(varApplies(h.committed).length, 150);
    assert.equal(h.store.rootKey(old)?.Meta.State, 'inactive');
    assert.deepEqual(itemsOf(h, 'default', 'app/149'), { i: '149' });
  });

  test('stop during the pause ends the rekey', async () => {
    const h = harness();
    const old = addKey(h.store, h.kek, T0_MS);
    for (let i = 0; i < 101; i++) writeVariable(h, `app/${i}`, { i: String(i) });
    addKey(h.store, h.kek, T0_MS, 'rekeying');

    const pass = h.leader.check();
    await h.timers.whenPending();
    await withDeadline(h.leader.stop(), 'stop resolves');
    await withDeadline(pass, 'the pass ends');
    assert.equal(h.timers.pending, 0);
    assert.equal(varApplies(h.committed).length, 100);
    assert.equal(h.store.variablesByKey(old).length, 1);
    assert.equal(h.store.rootKey(old)?.Meta.State, 'rekeying');
  });

  test('a variable that does not decrypt keeps the key rekeying', async () => {
    const { logger, lines, raw } = capturingLogger();
    const h = harness({ logger });
    const old = addKey(h.store, h.kek, T0_MS);
    writeVariable(h, 'app/good', { password: 'fine' });
    // Data encrypted under the right key id but with other material, as corruption would leave it.
    applyKeyCommand(h.store, {
      type: 'var-apply',
      v: 1,
      op: 'set',
      variable: {
        Namespace: 'default',
        Path: 'app/bad',
        KeyID: old,
        Data: encryptItems(randomBytes(32), old, { password: 'unreadable' }),
        ModifyTime: T0_MS * NS_PER_MS,
      },
      casIndex: 0,
    });
    const current = addKey(h.store, h.kek, T0_MS, 'rekeying');

    await h.leader.check();
    await h.leader.stop();

    assert.equal(h.store.variable('default', 'app/good')?.KeyID, current);
    assert.equal(h.store.variable('default', 'app/bad')?.KeyID, old);
    assert.equal(h.store.rootKey(old)?.Meta.State, 'rekeying');
    const error = lines.find((line) => line.level === LEVEL.error);
    assert.equal(error?.code, 'DECRYPT_FAILED');
    assert.equal(error?.path, 'app/bad');
    assert.equal(raw.join('').includes('fine'), false, 'the log contains an item value');
  });

  test('a rekeying key that does not unwrap is logged once', async () => {
    const { logger, lines } = capturingLogger();
    const h = harness({ logger });
    const foreign = addKey(h.store, newKek(), T0_MS);
    for (const path of ['app/a', 'app/b']) {
      applyKeyCommand(h.store, {
        type: 'var-apply',
        v: 1,
        op: 'set',
        variable: {
          Namespace: 'default',
          Path: path,
          KeyID: foreign,
          Data: encryptItems(randomBytes(32), foreign, { a: 'b' }),
          ModifyTime: T0_MS * NS_PER_MS,
        },
        casIndex: 0,
      });
    }
    addKey(h.store, h.kek, T0_MS, 'rekeying');

    await h.leader.check();
    await h.leader.stop();
    assert.equal(h.store.rootKey(foreign)?.Meta.State, 'rekeying');
    assert.deepEqual(varApplies(h.committed), []);
    const warnings = lines.filter((line) => line.level === LEVEL.warn && line.keyId === foreign);
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]!.rekeyingUsable, false);
  });

  test('an inactive key that encrypts variables is not removed', async () => {
    const h = harness();
    const old = addKey(h.store, h.kek, T0_MS);
    writeVariable(h, 'app/db', { password: 'p' });
    addKey(h.store, h.kek, T0_MS);
    h.clock.now = T0_MS + 3 * HOUR_MS;

    await h.leader.check();
    await h.leader.check();
    await h.leader.stop();
    assert.equal(h.store.rootKey(old)?.Meta.State, 'inactive');
    assert.equal(
      h.committed.some((command) => command.type === 'root-key-delete'),
      false,
      'the leader proposed removing a key in use',
    );
  });

  test('the log holds key ids, never items or material', async () => {
    const { logger, raw } = capturingLogger();
    const h = harness({ logger });
    const secret = `secret-${randomBytes(8).toString('hex')}`;
    const old = addKey(h.store, h.kek, T0_MS);
    writeVariable(h, 'app/db', { password: secret });
    const current = addKey(h.store, h.kek, T0_MS, 'rekeying');

    await h.leader.check();
    await h.leader.stop();
    const log = raw.join('');
    assert.ok(log.includes(old), 'the rekey was not logged with its key id');
    assert.equal(log.includes(secret), false);
    for (const keyId of [old, current]) {
      const material = h.keyring.encryptionKey(keyId)!;
      for (const form of [material.toString('hex'), material.toString('base64')]) {
        assert.equal(log.includes(form), false);
      }
    }
  });
});
