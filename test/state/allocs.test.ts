import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { AllocClientUpdate } from '../../src/state/alloc-fields.js';
import type { StateStore } from '../../src/state/store.js';
import type { Allocation } from '../../src/structs/allocation.js';
import {
  applyOk,
  bootstrappedStore,
  entry,
  makeAlloc,
  makeEval,
  makeJob,
  makeNode,
  makeTaskState,
  T0,
} from './workload-fixtures.js';

/** Returns a store with nodes node-1 and node-2 and the job `web`, with a pending evaluation. */
function storeWithJob(type: 'service' | 'batch' = 'service'): StateStore {
  const store = bootstrappedStore();
  applyOk(store, entry('node-register', { node: makeNode() }));
  applyOk(
    store,
    entry('node-register', { node: makeNode({ ID: 'node-2', SecretID: 'secret-2', Name: 'client-2' }) }),
  );
  applyOk(store, entry('job-register', { job: makeJob({ Type: type }), eval: makeEval() }));
  return store;
}

function place(...allocs: Allocation[]): Uint8Array {
  return entry('plan-apply', {
    place: allocs,
    stop: [],
    evals: [makeEval({ Status: 'complete' })],
    time: T0 + 1,
  });
}

function report(...updates: Partial<AllocClientUpdate>[]): Uint8Array {
  return entry('alloc-client-update', {
    updates: updates.map((update) => ({
      ID: 'alloc-1',
      ClientStatus: 'running',
      ClientDescription: '',
      TaskStates: {},
      ...update,
    })),
    evals: [],
    time: T0 + 2,
  });
}

describe('plan-apply', () => {
  test('places allocations and starts the job', () => {
    const store = storeWithJob();
    const index = applyOk(
      store,
      place(makeAlloc(), makeAlloc({ ID: 'alloc-2', NodeID: 'node-2', CreateTime: T0 - 5, CreateIndex: 77 })),
    );

    const first = store.allocation('alloc-1')!;
    assert.equal(first.CreateIndex, index);
    assert.equal(first.ModifyIndex, index);
    assert.equal(first.AllocModifyIndex, index);
    assert.equal(first.CreateTime, T0 + 1, 'a placement without CreateTime gets the plan time');
    assert.equal(first.ModifyTime, T0 + 1);
    assert.equal(store.allocation('alloc-2')!.CreateTime, T0 - 5);
    assert.equal(store.allocation('alloc-2')!.CreateIndex, index);

    assert.deepEqual(
      store.allocationsByNode('node-1').map((a) => a.ID),
      ['alloc-1'],
    );
    assert.deepEqual(
      store.allocationsByJob('default', 'web').map((a) => a.ID),
      ['alloc-1', 'alloc-2'],
    );
    assert.equal(store.job('default', 'web')!.Status, 'running');
    assert.equal(store.job('default', 'web')!.ModifyIndex, index);
    assert.equal(store.evaluation('eval-1')!.Status, 'complete');
    assert.equal(store.tableIndex('allocs'), index);
  });

  test('unknown node rejects the whole plan', () => {
    const store = storeWithJob();
    const before = store.snapshot();
    const result = store.apply(
      store.latestIndex + 1,
      place(makeAlloc(), makeAlloc({ ID: 'alloc-2', NodeID: 'node-9' })),
    );
    assert.equal(result.ok, false);
    assert.equal(result.ok === false && result.reason, 'rejected');
    assert.equal(result.ok === false && result.status, 404);
    assert.match(result.ok === false ? result.message : '', /node-9/);
    assert.equal(store.allocation('alloc-1'), null);
    assert.equal(store.evaluation('eval-1')!.Status, 'pending');
    assert.equal(store.tableIndex('allocs'), 1);
    assert.equal(store.snapshot().length, before.length);
  });

  test('unknown job rejects the plan', () => {
    const store = storeWithJob();
    const result = store.apply(store.latestIndex + 1, place(makeAlloc({ JobID: 'db' })));
    assert.equal(result.ok === false && result.status, 404);
    assert.equal(store.allocation('alloc-1'), null);
  });

  test('unknown stop rejects the plan', () => {
    const store = storeWithJob();
    const data = entry('plan-apply', {
      place: [makeAlloc()],
      stop: [{ ID: 'alloc-9', DesiredDescription: 'gone' }],
      evals: [],
      time: T0,
    });
    const result = store.apply(store.latestIndex + 1, data);
    assert.equal(result.ok === false && result.status, 404);
    assert.equal(store.allocation('alloc-1'), null);
  });

  test('allocation ID of another job rejects the plan', () => {
    const store = storeWithJob();
    applyOk(store, entry('job-register', { job: makeJob({ ID: 'db' }), eval: null }));
    applyOk(store, place(makeAlloc()));
    const result = store.apply(store.latestIndex + 1, place(makeAlloc({ JobID: 'db' })));
    assert.equal(result.ok === false && result.status, 409);
    assert.equal(store.allocation('alloc-1')!.JobID, 'web');
  });

  test('in-place update keeps client fields', () => {
    const store = storeWithJob();
    const created = applyOk(store, place(makeAlloc()));
    applyOk(
      store,
      report({ TaskStates: { server: makeTaskState() }, ClientDescription: 'Tasks are running' }),
    );
    const updated = applyOk(
      store,
      place(makeAlloc({ NodeID: 'node-2', JobVersion: 8, ClientStatus: 'pending' })),
    );

    const alloc = store.allocation('alloc-1')!;
    assert.equal(alloc.JobVersion, 8);
    assert.equal(alloc.ClientStatus, 'running');
    assert.equal(alloc.ClientDescription, 'Tasks are running');
    assert.deepEqual(alloc.TaskStates, { server: makeTaskState() });
    assert.equal(alloc.CreateIndex, created);
    assert.equal(alloc.AllocModifyIndex, updated);
    assert.equal(alloc.CreateTime, T0 + 1);
    // The node index follows the move.
    assert.deepEqual(store.allocationsByNode('node-1'), []);
    assert.deepEqual(
      store.allocationsByNode('node-2').map((a) => a.ID),
      ['alloc-1'],
    );
  });

  test('stop sets desired status and marks lost', () => {
    const store = storeWithJob();
    applyOk(store, place(makeAlloc(), makeAlloc({ ID: 'alloc-2' })));
    applyOk(store, report({ ID: 'alloc-2', ClientStatus: 'running' }));
    const index = applyOk(
      store,
      entry('plan-apply', {
        place: [],
        stop: [
          { ID: 'alloc-1', DesiredDescription: 'alloc not needed due to job update' },
          { ID: 'alloc-2', DesiredDescription: 'alloc is lost since its node is down', ClientStatus: 'lost' },
        ],
        evals: [],
        time: T0 + 3,
      }),
    );

    const stopped = store.allocation('alloc-1')!;
    assert.equal(stopped.DesiredStatus, 'stop');
    assert.equal(stopped.DesiredDescription, 'alloc not needed due to job update');
    assert.equal(stopped.ClientStatus, 'pending');
    assert.equal(stopped.AllocModifyIndex, index);
    assert.equal(stopped.ModifyTime, T0 + 3);
    assert.equal(store.allocation('alloc-2')!.ClientStatus, 'lost');
    assert.equal(store.job('default', 'web')!.Status, 'dead');
  });

  test('lost never replaces complete', () => {
    const store = storeWithJob('batch');
    applyOk(store, place(makeAlloc()));
    applyOk(store, report({ ClientStatus: 'complete' }));
    applyOk(
      store,
      entry('plan-apply', {
        place: [],
        stop: [{ ID: 'alloc-1', DesiredDescription: 'node down', ClientStatus: 'lost' }],
        evals: [],
        time: T0,
      }),
    );
    assert.equal(store.allocation('alloc-1')!.ClientStatus, 'complete');
    assert.equal(store.allocation('alloc-1')!.DesiredStatus, 'stop');
  });
});

describe('alloc-client-update', () => {
  test('records client status without AllocModifyIndex', () => {
    const store = storeWithJob();
    const placed = applyOk(store, place(makeAlloc()));
    const index = applyOk(
      store,
      report({
        ClientStatus: 'running',
        ClientDescription: 'Tasks are running',
        TaskStates: { server: makeTaskState() },
      }),
    );
    const alloc = store.allocation('alloc-1')!;
    assert.equal(alloc.ClientStatus, 'running');
    assert.equal(alloc.ClientDescription, 'Tasks are running');
    assert.deepEqual(alloc.TaskStates, { server: makeTaskState() });
    assert.equal(alloc.ModifyIndex, index);
    assert.equal(alloc.AllocModifyIndex, placed);
    assert.equal(alloc.ModifyTime, T0 + 2);
    assert.ok(Object.isFrozen(alloc.TaskStates.server!.Events));
  });

  test('unknown and terminal allocations are skipped', () => {
    const store = storeWithJob();
    applyOk(store, place(makeAlloc(), makeAlloc({ ID: 'alloc-2' })));
    applyOk(store, report({ ID: 'alloc-2', ClientStatus: 'failed' }));
    const result = store.apply(
      store.latestIndex + 1,
      report({ ID: 'alloc-1' }, { ID: 'alloc-2', ClientStatus: 'running' }, { ID: 'alloc-9' }),
    );
    assert.deepEqual(result, { ok: true, skipped: ['alloc-2', 'alloc-9'] });
    assert.equal(store.allocation('alloc-1')!.ClientStatus, 'running');
    assert.equal(store.allocation('alloc-2')!.ClientStatus, 'failed');
    assert.equal(store.allocation('alloc-9'), null);
  });

  test('update of only unknown allocations changes no table', () => {
    const store = storeWithJob();
    const before = store.tableIndex('allocs');
    const result = store.apply(store.latestIndex + 1, report({ ID: 'alloc-9' }));
    assert.deepEqual(result, { ok: true, skipped: ['alloc-9'] });
    assert.equal(store.tableIndex('allocs'), before);
  });

  test('batch job is dead once every allocation completed', () => {
    const store = storeWithJob('batch');
    applyOk(store, place(makeAlloc(), makeAlloc({ ID: 'alloc-2' })));
    applyOk(store, report({ ClientStatus: 'complete' }));
    assert.equal(store.job('default', 'web')!.Status, 'running');
    const index = applyOk(store, report({ ID: 'alloc-2', ClientStatus: 'complete' }));
    assert.equal(store.job('default', 'web')!.Status, 'dead');
    assert.equal(store.job('default', 'web')!.ModifyIndex, index);
  });

  test('failure with a follow-up evaluation keeps the job pending', () => {
    const store = storeWithJob();
    applyOk(store, place(makeAlloc()));
    applyOk(
      store,
      entry('alloc-client-update', {
        updates: [{ ID: 'alloc-1', ClientStatus: 'failed', ClientDescription: 'exit 1', TaskStates: {} }],
        evals: [makeEval({ ID: 'eval-2', TriggeredBy: 'alloc-failure' })],
        time: T0,
      }),
    );
    assert.equal(store.job('default', 'web')!.Status, 'pending');
    assert.equal(store.evaluation('eval-2')!.TriggeredBy, 'alloc-failure');
  });
});
