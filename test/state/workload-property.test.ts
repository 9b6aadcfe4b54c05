import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { type Command, encodeCommand } from '../../src/state/commands.js';
import { deriveJobStatus } from '../../src/state/job-status.js';
import type { StateStore } from '../../src/state/store.js';
import type { Evaluation } from '../../src/structs/evaluation.js';
import {
  bootstrappedStore,
  command,
  makeAlloc,
  makeEval,
  makeJob,
  makeNode,
  T0,
} from './workload-fixtures.js';

// Random sequences of workload commands over a few namespaces, jobs, evaluations, allocations and
// nodes, so that commands collide: re-registrations, purges, placements on missing nodes, stops
// of unknown allocations, moves between nodes, late client reports. Many entries are rejected,
// which is part of what the properties cover.

const namespace = fc.constantFrom('default', 'prod');
const jobId = fc.constantFrom('web', 'db');
const evalId = fc.constantFrom('e1', 'e2', 'e3', 'e4');
const allocId = fc.constantFrom('a1', 'a2', 'a3', 'a4', 'a5', 'a6');
const nodeId = fc.constantFrom('n1', 'n2', 'n3');
const time = fc.integer({ min: 0, max: 1000 }).map((offset) => T0 + offset);

const evaluation: fc.Arbitrary<Evaluation> = fc
  .record({
    ID: evalId,
    Namespace: namespace,
    JobID: jobId,
    Status: fc.constantFrom('pending', 'complete', 'blocked', 'failed' as const),
  })
  .map((fields) => makeEval(fields));

const evals = fc.uniqueArray(evaluation, { maxLength: 3, selector: (e) => e.ID });

const jobRegister = fc
  .record({
    Namespace: namespace,
    ID: jobId,
    Type: fc.constantFrom('service', 'batch' as const),
    Priority: fc.integer({ min: 1, max: 100 }),
    withEval: fc.boolean(),
    evalId,
    evalStatus: fc.constantFrom('pending', 'complete' as const),
  })
  .map(({ withEval, evalId: id, evalStatus, ...job }) =>
    command('job-register', {
      job: makeJob(job),
      eval: withEval
        ? makeEval({ ID: id, Namespace: job.Namespace, JobID: job.ID, Status: evalStatus })
        : null,
    }),
  );

const jobDeregister = fc
  .record({ namespace, jobId, purge: fc.boolean(), withEval: fc.boolean(), evalId, time })
  .map(({ withEval, evalId: id, ...request }) =>
    command('job-deregister', {
      ...request,
      eval: withEval ? makeEval({ ID: id, Namespace: request.namespace, JobID: request.jobId }) : null,
    }),
  );

const planApply = fc
  .record({
    changes: fc.uniqueArray(
      fc.record({
        ID: allocId,
        kind: fc.constantFrom('place', 'stop' as const),
        Namespace: namespace,
        JobID: jobId,
        NodeID: nodeId,
        lost: fc.boolean(),
      }),
      { maxLength: 4, selector: (change) => change.ID },
    ),
    evals,
    time,
  })
  .map(({ changes, evals: planEvals, time: planTime }) =>
    command('plan-apply', {
      place: changes
        .filter((change) => change.kind === 'place')
        .map(({ ID, Namespace, JobID, NodeID }) => makeAlloc({ ID, Namespace, JobID, NodeID })),
      stop: changes
        .filter((change) => change.kind === 'stop')
        .map(({ ID, lost }) =>
          lost
            ? { ID, DesiredDescription: 'node down', ClientStatus: 'lost' as const }
            : { ID, DesiredDescription: 'stop' },
        ),
      evals: planEvals,
      time: planTime,
    }),
  );

const nodeRegister = fc
  .record({
    ID: nodeId,
    SecretID: fc.constantFrom('s1', 's2'),
    Status: fc.constantFrom('ready', 'down' as const),
  })
  .map((node) => command('node-register', { node: makeNode(node) }));

const nodeStatus = fc
  .record({ nodeId, status: fc.constantFrom('ready', 'down' as const), time, evals })
  .map((change) => command('node-status', { ...change, description: change.status }));

const clientUpdate = fc
  .record({
    updates: fc.uniqueArray(
      fc.record({
        ID: allocId,
        ClientStatus: fc.constantFrom('pending', 'running', 'complete', 'failed' as const),
      }),
      { maxLength: 4, selector: (update) => update.ID },
    ),
    evals,
    time,
  })
  .map(({ updates, ...rest }) =>
    command('alloc-client-update', {
      ...rest,
      updates: updates.map((update) => ({ ...update, ClientDescription: '', TaskStates: {} })),
    }),
  );

const namespaceChange = fc.oneof(
  fc.constant(command('namespace-upsert', { namespace: { Name: 'prod', Description: '', Meta: null } })),
  fc.constant(command('namespace-delete', { name: 'prod' })),
);

const anyCommand: fc.Arbitrary<Command> = fc.oneof(
  { weight: 3, arbitrary: jobRegister },
  { weight: 1, arbitrary: jobDeregister },
  { weight: 1, arbitrary: evals.map((list) => command('eval-upsert', { evals: list })) },
  { weight: 4, arbitrary: planApply },
  { weight: 2, arbitrary: nodeRegister },
  { weight: 1, arbitrary: nodeStatus },
  { weight: 3, arbitrary: clientUpdate },
  { weight: 1, arbitrary: namespaceChange },
);

function applyAll(store: StateStore, entries: readonly Command[]): unknown[] {
  return entries.map((entry) => store.apply(store.latestIndex + 1, encodeCommand(entry)));
}

const JOBS = ['default', 'prod'].flatMap((ns) => ['web', 'db', 'other'].map((id) => [ns, id] as const));

/** Checks every secondary index against a scan of its table, and every job status against its rows. */
function checkIndexes(store: StateStore): void {
  const allocs = store.allocations();
  const allEvals = store.evaluations();
  for (const [ns, id] of JOBS) {
    assert.deepEqual(
      store.allocationsByJob(ns, id),
      allocs.filter((alloc) => alloc.Namespace === ns && alloc.JobID === id),
      `allocations of ${ns}/${id}`,
    );
    assert.deepEqual(
      store.evaluationsByJob(ns, id),
      allEvals.filter((e) => e.Namespace === ns && e.JobID === id),
      `evaluations of ${ns}/${id}`,
    );
  }
  for (const id of ['n1', 'n2', 'n3', 'n4']) {
    assert.deepEqual(
      store.allocationsByNode(id),
      allocs.filter((alloc) => alloc.NodeID === id),
      `allocations on ${id}`,
    );
  }
  for (const job of store.jobs('*')) {
    const expected = deriveJobStatus(
      job,
      store.allocationsByJob(job.Namespace, job.ID),
      store.evaluationsByJob(job.Namespace, job.ID),
    );
    assert.equal(job.Status, expected, `status of ${job.Namespace}/${job.ID}`);
  }
  for (const alloc of allocs) assert.notEqual(store.node(alloc.NodeID), null, `node of ${alloc.ID}`);
}

describe('workload state properties', () => {
  test('secondary indexes equal a scan after every entry', () => {
    fc.assert(
      fc.property(fc.array(anyCommand, { maxLength: 40 }), (entries) => {
        const store = bootstrappedStore();
        for (const entry of entries) {
          store.apply(store.latestIndex + 1, encodeCommand(entry));
          checkIndexes(store);
        }
      }),
      { seed: 20261213, numRuns: 300 },
    );
  });

  test('replicas applying the same entries are equal', () => {
    fc.assert(
      fc.property(fc.array(anyCommand, { maxLength: 40 }), (entries) => {
        const first = bootstrappedStore();
        const second = bootstrappedStore();
        assert.deepEqual(applyAll(first, entries), applyAll(second, entries));
        assert.equal(Buffer.compare(first.snapshot(), second.snapshot()), 0);
      }),
      { seed: 20261214, numRuns: 200 },
    );
  });

  test('restore then apply equals apply all', () => {
    fc.assert(
      fc.property(fc.array(anyCommand, { maxLength: 40 }), fc.nat(), (entries, cutSeed) => {
        const cut = cutSeed % (entries.length + 1);
        const whole = bootstrappedStore();
        const wholeResults = applyAll(whole, entries);

        const head = bootstrappedStore();
        const headResults = applyAll(head, entries.slice(0, cut));
        const restored = bootstrappedStore();
        restored.restore(head.snapshot());
        checkIndexes(restored);
        const tailResults = applyAll(restored, entries.slice(cut));

        assert.deepEqual([...headResults, ...tailResults], wholeResults);
        checkIndexes(restored);
        assert.equal(Buffer.compare(restored.snapshot(), whole.snapshot()), 0);
        for (const table of ['jobs', 'evals', 'allocs', 'nodes'] as const) {
          assert.equal(restored.tableIndex(table), whole.tableIndex(table), `index of ${table}`);
        }
      }),
      { seed: 20261215, numRuns: 200 },
    );
  });
});
