import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import pino from 'pino';
import {
  type KeyringCommand,
  KeyringLeader,
  type KeyringLeaderOptions,
} from '../../../src/server/keyring/keyring-leader.js';
import { ServerKeyring } from '../../../src/server/keyring/server-keyring.js';
import type { StateStore } from '../../../src/state/store.js';
import {
  addKey,
  applyKeyCommand,
  bootstrappedStore,
  capturingLogger,
  FakeTimers,
  HOUR_MS,
  LEVEL,
  newKek,
  placeSignedAllocs,
  setClientStatus,
  T0_MS,
  withDeadline,
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
  readonly committed: KeyringCommand[];
  /** Calls of `commit`, failed ones included. */
  readonly attempts: { count: number };
  /** The fake wall clock, in Unix ms. */
  readonly clock: { now: number };
  /** The leader's timers, which run only when the test fires them. */
  readonly timers: FakeTimers;
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
  const committed: KeyringCommand[] = [];
  const attempts = { count: 0 };
  const clock = { now: T0_MS };
  const timers = new FakeTimers();
  let failures = options.failures ?? 0;
  const leader = new KeyringLeader({
    state: store,
    keyring,
    barrier: async () => undefined,
    commit: async (command) => {
      attempts.count++;
      if (failures > 0) {
        failures--;
        throw new Error('no quorum');
      }
      committed.push(command);
      return applyKeyCommand(store, command);
    },
    now: () => clock.now,
    timers,
    options: { ...OPTIONS, ...options.leaderOptions },
    logger: silent,
  });
  return { store, kek, keyring, leader, committed, attempts, clock, timers };
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
    const { store, leader, committed, attempts, timers } = harness({ failures: 2 });
    const ready = leader.ensureActiveKey();
    // Each failure arms a pause before the next attempt, twice as long as the one before.
    await timers.whenPending();
    const [firstPauseMs] = timers.delays();
    assert.ok(firstPauseMs !== undefined);
    assert.ok(firstPauseMs > 0);
    timers.fireNext();
    await timers.whenPending();
    assert.deepEqual(timers.delays(), [2 * firstPauseMs]);
    assert.equal(attempts.count, 2);
    timers.fireNext();

    const key = await ready;
    await leader.stop();
    assert.ok(key !== null);
    assert.equal(attempts.count, 3);
    assert.equal(committed.length, 1);
    assert.equal(store.activeRootKey()?.Meta.KeyID, key.KeyID);
    assert.equal(timers.pending, 0);
  });

  test('stop ends the retries and resolves with null', async () => {
    const { store, leader, attempts, timers } = harness({ failures: Number.POSITIVE_INFINITY });
    const ready = leader.ensureActiveKey();
    await timers.whenPending();
    assert.equal(attempts.count, 1);

    await withDeadline(leader.stop(), 'stop resolves');
    assert.equal(await ready, null);
    assert.equal(timers.pending, 0, 'a retry is still armed after stop');
    assert.equal(attempts.count, 1);
    assert.equal(store.rootKeys().length, 0);
  });

  test('an aborted signal ends the wait of that caller only', async () => {
    const { leader, timers } = harness({ failures: 1 });
    const abort = new AbortController();
    const waiting = leader.ensureActiveKey(abort.signal);
    abort.abort();
    assert.equal(await waiting, null);
    const shared = leader.ensureActiveKey();
    await timers.whenPending();
    timers.fireNext();
    assert.ok((await shared) !== null);
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

  test('the timer runs a check every interval after start', async () => {
    const { store, leader, clock, timers } = harness({ leaderOptions: { rotationThresholdMs: HOUR_MS } });
    const first = (await leader.ensureActiveKey())!;
    await leader.start();
    assert.deepEqual(timers.delays(), [OPTIONS.gcIntervalMs]);

    clock.now = T0_MS + 2 * HOUR_MS;
    timers.fireNext();
    // The timer of the next pass is armed once this pass has ended.
    await timers.whenPending();
    assert.notEqual(store.activeRootKey()?.Meta.KeyID, first.KeyID);
    assert.deepEqual(timers.delays(), [OPTIONS.gcIntervalMs]);

    // Stopped: no timer is left that could run another pass.
    await leader.stop();
    assert.equal(timers.pending, 0);
  });

  test('stop during a pass arms no further timer', async () => {
    const store = bootstrappedStore();
    const kek = newKek();
    addKey(store, kek, T0_MS);
    const timers = new FakeTimers();
    let entered!: () => void;
    const commitEntered = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const leader = new KeyringLeader({
      state: store,
      keyring: new ServerKeyring({ state: store, kek, logger: silent }),
      barrier: async () => undefined,
      commit: async (command) => {
        entered();
        await released;
        return applyKeyCommand(store, command);
      },
      now: () => T0_MS + OPTIONS.rotationThresholdMs,
      timers,
      options: OPTIONS,
      logger: silent,
    });
    await leader.start();
    timers.fireNext();
    // The key is due for rotation, so the pass is now waiting on its commit.
    await withDeadline(commitEntered, 'the pass commits a new key');

    const stopped = leader.stop();
    release();
    await stopped;
    assert.equal(timers.pending, 0, 'the pass armed the next timer after stop');
  });
});
