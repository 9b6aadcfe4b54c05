import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { publicNode } from '../../src/state/store.js';
import { applyOk, bootstrappedStore, entry, makeEval, makeJob, makeNode, T0 } from './workload-fixtures.js';

describe('node-register', () => {
  test('inserts a node at the entry index', () => {
    const store = bootstrappedStore();
    const index = applyOk(
      store,
      entry('node-register', { node: makeNode({ CreateIndex: 50, ModifyIndex: 50 }) }),
    );
    const node = store.node('node-1')!;
    assert.deepEqual(node, { ...makeNode(), CreateIndex: index, ModifyIndex: index });
    assert.ok(Object.isFrozen(node));
    assert.ok(Object.isFrozen(node.Drivers.mock));
    assert.equal(store.tableIndex('nodes'), index);
  });

  test('re-registration with the same secret updates', () => {
    const store = bootstrappedStore();
    const created = applyOk(store, entry('node-register', { node: makeNode({ Status: 'initializing' }) }));
    const updated = applyOk(
      store,
      entry('node-register', { node: makeNode({ Status: 'ready', Name: 'renamed' }) }),
    );
    const node = store.node('node-1')!;
    assert.equal(node.Status, 'ready');
    assert.equal(node.Name, 'renamed');
    assert.equal(node.CreateIndex, created);
    assert.equal(node.ModifyIndex, updated);
  });

  test('another secret for the same ID is rejected with 403', () => {
    const store = bootstrappedStore();
    applyOk(store, entry('node-register', { node: makeNode() }));
    const result = store.apply(
      store.latestIndex + 1,
      entry('node-register', { node: makeNode({ SecretID: 'stolen', Name: 'impostor' }) }),
    );
    assert.equal(result.ok === false && result.status, 403);
    assert.equal(result.ok === false && result.reason, 'rejected');
    assert.equal(store.node('node-1')!.Name, 'client-1');
    assert.equal(store.node('node-1')!.SecretID, 'secret-1');
  });

  test('nodes are listed by ID', () => {
    const store = bootstrappedStore();
    for (const ID of ['n-b', 'n-a', 'n-c'])
      applyOk(store, entry('node-register', { node: makeNode({ ID }) }));
    assert.deepEqual(
      store.nodes().map((node) => node.ID),
      ['n-a', 'n-b', 'n-c'],
    );
  });

  test('public node has no SecretID', () => {
    const store = bootstrappedStore();
    applyOk(store, entry('node-register', { node: makeNode() }));
    const shown = publicNode(store.node('node-1')!);
    assert.equal(Object.hasOwn(shown, 'SecretID'), false);
    assert.equal(JSON.stringify(shown).includes('secret-1'), false);
    assert.equal(shown.ID, 'node-1');
    assert.ok(Object.isFrozen(shown));
    assert.equal(store.node('node-1')!.SecretID, 'secret-1');
  });
});

describe('node-status', () => {
  test('sets status and inserts evaluations', () => {
    const store = bootstrappedStore();
    const created = applyOk(store, entry('node-register', { node: makeNode() }));
    applyOk(store, entry('job-register', { job: makeJob(), eval: null }));
    const index = applyOk(
      store,
      entry('node-status', {
        nodeId: 'node-1',
        status: 'down',
        description: 'heartbeat missed',
        time: T0 + 2_500_000_000,
        evals: [makeEval({ ID: 'eval-node', TriggeredBy: 'node-update', NodeID: 'node-1' })],
      }),
    );
    const node = store.node('node-1')!;
    assert.equal(node.Status, 'down');
    assert.equal(node.StatusDescription, 'heartbeat missed');
    assert.equal(node.StatusUpdatedAt, 1_767_225_602);
    assert.equal(node.CreateIndex, created);
    assert.equal(node.ModifyIndex, index);
    assert.equal(store.evaluation('eval-node')!.CreateIndex, index);
    assert.equal(store.job('default', 'web')!.Status, 'pending');
  });

  test('unknown node is rejected with 404', () => {
    const store = bootstrappedStore();
    const result = store.apply(
      2,
      entry('node-status', {
        nodeId: 'node-9',
        status: 'ready',
        description: '',
        time: T0,
        evals: [makeEval()],
      }),
    );
    assert.equal(result.ok === false && result.status, 404);
    assert.equal(result.ok === false && result.message, 'node not found');
    assert.equal(store.evaluation('eval-1'), null);
  });
});
