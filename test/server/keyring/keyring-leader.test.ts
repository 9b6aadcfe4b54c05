import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import { KeyringLeader, type KeyringLeaderOptions } from '../../../src/server/keyring/keyring-leader.js';
import { ServerKeyring } from '../../../src/server/keyring/server-keyring.js';
import type { RootKeyCommand } from '../../../src/state/root-key-commands.js';
import type { StateStore } from '../../../src/state/store.js';
import {
  addKey,
  applyKeyCommand,
  bootstrappedStore,
  capturingLogger,
  HOUR_MS,
  LEVEL,
  newKek,
  placeSignedAllocs,
  setClientStatus,
  T0_MS,
} from './support.js';

const silent = pino({ level: 'silent' });
const DAY_MS = 24 * HOUR_MS;

const OPTIONS: KeyringLeaderOptions = {
  rotationThresholdMs: 30 * DAY_MS,
  gcThresholdMs: HOUR_MS,
  gcIntervalMs: 10 * 60_000,
};

interface Harness {
  readonly store: StateStore;
  readonly kek: Buffer;
  readonly keyring: ServerKeyring;
  readonly leader: KeyringLeader;
  readonly committed: RootKeyCommand[];
  /** The fake wall clock, in Unix ms. */
  readonly clock: { now: number };
}

/**
 * Builds a keyring leader whose commits apply straight to a StateStore and whose clock only moves when a
 * test moves it. `failures` makes that many commits fail first, as a lost quorum would.
 */
function harness(
  options: {
    store?: StateStore;
    kek?: Buffer;
    failures?: number;
    leaderOptions?: Partial<KeyringLeaderOptions>;
  } = {},
): Harness {
  const store = options.store ?? bootstrappedStore();
  const kek = options.kek ?? newKek();
  const keyring = new ServerKeyring({ state: store, kek, logger: silent });
  const committed: RootKeyCommand[] = [];
  const clock = { now: T0_MS };
  let failures = options.failures ?? 0;
  const leader = new KeyringLeader({
    state: store,
    keyring,
    barrier: async () => undefined,
    commit: async (command) => {
      if (failures > 0) {
        failures--;
        throw new Error('no quorum');
      }
      committed.push(command);
      return applyKeyCommand(store, command);
    },
    now: () => clock.now,
    options: { ...OPTIONS, ...options.leaderOptions },
    logger: silent,
  });
  return { store, kek, keyring, leader, committed, clock };
}

function statesById(store: StateStore): Record<string, string> {
  return Object.fromEntries(store.rootKeys().map((row) => [row.Meta.KeyID, row.Meta.State]));
}

describe('KeyringLeader: first key', () => {
  test('creates the first key exactly once', async () => {
    const { store, leader, committed, keyring } = harness();
    const [a, b] = await Promise.all([leader.ensureActiveKey(), leader.ensureActiveKey()]);
    await leader.start();
    await leader.check();
    await leader.stop();

    assert.equal(committed.length, 1);
    assert.equal(store.rootKeys().length, 1);
    assert.ok(a !== null);
    assert.equal(a, b);
    assert.equal(a.State, 'active');
    assert.equal(a.CreateTime, T0_MS * 1_000_000);
    assert.equal(keyring.active()?.meta.KeyID, a.KeyID);
  });

  test('a later term keeps the existing key', async () => {
    const first = harness();
    const key = await first.leader.ensureActiveKey();
    await first.leader.stop();

    const second = harness({ store: first.store, kek: first.kek });
    assert.deepEqual(await second.leader.ensureActiveKey(), key);
    await second.leader.stop();
    assert.equal(second.committed.length, 0);
    assert.equal(first.store.rootKeys().length, 1);
  });

  test('retries a failed commit until the key is applied', async () => {
    const { store, leader, committed } = harness({ failures: 2 });
    const key = await leader.ensureActiveKey();
    await leader.stop();
    assert.ok(key !== null);
    assert.equal(committed.length, 1);
    assert.equal(store.activeRootKey()?.Meta.KeyID, key.KeyID);
  });

  test('stop ends the retries and resolves with null', async () => {
    const { store, leader } = harness({ failures: Number.POSITIVE_INFINITY });
    const ready = leader.ensureActiveKey();
    await new Promise((resolve) => setTimeout(resolve, 20));
    await leader.stop();
    assert.equal(await ready, null);
    assert.equal(store.rootKeys().length, 0);
  });

  test('an aborted signal ends the wait of that caller only', async () => {
    const { leader } = harness({ failures: 3 });
    const abort = new AbortController();
    const waiting = leader.ensureActiveKey(abort.signal);
    abort.abort();
    assert.equal(await waiting, null);
    assert.ok((await leader.ensureActiveKey()) !== null);
    await leader.stop();
  });

  test('replaces an active key that cannot be unwrapped', async () => {
    const store = bootstrappedStore();
    const foreign = addKey(store, newKek());
    const { logger, lines } = capturingLogger();
    const kek = newKek();
    const keyring = new ServerKeyring({ state: store, kek, logger: silent });
    const leader = new KeyringLeader({
      state: store,
      keyring,
      barrier: async () => undefined,
      commit: async (command) => applyKeyCommand(store, command),
      now: () => T0_MS,
      options: OPTIONS,
      logger,
    });
    const key = await leader.ensureActiveKey();
    await leader.stop();

    assert.ok(key !== null);
    assert.notEqual(key.KeyID, foreign);
    assert.deepEqual(statesById(store), { [foreign]: 'inactive', [key.KeyID]: 'active' });
    const error = lines.find((line) => line.level === LEVEL.error);
    assert.equal(error?.previous, foreign);
  });
});

describe('KeyringLeader: periodic check', () => {
  test('rotates once the active key reaches the threshold', async () => {
    const { store, leader, clock } = harness();
    const first = (await leader.ensureActiveKey())!;

    clock.now = T0_MS + OPTIONS.rotationThresholdMs - 1;
    await leader.check();
    assert.equal(store.activeRootKey()?.Meta.KeyID, first.KeyID);

    clock.now = T0_MS + OPTIONS.rotationThresholdMs;
    await leader.check();
    const second = store.activeRootKey()!;
    assert.notEqual(second.Meta.KeyID, first.KeyID);
    assert.equal(second.Meta.CreateTime, clock.now * 1_000_000);
    assert.equal(store.rootKey(first.KeyID)?.Meta.State, 'inactive');

    // The new key is young: the next pass leaves it active.
    clock.now += 1000;
    await leader.check();
    assert.equal(store.activeRootKey()?.Meta.KeyID, second.Meta.KeyID);
    await leader.stop();
  });

  test('ends a rekey by marking the key inactive', async () => {
    const { store, kek, leader } = harness();
    const old = addKey(store, kek, T0_MS);
    const current = addKey(store, kek, T0_MS, 'rekeying');
    assert.equal(store.rootKey(old)?.Meta.State, 'rekeying');

    await leader.check();
    assert.deepEqual(statesById(store), { [old]: 'inactive', [current]: 'active' });
    await leader.stop();
  });

  test('removes only unused inactive keys past the GC threshold', async () => {
    const { store, kek, leader, clock, committed } = harness({
      leaderOptions: { rotationThresholdMs: 365 * DAY_MS },
    });
    const unused = addKey(store, kek, T0_MS);
    const finished = addKey(store, kek, T0_MS);
    const running = addKey(store, kek, T0_MS);
    const young = addKey(store, kek, T0_MS + 30 * 60_000);
    const active = addKey(store, kek, T0_MS);
    placeSignedAllocs(store, [
      { keyId: finished, status: 'complete' },
      { keyId: finished, status: 'failed' },
      { keyId: running, status: 'running' },
      { keyId: active, status: 'running' },
    ]);
    clock.now = T0_MS + 80 * 60_000;

    await leader.ensureActiveKey();
    await leader.check();
    assert.equal(store.rootKey(unused), null);
    assert.equal(store.rootKey(finished), null);
    // The leader does not even propose removing a key in use; the state would reject it anyway.
    const removals = committed.flatMap((command) =>
      command.type === 'root-key-delete' ? [command.keyId] : [],
    );
    assert.deepEqual(removals.sort(), [unused, finished].sort());
    assert.deepEqual(statesById(store), {
      [running]: 'inactive',
      [young]: 'inactive',
      [active]: 'active',
    });

    // Once the young key is old enough and the running allocation finished, both go.
    clock.now = T0_MS + 2 * HOUR_MS;
    setClientStatus(store, 'alloc-2', 'complete');
    await leader.check();
    assert.deepEqual(statesById(store), { [active]: 'active' });
    await leader.stop();
  });

  test('never removes the active key', async () => {
    const { store, leader, clock } = harness({ leaderOptions: { rotationThresholdMs: 365 * DAY_MS } });
    const key = (await leader.ensureActiveKey())!;
    clock.now = T0_MS + 100 * DAY_MS;
    await leader.check();
    await leader.check();
    assert.deepEqual(statesById(store), { [key.KeyID]: 'active' });
    await leader.stop();
  });

  test('key demoted between passes waits', async () => {
    // A plan signed with a key just before its rotation may still be on its way to the log, and
    // its allocations protect the key only once that entry applies.
    const { store, kek, leader, clock } = harness();
    const first = (await leader.ensureActiveKey())!;
    addKey(store, kek, T0_MS);
    clock.now = T0_MS + 2 * HOUR_MS;
    await leader.check();
    assert.equal(store.rootKey(first.KeyID)?.Meta.State, 'inactive');

    await leader.check();
    assert.equal(store.rootKey(first.KeyID), null);
    await leader.stop();
  });

  test('key rotated out waits one pass', async () => {
    const { store, leader, clock } = harness({ leaderOptions: { rotationThresholdMs: 2 * HOUR_MS } });
    const first = (await leader.ensureActiveKey())!;
    clock.now = T0_MS + 3 * HOUR_MS;
    await leader.check();
    assert.equal(store.rootKey(first.KeyID)?.Meta.State, 'inactive');

    clock.now += OPTIONS.gcIntervalMs;
    await leader.check();
    assert.equal(store.rootKey(first.KeyID), null);
    await leader.stop();
  });

  test('the timer runs checks every interval after start', async () => {
    const { store, leader, clock } = harness({
      leaderOptions: { rotationThresholdMs: HOUR_MS, gcIntervalMs: 5 },
    });
    const first = (await leader.ensureActiveKey())!;
    await leader.start();
    clock.now = T0_MS + 2 * HOUR_MS;
    const deadline = performance.now() + 5000;
    while (store.activeRootKey()?.Meta.KeyID === first.KeyID && performance.now() < deadline) {
      await store.waitForChange('rootKeys', store.tableIndex('rootKeys'), AbortSignal.timeout(100));
    }
    await leader.stop();
    assert.notEqual(store.activeRootKey()?.Meta.KeyID, first.KeyID);

    // Stopped: no further pass rotates the key.
    const after = store.tableIndex('rootKeys');
    clock.now += 10 * HOUR_MS;
    await new Promise((resolve) => setTimeout(resolve, 30));
    assert.equal(store.tableIndex('rootKeys'), after);
  });
});
