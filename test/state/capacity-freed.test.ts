import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StateStore } from '../../src/state/store.js';
import { applyOk, bootstrappedStore, entry, makeAlloc, makeJob, makeNode, T0 } from './workload-fixtures.js';

/** Applies `data` at the next index and returns whether the entry freed capacity. */
function freed(store: StateStore, data: Uint8Array): boolean {
  const result = store.apply(store.latestIndex + 1, data);
  assert.ok(result.ok, result.ok ? '' : result.message);
  return result.capacityFreed === true;
}

describe('capacityFreed in apply results', () => {
  test('node registration and return to ready free capacity', () => {
    const store = bootstrappedStore();
    const node = makeNode();
    assert.equal(freed(store, entry('node-register', { node })), true);
    const status = (value: 'down' | 'ready') =>
      entry('node-status', { nodeId: node.ID, status: value, description: '', time: T0, evals: [] });
    assert.equal(freed(store, status('down')), false);
    assert.equal(freed(store, status('ready')), true);
    assert.equal(freed(store, status('ready')), false, 'ready again changes nothing');
  });

  test('placements and running reports do not; stops and finished allocations do', () => {
    const store = bootstrappedStore();
    const node = makeNode();
    const job = makeJob();
    applyOk(store, entry('node-register', { node }));
    applyOk(store, entry('job-register', { job, eval: null }));
    const alloc = makeAlloc({ ID: 'a1', NodeID: node.ID, JobID: job.ID, Namespace: job.Namespace });
    const other = makeAlloc({
      ID: 'a2',
      NodeID: node.ID,
      JobID: job.ID,
      Namespace: job.Namespace,
      Name: 'web.g[1]',
    });
    assert.equal(
      freed(store, entry('plan-apply', { place: [alloc, other], stop: [], evals: [], time: T0 })),
      false,
    );
    const report = (id: string, status: 'running' | 'complete') =>
      entry('alloc-client-update', {
        updates: [{ ID: id, ClientStatus: status, ClientDescription: '', TaskStates: {} }],
        evals: [],
        time: T0,
      });
    assert.equal(freed(store, report('a1', 'running')), false);
    assert.equal(freed(store, report('a1', 'complete')), true);
    const stop = entry('plan-apply', {
      place: [],
      stop: [{ ID: 'a2', DesiredDescription: 'stop' }],
      evals: [],
      time: T0,
    });
    assert.equal(freed(store, stop), true);
  });
});
