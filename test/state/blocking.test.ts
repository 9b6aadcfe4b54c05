import assert from 'node:assert/strict';
import { getEventListeners, setMaxListeners } from 'node:events';
import { describe, test } from 'node:test';
import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { encodeCommand } from '../../src/state/commands.js';
import { StateStore } from '../../src/state/store.js';

const DEADLINE_MS = 5_000;

/** Tracks whether a promise has settled, without waiting for it. */
function track(promise: Promise<void>): { readonly settled: boolean; readonly promise: Promise<void> } {
  const state = { settled: false, promise };
  promise.then(() => {
    state.settled = true;
  });
  return state;
}

/** Awaits `promise`, failing the test when it has not settled within the deadline. */
async function withinDeadline(promise: Promise<void>, description: string): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${description} did not resolve within ${DEADLINE_MS} ms`)),
      DEADLINE_MS,
    );
  });
  try {
    await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

function upsertNamespace(Name: string): Uint8Array {
  return encodeCommand({ type: 'namespace-upsert', v: 1, namespace: { Name, Description: '', Meta: null } });
}

function bootstrappedStore(): StateStore {
  const store = new StateStore();
  store.advanceTo(1);
  return store;
}

describe('blocking waits', () => {
  test('resolves at once when the table is past afterIndex', async () => {
    const store = bootstrappedStore();
    store.apply(2, upsertNamespace('web'));
    await withinDeadline(store.waitForChange('namespaces', 1, new AbortController().signal), 'wait');
    assert.equal(store.pendingWaits('namespaces'), 0);
  });

  test('resolves when its table changes', async () => {
    const store = bootstrappedStore();
    const wait = track(store.waitForChange('namespaces', 1, new AbortController().signal));
    await nextMacrotask();
    assert.equal(wait.settled, false);
    assert.equal(store.pendingWaits('namespaces'), 1);

    store.apply(2, upsertNamespace('web'));
    await withinDeadline(wait.promise, 'wait');
    assert.equal(store.tableIndex('namespaces'), 2);
    assert.equal(store.pendingWaits('namespaces'), 0);
  });

  test('ignores changes to other tables', async () => {
    const store = bootstrappedStore();
    const wait = track(store.waitForChange('servers', 1, new AbortController().signal));
    store.apply(2, upsertNamespace('web'));
    store.advanceTo(3);
    await nextMacrotask();
    assert.equal(wait.settled, false);

    const server = { id: 1, name: 's1', rpcAddr: 'a:1', httpAddr: 'a:2' };
    store.apply(4, encodeCommand({ type: 'server-upsert', v: 1, server }));
    await withinDeadline(wait.promise, 'servers wait');
  });

  test('rejected command wakes nobody', async () => {
    const store = bootstrappedStore();
    const wait = track(store.waitForChange('namespaces', 1, new AbortController().signal));
    store.apply(2, encodeCommand({ type: 'namespace-delete', v: 1, name: 'missing' }));
    await nextMacrotask();
    assert.equal(wait.settled, false);
    assert.equal(store.pendingWaits('namespaces'), 1);
  });

  test('wakes only waits below the new index', async () => {
    const store = bootstrappedStore();
    store.advanceTo(5);
    const early = track(store.waitForChange('namespaces', 1, new AbortController().signal));
    const late = track(store.waitForChange('namespaces', 6, new AbortController().signal));
    store.apply(6, upsertNamespace('web'));
    await withinDeadline(early.promise, 'early wait');
    assert.equal(late.settled, false);
    store.apply(7, upsertNamespace('db'));
    await withinDeadline(late.promise, 'late wait');
  });

  test('abort resolves instead of rejecting', async () => {
    const store = bootstrappedStore();
    const controller = new AbortController();
    const wait = store.waitForChange('namespaces', 1, controller.signal);
    controller.abort(new Error('client went away'));
    await withinDeadline(wait, 'aborted wait');
    assert.equal(store.pendingWaits('namespaces'), 0);
    assert.equal(store.tableIndex('namespaces'), 1);
  });

  test('already aborted signal resolves at once', async () => {
    const store = bootstrappedStore();
    const signal = AbortSignal.abort();
    await withinDeadline(store.waitForChange('namespaces', 1, signal), 'wait');
    assert.equal(store.pendingWaits('namespaces'), 0);
    assert.equal(getEventListeners(signal, 'abort').length, 0);
  });

  test('restore wakes waits', async () => {
    const source = bootstrappedStore();
    source.apply(2, upsertNamespace('web'));
    const store = bootstrappedStore();
    const wait = store.waitForChange('namespaces', 1, new AbortController().signal);
    store.restore(source.snapshot());
    await withinDeadline(wait, 'wait across restore');
  });

  test('10,000 aborted waits leave no listeners', async () => {
    const store = bootstrappedStore();
    const controllers: AbortController[] = [];
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 10_000; i++) {
      const controller = new AbortController();
      controllers.push(controller);
      waits.push(store.waitForChange('namespaces', 1, controller.signal));
    }
    assert.equal(store.pendingWaits('namespaces'), 10_000);

    for (const controller of controllers) controller.abort();
    await withinDeadline(
      Promise.all(waits).then(() => undefined),
      'aborted waits',
    );
    assert.equal(store.pendingWaits('namespaces'), 0);
    for (const controller of controllers)
      assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });

  test('10,000 woken waits leave no listeners on a shared signal', async () => {
    const store = bootstrappedStore();
    // One long-lived signal, such as a server's shutdown signal, shared by every blocking query.
    // Node warns past 10 listeners on one signal, so a caller that shares one raises its limit.
    const shutdown = new AbortController();
    setMaxListeners(20_000, shutdown.signal);
    const waits: Promise<void>[] = [];
    for (let i = 0; i < 10_000; i++) waits.push(store.waitForChange('namespaces', 1, shutdown.signal));
    assert.equal(getEventListeners(shutdown.signal, 'abort').length, 10_000);

    store.apply(2, upsertNamespace('web'));
    await withinDeadline(
      Promise.all(waits).then(() => undefined),
      'woken waits',
    );
    assert.equal(store.pendingWaits('namespaces'), 0);
    assert.equal(getEventListeners(shutdown.signal, 'abort').length, 0);
  });
});
