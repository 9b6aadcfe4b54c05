import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ApplyResult } from '../../src/state/store.js';
import {
  applyOk,
  bootstrappedStore,
  entry,
  makeAlloc,
  makeEval,
  makeJob,
  makeNode,
  T0,
} from './workload-fixtures.js';

function statusOf(result: ApplyResult): number | null {
  return result.ok ? null : result.status;
}

function messageOf(result: ApplyResult): string | null {
  return result.ok ? null : result.message;
}

function deregister(purge: boolean, evalId: string | null = 'eval-stop', time = T0 + 5): Uint8Array {
  return entry('job-deregister', {
    namespace: 'default',
    jobId: 'web',
    purge,
    eval: evalId === null ? null : makeEval({ ID: evalId, TriggeredBy: 'job-deregister' }),
    time,
  });
}

describe('job-register', () => {
  test('inserts a pending job with its evaluation', () => {
    const store = bootstrappedStore();
    const index = applyOk(
      store,
      entry('job-register', { job: makeJob({ Status: 'dead', Stop: true }), eval: makeEval() }),
    );

    const job = store.job('default', 'web')!;
    assert.equal(job.Status, 'pending');
    assert.equal(job.Stop, false);
    assert.equal(job.CreateIndex, index);
    assert.equal(job.ModifyIndex, index);
    assert.equal(job.JobModifyIndex, index);
    assert.equal(job.SubmitTime, T0);
    assert.deepEqual(job.TaskGroups, makeJob().TaskGroups);

    const evaluation = store.evaluation('eval-1')!;
    assert.equal(evaluation.JobModifyIndex, index);
    assert.equal(evaluation.CreateIndex, index);
    assert.equal(evaluation.ModifyIndex, index);
    assert.deepEqual(
      store.evaluationsByJob('default', 'web').map((e) => e.ID),
      ['eval-1'],
    );
    assert.equal(store.tableIndex('jobs'), index);
    assert.equal(store.tableIndex('evals'), index);
    assert.equal(store.tableIndex('allocs'), 1);
  });

  test('ignores index fields of the input', () => {
    const store = bootstrappedStore();
    const index = applyOk(
      store,
      entry('job-register', {
        job: makeJob({ CreateIndex: 99, ModifyIndex: 99, JobModifyIndex: 99 }),
        eval: null,
      }),
    );
    const job = store.job('default', 'web')!;
    assert.equal(job.CreateIndex, index);
    assert.equal(job.JobModifyIndex, index);
  });

  test('unchanged spec keeps JobModifyIndex', () => {
    const store = bootstrappedStore();
    const first = applyOk(store, entry('job-register', { job: makeJob(), eval: makeEval() }));
    const second = applyOk(
      store,
      entry('job-register', { job: makeJob({ SubmitTime: T0 + 1 }), eval: makeEval({ ID: 'eval-2' }) }),
    );
    const job = store.job('default', 'web')!;
    assert.equal(job.CreateIndex, first);
    assert.equal(job.ModifyIndex, second);
    assert.equal(job.JobModifyIndex, first);
    assert.equal(job.SubmitTime, T0 + 1);
    assert.equal(store.evaluation('eval-2')!.JobModifyIndex, first);
  });

  test('changed spec moves JobModifyIndex', () => {
    const store = bootstrappedStore();
    const first = applyOk(store, entry('job-register', { job: makeJob(), eval: null }));
    const changedGroup = { ...makeJob().TaskGroups[0]!, Count: 5 };
    const second = applyOk(
      store,
      entry('job-register', { job: makeJob({ TaskGroups: [changedGroup] }), eval: null }),
    );
    const job = store.job('default', 'web')!;
    assert.equal(job.CreateIndex, first);
    assert.equal(job.JobModifyIndex, second);
    assert.equal(job.TaskGroups[0]!.Count, 5);
  });

  test('config key order is not a change', () => {
    const store = bootstrappedStore();
    const task = makeJob().TaskGroups[0]!.Tasks[0]!;
    const withConfig = (Config: Record<string, unknown>) =>
      makeJob({ TaskGroups: [{ ...makeJob().TaskGroups[0]!, Tasks: [{ ...task, Config }] }] });
    const first = applyOk(
      store,
      entry('job-register', { job: withConfig({ a: 1, b: { c: 2, d: 3 } }), eval: null }),
    );
    applyOk(store, entry('job-register', { job: withConfig({ b: { d: 3, c: 2 }, a: 1 }), eval: null }));
    assert.equal(store.job('default', 'web')!.JobModifyIndex, first);
  });

  test('running a stopped job is a new version', () => {
    const store = bootstrappedStore();
    applyOk(store, entry('job-register', { job: makeJob(), eval: makeEval() }));
    applyOk(store, deregister(false));
    assert.equal(store.job('default', 'web')!.Status, 'dead');
    const again = applyOk(store, entry('job-register', { job: makeJob(), eval: makeEval({ ID: 'eval-3' }) }));
    const job = store.job('default', 'web')!;
    assert.equal(job.Stop, false);
    assert.equal(job.JobModifyIndex, again);
    assert.equal(job.Status, 'pending');
  });

  test('missing namespace is rejected with 400', () => {
    const store = bootstrappedStore();
    const result = store.apply(2, entry('job-register', { job: makeJob({ Namespace: 'prod' }), eval: null }));
    assert.equal(statusOf(result), 400);
    assert.equal(messageOf(result), 'job "web" is in nonexistent namespace "prod"');
    assert.equal(store.job('prod', 'web'), null);
    assert.equal(store.tableIndex('jobs'), 1);
  });

  test('jobs are listed by namespace, then ID', () => {
    const store = bootstrappedStore();
    applyOk(store, entry('namespace-upsert', { namespace: { Name: 'a', Description: '', Meta: null } }));
    for (const [Namespace, ID] of [
      ['default', 'web'],
      ['a', 'zeta'],
      ['default', 'api'],
      ['default', '\u{1F600}'],
      ['default', '\uFF21'],
    ] as const) {
      applyOk(store, entry('job-register', { job: makeJob({ Namespace, ID }), eval: null }));
    }
    // U+1F600 is above U+FF21, as in UTF-8 byte order, although its UTF-16 form sorts below.
    assert.deepEqual(
      store.jobs('*').map((job) => `${job.Namespace}/${job.ID}`),
      ['a/zeta', 'default/api', 'default/web', 'default/\uFF21', 'default/\u{1F600}'],
    );
    assert.deepEqual(
      store.jobs('default').map((job) => job.ID),
      ['api', 'web', '\uFF21', '\u{1F600}'],
    );
    assert.deepEqual(store.jobs('missing'), []);
  });

  test('namespace with jobs is not deleted', () => {
    const store = bootstrappedStore();
    applyOk(store, entry('namespace-upsert', { namespace: { Name: 'prod', Description: '', Meta: null } }));
    applyOk(store, entry('job-register', { job: makeJob({ Namespace: 'prod' }), eval: null }));
    const result = store.apply(store.latestIndex + 1, entry('namespace-delete', { name: 'prod' }));
    assert.equal(statusOf(result), 400);
    assert.notEqual(store.namespace('prod'), null);

    applyOk(
      store,
      entry('job-deregister', { namespace: 'prod', jobId: 'web', purge: true, eval: null, time: T0 }),
    );
    applyOk(store, entry('namespace-delete', { name: 'prod' }));
    assert.equal(store.namespace('prod'), null);
  });
});

describe('job-deregister', () => {
  test('stop without allocations makes the job dead', () => {
    const store = bootstrappedStore();
    const registered = applyOk(store, entry('job-register', { job: makeJob(), eval: makeEval() }));
    const index = applyOk(store, deregister(false, 'eval-stop', T0 + 7));

    const job = store.job('default', 'web')!;
    assert.equal(job.Stop, true);
    assert.equal(job.Status, 'dead');
    assert.equal(job.CreateIndex, registered);
    assert.equal(job.ModifyIndex, index);
    assert.equal(job.JobModifyIndex, index);
    assert.equal(job.SubmitTime, T0 + 7);
    const evaluation = store.evaluation('eval-stop')!;
    assert.equal(evaluation.TriggeredBy, 'job-deregister');
    assert.equal(evaluation.JobModifyIndex, index);
  });

  test('stop with running allocations keeps the job running', () => {
    const store = bootstrappedStore();
    applyOk(store, entry('node-register', { node: makeNode() }));
    applyOk(store, entry('job-register', { job: makeJob(), eval: makeEval() }));
    applyOk(store, entry('plan-apply', { place: [makeAlloc()], stop: [], evals: [], time: T0 }));
    assert.equal(store.job('default', 'web')!.Status, 'running');

    applyOk(store, deregister(false));
    assert.equal(store.job('default', 'web')!.Status, 'running');
    assert.equal(store.job('default', 'web')!.Stop, true);

    applyOk(
      store,
      entry('plan-apply', {
        place: [],
        stop: [{ ID: 'alloc-1', DesiredDescription: 'job stopped' }],
        evals: [],
        time: T0,
      }),
    );
    assert.equal(store.job('default', 'web')!.Status, 'dead');
  });

  test('stopping twice keeps JobModifyIndex', () => {
    const store = bootstrappedStore();
    applyOk(store, entry('job-register', { job: makeJob(), eval: null }));
    const stopped = applyOk(store, deregister(false, null));
    applyOk(store, deregister(false, null));
    assert.equal(store.job('default', 'web')!.JobModifyIndex, stopped);
  });

  test('purge deletes the job and keeps its allocations', () => {
    const store = bootstrappedStore();
    applyOk(store, entry('node-register', { node: makeNode() }));
    applyOk(store, entry('job-register', { job: makeJob(), eval: makeEval() }));
    applyOk(store, entry('plan-apply', { place: [makeAlloc()], stop: [], evals: [], time: T0 }));
    const index = applyOk(store, deregister(true));

    assert.equal(store.job('default', 'web'), null);
    assert.deepEqual(store.jobs('*'), []);
    assert.equal(store.allocationsByJob('default', 'web').length, 1);
    assert.equal(store.evaluation('eval-stop')!.JobModifyIndex, index);
    assert.equal(store.tableIndex('jobs'), index);
  });

  test('missing job is rejected with 404', () => {
    const store = bootstrappedStore();
    for (const purge of [false, true]) {
      const result = store.apply(store.latestIndex + 1, deregister(purge));
      assert.equal(statusOf(result), 404);
      assert.equal(messageOf(result), 'job not found');
    }
    assert.equal(store.evaluation('eval-stop'), null);
    assert.equal(store.tableIndex('evals'), 1);
  });
});

describe('eval-upsert', () => {
  test('replacing keeps CreateIndex and CreateTime', () => {
    const store = bootstrappedStore();
    const created = applyOk(store, entry('eval-upsert', { evals: [makeEval({ CreateTime: T0 })] }));
    const updated = applyOk(
      store,
      entry('eval-upsert', {
        evals: [makeEval({ Status: 'complete', CreateTime: T0 + 9, ModifyTime: T0 + 9 })],
      }),
    );
    const evaluation = store.evaluation('eval-1')!;
    assert.equal(evaluation.Status, 'complete');
    assert.equal(evaluation.CreateIndex, created);
    assert.equal(evaluation.ModifyIndex, updated);
    assert.equal(evaluation.CreateTime, T0);
    assert.equal(evaluation.ModifyTime, T0 + 9);
  });

  test('evaluations are listed by ID and by job', () => {
    const store = bootstrappedStore();
    applyOk(
      store,
      entry('eval-upsert', {
        evals: [makeEval({ ID: 'c' }), makeEval({ ID: 'a', JobID: 'db' }), makeEval({ ID: 'b' })],
      }),
    );
    assert.deepEqual(
      store.evaluations().map((e) => e.ID),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(
      store.evaluationsByJob('default', 'web').map((e) => e.ID),
      ['b', 'c'],
    );
    assert.deepEqual(store.evaluationsByJob('other', 'web'), []);
  });

  test('evaluation moved to another job refreshes both', () => {
    const store = bootstrappedStore();
    applyOk(
      store,
      entry('job-register', { job: makeJob(), eval: makeEval({ ID: 'e3', Status: 'complete' }) }),
    );
    applyOk(store, entry('job-register', { job: makeJob({ ID: 'db' }), eval: null }));
    assert.equal(store.job('default', 'web')!.Status, 'dead');
    // Found by the property test: the job that the evaluation leaves must be recomputed too.
    applyOk(store, entry('eval-upsert', { evals: [makeEval({ ID: 'e3', JobID: 'db', Status: 'pending' })] }));
    assert.equal(store.job('default', 'web')!.Status, 'pending');
    assert.equal(store.job('default', 'db')!.Status, 'pending');
  });

  test('finished evaluation settles the job status', () => {
    const store = bootstrappedStore();
    applyOk(store, entry('job-register', { job: makeJob({ Type: 'batch' }), eval: makeEval() }));
    assert.equal(store.job('default', 'web')!.Status, 'pending');
    // The scheduler placed nothing (for example, a count of 0) and completed the evaluation.
    applyOk(store, entry('eval-upsert', { evals: [makeEval({ Status: 'complete' })] }));
    assert.equal(store.job('default', 'web')!.Status, 'dead');
  });
});
