import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { Packr } from 'msgpackr';
import { SnapshotError } from '../../src/state/errors.js';
import { SNAPSHOT_VERSION } from '../../src/state/snapshot-codec.js';
import { StateStore } from '../../src/state/store.js';
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

const plainPackr = new Packr({ useRecords: false });

/** Snapshot of a store at version 1 (namespaces `default` and `web`, server 42, latestIndex 4). */
const V1_SNAPSHOT = readFileSync(new URL('./fixtures/snapshot-v1.msgpack', import.meta.url));

/** Returns a store with rows in every workload table, some of them changed more than once. */
function workloadStore(): StateStore {
  const store = bootstrappedStore();
  applyOk(store, entry('node-register', { node: makeNode() }));
  applyOk(store, entry('node-register', { node: makeNode({ ID: 'node-2', SecretID: 'secret-2' }) }));
  applyOk(store, entry('job-register', { job: makeJob(), eval: makeEval() }));
  applyOk(store, entry('job-register', { job: makeJob({ ID: 'batch', Type: 'batch' }), eval: null }));
  applyOk(
    store,
    entry('plan-apply', {
      place: [
        makeAlloc(),
        makeAlloc({ ID: 'alloc-2', NodeID: 'node-2' }),
        makeAlloc({ ID: 'alloc-3', JobID: 'batch' }),
      ],
      stop: [],
      evals: [makeEval({ Status: 'complete' })],
      time: T0,
    }),
  );
  applyOk(
    store,
    entry('alloc-client-update', {
      updates: [
        {
          ID: 'alloc-1',
          ClientStatus: 'running',
          ClientDescription: '',
          TaskStates: { server: makeTaskState() },
        },
      ],
      evals: [],
      time: T0 + 1,
    }),
  );
  applyOk(
    store,
    entry('node-status', {
      nodeId: 'node-2',
      status: 'down',
      description: 'missed heartbeat',
      time: T0 + 2,
      evals: [],
    }),
  );
  store.advanceTo(store.latestIndex + 1);
  return store;
}

function assertSameWorkload(actual: StateStore, expected: StateStore): void {
  assert.equal(actual.latestIndex, expected.latestIndex);
  for (const table of ['namespaces', 'servers', 'jobs', 'evals', 'allocs', 'nodes'] as const) {
    assert.equal(actual.tableIndex(table), expected.tableIndex(table), `index of ${table}`);
  }
  assert.deepEqual(actual.jobs('*'), expected.jobs('*'));
  assert.deepEqual(actual.evaluations(), expected.evaluations());
  assert.deepEqual(actual.allocations(), expected.allocations());
  assert.deepEqual(actual.nodes(), expected.nodes());
  assert.equal(Buffer.compare(actual.snapshot(), expected.snapshot()), 0, 'snapshot bytes differ');
}

interface SnapshotShape {
  v: number;
  tables: Record<string, { index: number; rows: Record<string, unknown>[] } | undefined>;
}

function editedSnapshot(edit: (snapshot: SnapshotShape) => void): Uint8Array {
  const snapshot = plainPackr.unpack(workloadStore().snapshot()) as SnapshotShape;
  edit(snapshot);
  return plainPackr.pack(snapshot);
}

function rowsOf(snapshot: SnapshotShape, table: string): Record<string, unknown>[] {
  return snapshot.tables[table]!.rows;
}

function snapshotErrorOf(run: () => unknown): SnapshotError {
  try {
    run();
  } catch (err) {
    if (err instanceof SnapshotError) return err;
    throw err;
  }
  assert.fail('expected a SnapshotError');
}

describe('workload snapshots', () => {
  test('restore reproduces the workload tables', () => {
    const source = workloadStore();
    const copy = new StateStore();
    copy.restore(source.snapshot());
    assertSameWorkload(copy, source);
    assert.ok(Object.isFrozen(copy.job('default', 'web')!.TaskGroups[0]!.Tasks[0]!.Config));
    assert.ok(Object.isFrozen(copy.allocation('alloc-1')!.TaskStates.server));
    assert.equal(copy.node('node-1')!.SecretID, 'secret-1');
  });

  test('restored indexes find rows by job and node', () => {
    const copy = new StateStore();
    copy.restore(workloadStore().snapshot());
    assert.deepEqual(
      copy.allocationsByJob('default', 'web').map((a) => a.ID),
      ['alloc-1', 'alloc-2'],
    );
    assert.deepEqual(
      copy.allocationsByNode('node-1').map((a) => a.ID),
      ['alloc-1', 'alloc-3'],
    );
    assert.deepEqual(
      copy.evaluationsByJob('default', 'web').map((e) => e.ID),
      ['eval-1'],
    );
  });

  test('restore replaces the indexes too', () => {
    const target = workloadStore();
    target.restore(bootstrappedStore().snapshot());
    assert.deepEqual(target.allocationsByNode('node-1'), []);
    assert.deepEqual(target.allocationsByJob('default', 'web'), []);
    assert.deepEqual(target.evaluationsByJob('default', 'web'), []);
  });

  test('version 1 snapshot restores with empty workload tables', () => {
    assert.equal((plainPackr.unpack(V1_SNAPSHOT) as SnapshotShape).v, 1);
    const store = workloadStore();
    store.restore(V1_SNAPSHOT);
    assert.equal(store.latestIndex, 4);
    assert.deepEqual(
      store.namespaces().map((ns) => ns.Name),
      ['default', 'web'],
    );
    assert.equal(store.server(42)!.name, 's1');
    assert.deepEqual(store.jobs('*'), []);
    assert.deepEqual(store.evaluations(), []);
    assert.deepEqual(store.allocations(), []);
    assert.deepEqual(store.nodes(), []);
    for (const table of ['jobs', 'evals', 'allocs', 'nodes'] as const)
      assert.equal(store.tableIndex(table), 1);

    // The restored state takes new entries and snapshots at the current version.
    applyOk(store, entry('node-register', { node: makeNode() }));
    const again = new StateStore();
    again.restore(store.snapshot());
    assert.equal((plainPackr.unpack(store.snapshot()) as SnapshotShape).v, SNAPSHOT_VERSION);
    assert.equal(again.node('node-1')!.CreateIndex, 5);
  });

  // [case, edit, expected field]
  const invalid: [string, (snapshot: SnapshotShape) => void, string][] = [
    ['missing jobs table', (s) => delete s.tables.jobs, 'tables.jobs'],
    ['jobs table in a version 1 snapshot', (s) => (s.v = 1), 'tables.jobs'],
    ['job with an unknown type', (s) => (rowsOf(s, 'jobs')[0]!.Type = 'system'), 'tables.jobs.rows.0.Type'],
    [
      'job modified before its spec',
      (s) => (rowsOf(s, 'jobs')[0]!.ModifyIndex = 1),
      'tables.jobs.rows.0.ModifyIndex',
    ],
    [
      'job spec changed before creation',
      (s) => (rowsOf(s, 'jobs')[0]!.JobModifyIndex = 1),
      'tables.jobs.rows.0.JobModifyIndex',
    ],
    [
      'eval CreateIndex 0',
      (s) => (rowsOf(s, 'evals')[0]!.CreateIndex = 0),
      'tables.evals.rows.0.CreateIndex',
    ],
    [
      'alloc changed by servers after its last change',
      (s) => (rowsOf(s, 'allocs')[0]!.AllocModifyIndex = 99),
      'tables.allocs.rows.0.AllocModifyIndex',
    ],
    ['alloc with an unknown field', (s) => (rowsOf(s, 'allocs')[1]!.Job = {}), 'tables.allocs.rows.1.Job'],
    ['repeated alloc', (s) => rowsOf(s, 'allocs').push(rowsOf(s, 'allocs')[0]!), 'tables.allocs.rows.3'],
    ['node without SecretID', (s) => delete rowsOf(s, 'nodes')[0]!.SecretID, 'tables.nodes.rows.0.SecretID'],
    [
      'node ModifyIndex past the table',
      (s) => (rowsOf(s, 'nodes')[1]!.ModifyIndex = 100),
      'tables.nodes.rows.1.ModifyIndex',
    ],
  ];
  for (const [name, edit, field] of invalid) {
    test(`rejects ${name} and keeps the old state`, () => {
      const store = workloadStore();
      const before = Buffer.from(store.snapshot());
      const err = snapshotErrorOf(() => store.restore(editedSnapshot(edit)));
      assert.equal(err.field, field);
      assert.equal(Buffer.compare(store.snapshot(), before), 0);
      assert.equal(store.allocationsByNode('node-1').length, 2);
    });
  }
});
