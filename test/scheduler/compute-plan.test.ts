import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computePlan } from '../../src/scheduler/compute-plan.js';
import { ALLOC_LOST, ALLOC_NOT_NEEDED } from '../../src/scheduler/reconcile.js';
import {
  FakeState,
  makeAlloc,
  makeEval,
  makeGroup,
  makeJob,
  makeNode,
  makeTask,
  placedAllocs,
  sequentialIds,
  stoppedIds,
} from './fixtures.js';

const web = (count: number, cpu = 500, memory = 256) =>
  makeJob('web', [makeGroup('app', count, [makeTask('server', { CPU: cpu, MemoryMB: memory })])]);

function countByNode(allocs: { NodeID: string }[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const alloc of allocs) counts[alloc.NodeID] = (counts[alloc.NodeID] ?? 0) + 1;
  return counts;
}

describe('computePlan placement', () => {
  test('places new allocations with names and resources', () => {
    const job = makeJob('web', [
      makeGroup('app', 2, [
        makeTask('server', { CPU: 300, MemoryMB: 128 }),
        makeTask('sidecar', { CPU: 100, MemoryMB: 64 }),
      ]),
    ]);
    const state = new FakeState([makeNode('n1')]);
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    const placed = placedAllocs(plan);
    assert.deepEqual(
      placed.map((alloc) => alloc.Name),
      ['web.app[0]', 'web.app[1]'],
    );
    assert.deepEqual(
      placed.map((alloc) => alloc.ID),
      ['a-1', 'a-2'],
    );
    const first = placed[0]!;
    assert.equal(first.EvalID, 'e1');
    assert.equal(first.NodeID, 'n1');
    assert.equal(first.NodeName, 'name-n1');
    assert.equal(first.DesiredStatus, 'run');
    assert.equal(first.ClientStatus, 'pending');
    assert.equal(first.JobVersion, job.JobModifyIndex);
    assert.equal(first.CreateTime, first.ModifyTime);
    assert.deepEqual(first.TaskResources, {
      server: { CPU: 300, MemoryMB: 128 },
      sidecar: { CPU: 100, MemoryMB: 64 },
    });
    assert.equal(first.PreviousAllocation, '');
    assert.equal(plan.EvalID, 'e1');
    assert.equal(plan.JobID, 'web');
    assert.equal(plan.Priority, 50);
    assert.deepEqual(plan.FailedTGAllocs, {});
    assert.deepEqual(plan.NodeUpdate, {});
  });

  test('stays within capacity and reports the rest as failed', () => {
    // Each node fits 3 allocations by CPU (3 x 1200 <= 4000) and memory is ample.
    const job = web(10, 1200, 256);
    const state = new FakeState([makeNode('n1'), makeNode('n2')]);
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    assert.deepEqual(countByNode(placedAllocs(plan)), { n1: 3, n2: 3 });
    assert.deepEqual(plan.FailedTGAllocs, { app: 4 });
    const metrics = plan.FailedTGMetrics.app!;
    assert.equal(metrics.NodesEvaluated, 2);
    assert.equal(metrics.NodesFiltered, 0);
    assert.equal(metrics.NodesExhausted, 2);
    assert.deepEqual(metrics.DimensionExhausted, { cpu: 2 });
  });

  test('counts allocations of other jobs on the node', () => {
    const other = web(1, 3000, 256);
    const otherAlloc = makeAlloc('other-0', { ...other, ID: 'other' }, 'app', 0, 'n1');
    const job = web(2, 1500, 256);
    const state = new FakeState([makeNode('n1'), makeNode('n2')], [otherAlloc]);
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    assert.deepEqual(countByNode(placedAllocs(plan)), { n2: 2 });
    assert.deepEqual(plan.FailedTGAllocs, {});
  });

  test('spreads allocations evenly across nodes', () => {
    const job = web(9, 100, 64);
    const state = new FakeState([makeNode('n1'), makeNode('n2'), makeNode('n3')]);
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    assert.deepEqual(countByNode(placedAllocs(plan)), { n1: 3, n2: 3, n3: 3 });
  });

  test('prefers the node with more free capacity among equals', () => {
    const busy = makeJob('busy', [makeGroup('g', 1, [makeTask('t', { CPU: 2000, MemoryMB: 4096 })])]);
    const state = new FakeState([makeNode('n1'), makeNode('n2')], [makeAlloc('busy-0', busy, 'g', 0, 'n1')]);
    const job = web(1);
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    assert.deepEqual(Object.keys(plan.NodeAllocation), ['n2']);
  });

  test('spreads by the job count before free capacity', () => {
    const busy = makeJob('busy', [makeGroup('g', 1, [makeTask('t', { CPU: 2000, MemoryMB: 4096 })])]);
    const job = web(2);
    const state = new FakeState(
      [makeNode('n1'), makeNode('n2')],
      [makeAlloc('busy-0', busy, 'g', 0, 'n1'), makeAlloc('web-0', job, 'app', 0, 'n2')],
    );
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    assert.deepEqual(Object.keys(plan.NodeAllocation), ['n1']);
    assert.equal(placedAllocs(plan)[0]!.Name, 'web.app[1]');
  });
});

describe('computePlan feasibility', () => {
  test('skips nodes without a healthy driver', () => {
    const job = makeJob('web', [
      makeGroup('app', 3, [makeTask('server', { CPU: 100, MemoryMB: 64 }, 'docker')]),
    ]);
    const state = new FakeState([
      makeNode('n1'),
      makeNode('n2', { Drivers: { docker: { Detected: true, Healthy: false } } }),
      makeNode('n3', { Drivers: { docker: { Detected: true, Healthy: true } } }),
      makeNode('n4', { Drivers: { docker: { Detected: false, Healthy: true } } }),
    ]);
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    assert.deepEqual(countByNode(placedAllocs(plan)), { n3: 3 });
  });

  test('reports filtered nodes when no node has the driver', () => {
    const job = makeJob('web', [
      makeGroup('app', 2, [makeTask('server', { CPU: 100, MemoryMB: 64 }, 'docker')]),
    ]);
    const state = new FakeState([makeNode('n1'), makeNode('n2', { Status: 'down' })]);
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    assert.deepEqual(plan.NodeAllocation, {});
    assert.deepEqual(plan.FailedTGAllocs, { app: 2 });
    const metrics = plan.FailedTGMetrics.app!;
    assert.equal(metrics.NodesFiltered, 2);
    assert.deepEqual(metrics.ConstraintFiltered, { 'missing driver "docker"': 1, 'node not ready': 1 });
    assert.equal(metrics.NodesExhausted, 0);
  });

  test('skips nodes that are not ready or not eligible', () => {
    const job = web(4);
    const state = new FakeState([
      makeNode('n1', { Status: 'initializing' }),
      makeNode('n2', { Status: 'down' }),
      makeNode('n3', { SchedulingEligibility: 'ineligible' }),
      makeNode('n4'),
    ]);
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    assert.deepEqual(countByNode(placedAllocs(plan)), { n4: 4 });
  });

  test('places only in matching datacenters', () => {
    const job = { ...web(6), Datacenters: ['us-*', 'eu-west'] };
    const state = new FakeState([
      makeNode('n1', { Datacenter: 'us-east' }),
      makeNode('n2', { Datacenter: 'eu-west' }),
      makeNode('n3', { Datacenter: 'eu-north' }),
      makeNode('n4', { Datacenter: 'asia-us-1' }),
    ]);
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    assert.deepEqual(countByNode(placedAllocs(plan)), { n1: 3, n2: 3 });
  });
});

describe('computePlan reconciliation', () => {
  test('scales up into the free name indexes', () => {
    const job = web(4);
    const state = new FakeState(
      [makeNode('n1'), makeNode('n2')],
      [makeAlloc('x0', job, 'app', 0, 'n1'), makeAlloc('x2', job, 'app', 2, 'n2')],
    );
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    const names = placedAllocs(plan)
      .map((alloc) => alloc.Name)
      .sort();
    assert.deepEqual(names, ['web.app[1]', 'web.app[3]']);
    assert.deepEqual(plan.NodeUpdate, {});
  });

  test('scales down from the highest index', () => {
    const job = web(1);
    const state = new FakeState(
      [makeNode('n1'), makeNode('n2')],
      [
        makeAlloc('x0', job, 'app', 0, 'n1'),
        makeAlloc('x1', job, 'app', 1, 'n2'),
        makeAlloc('x2', job, 'app', 2, 'n1'),
      ],
    );
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    assert.deepEqual(stoppedIds(plan), ['x1', 'x2']);
    assert.deepEqual(plan.NodeUpdate.n1, [{ ID: 'x2', DesiredDescription: ALLOC_NOT_NEEDED }]);
    assert.deepEqual(plan.NodeAllocation, {});
  });

  test('leaves a job at its count unchanged', () => {
    const job = web(2);
    const state = new FakeState(
      [makeNode('n1')],
      [
        makeAlloc('x0', job, 'app', 0, 'n1'),
        makeAlloc('x1', job, 'app', 1, 'n1', { ClientStatus: 'pending' }),
      ],
    );
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    assert.deepEqual(plan.NodeAllocation, {});
    assert.deepEqual(plan.NodeUpdate, {});
  });

  test('stops every allocation of a stopped job', () => {
    const job = web(2);
    const state = new FakeState(
      [makeNode('n1'), makeNode('n2')],
      [
        makeAlloc('x0', job, 'app', 0, 'n1'),
        makeAlloc('x1', job, 'app', 1, 'n2'),
        makeAlloc('old', job, 'app', 1, 'n2', { DesiredStatus: 'stop', ClientStatus: 'complete' }),
      ],
    );
    const stopped = { ...job, Stop: true };
    const plan = computePlan(state.planInput(makeEval('e1', stopped), stopped, sequentialIds('a')));

    assert.deepEqual(stoppedIds(plan), ['x0', 'x1']);
    assert.deepEqual(plan.NodeAllocation, {});
  });

  test('stops every allocation of a purged job', () => {
    const job = web(2);
    const state = new FakeState(
      [makeNode('n1')],
      [makeAlloc('x0', job, 'app', 0, 'n1'), makeAlloc('x1', job, 'app', 1, 'n1')],
    );
    const plan = computePlan(
      state.planInput(makeEval('e1', job, { TriggeredBy: 'job-deregister' }), null, sequentialIds('a')),
    );

    assert.deepEqual(stoppedIds(plan), ['x0', 'x1']);
    assert.equal(plan.JobID, 'web');
    assert.equal(plan.Priority, 50);
  });

  test('stops allocations of a removed group', () => {
    const job = web(1);
    const older = makeJob('web', [
      ...job.TaskGroups,
      makeGroup('cache', 1, [makeTask('redis', { CPU: 100, MemoryMB: 64 })]),
    ]);
    const state = new FakeState(
      [makeNode('n1')],
      [makeAlloc('x0', job, 'app', 0, 'n1'), makeAlloc('c0', older, 'cache', 0, 'n1')],
    );
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    assert.deepEqual(stoppedIds(plan), ['c0']);
    assert.deepEqual(plan.NodeAllocation, {});
  });

  test('replaces allocations on a down node as lost', () => {
    const job = web(2);
    const state = new FakeState(
      [makeNode('n1', { Status: 'down' }), makeNode('n2')],
      [makeAlloc('x0', job, 'app', 0, 'n1'), makeAlloc('x1', job, 'app', 1, 'n2')],
    );
    const plan = computePlan(
      state.planInput(makeEval('e1', job, { TriggeredBy: 'node-update' }), job, sequentialIds('a')),
    );

    assert.deepEqual(plan.NodeUpdate, {
      n1: [{ ID: 'x0', DesiredDescription: ALLOC_LOST, ClientStatus: 'lost' }],
    });
    const placed = placedAllocs(plan);
    assert.equal(placed.length, 1);
    assert.equal(placed[0]!.NodeID, 'n2');
    assert.equal(placed[0]!.Name, 'web.app[0]');
    assert.equal(placed[0]!.PreviousAllocation, 'x0');
  });

  test('treats allocations on a missing node as lost', () => {
    const job = web(1);
    const state = new FakeState([makeNode('n2')], [makeAlloc('x0', job, 'app', 0, 'gone')]);
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    assert.deepEqual(plan.NodeUpdate.gone, [
      { ID: 'x0', DesiredDescription: ALLOC_LOST, ClientStatus: 'lost' },
    ]);
    assert.equal(placedAllocs(plan)[0]!.PreviousAllocation, 'x0');
  });

  test('marks lost allocations of a stopped job', () => {
    const job = web(1);
    const state = new FakeState([makeNode('n1', { Status: 'down' })], [makeAlloc('x0', job, 'app', 0, 'n1')]);
    const stopped = { ...job, Stop: true };
    const plan = computePlan(state.planInput(makeEval('e1', stopped), stopped, sequentialIds('a')));

    assert.deepEqual(plan.NodeUpdate, {
      n1: [{ ID: 'x0', DesiredDescription: ALLOC_LOST, ClientStatus: 'lost' }],
    });
    assert.deepEqual(plan.NodeAllocation, {});
  });

  test('counts a lost replacement that does not fit as failed', () => {
    const job = web(1, 3000);
    const state = new FakeState(
      [makeNode('n1', { Status: 'down' }), makeNode('n2', { NodeResources: { CPU: 1000, MemoryMB: 8192 } })],
      [makeAlloc('x0', job, 'app', 0, 'n1')],
    );
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    assert.deepEqual(stoppedIds(plan), ['x0']);
    assert.deepEqual(plan.FailedTGAllocs, { app: 1 });
    assert.deepEqual(plan.FailedTGMetrics.app!.DimensionExhausted, { cpu: 1 });
  });

  test('keeps completed batch allocations complete', () => {
    const job = { ...web(3), Type: 'batch' as const };
    const state = new FakeState(
      [makeNode('n1')],
      [
        makeAlloc('x0', job, 'app', 0, 'n1', { ClientStatus: 'complete' }),
        makeAlloc('x1', job, 'app', 1, 'n1', { ClientStatus: 'complete' }),
        makeAlloc('x2', job, 'app', 2, 'n1'),
      ],
    );
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    assert.deepEqual(plan.NodeAllocation, {});
    assert.deepEqual(plan.NodeUpdate, {});
  });

  test('keeps completed batch allocations on a down node', () => {
    const job = { ...web(1), Type: 'batch' as const };
    const state = new FakeState(
      [makeNode('n1', { Status: 'down' }), makeNode('n2')],
      [makeAlloc('x0', job, 'app', 0, 'n1', { ClientStatus: 'complete' })],
    );
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    assert.deepEqual(plan.NodeAllocation, {});
    assert.deepEqual(plan.NodeUpdate, {});
  });

  test('replaces a completed service allocation', () => {
    const job = web(1);
    const state = new FakeState(
      [makeNode('n1')],
      [makeAlloc('x0', job, 'app', 0, 'n1', { ClientStatus: 'complete' })],
    );
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    assert.deepEqual(
      placedAllocs(plan).map((alloc) => alloc.Name),
      ['web.app[0]'],
    );
  });

  test('does not replace failed allocations', () => {
    for (const type of ['service', 'batch'] as const) {
      const job = { ...web(2), Type: type };
      const state = new FakeState(
        [makeNode('n1')],
        [
          makeAlloc('x0', job, 'app', 0, 'n1', { ClientStatus: 'failed' }),
          makeAlloc('x1', job, 'app', 1, 'n1'),
        ],
      );
      const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

      assert.deepEqual(plan.NodeAllocation, {}, type);
      assert.deepEqual(plan.NodeUpdate, {}, type);
    }
  });
});

describe('computePlan determinism', () => {
  test('returns the same plan whatever the input order', () => {
    const job = makeJob('web', [
      makeGroup('app', 7, [makeTask('server', { CPU: 700, MemoryMB: 300 })]),
      makeGroup('cache', 5, [makeTask('redis', { CPU: 200, MemoryMB: 1000 })]),
    ]);
    const nodes = [1, 2, 3, 4, 5].map((i) =>
      makeNode(`n${i}`, { NodeResources: { CPU: 1000 * i, MemoryMB: 1500 * i } }),
    );
    const allocs = [
      makeAlloc('x3', job, 'app', 3, 'n2'),
      makeAlloc('x9', job, 'app', 9, 'n4'),
      makeAlloc('c1', job, 'cache', 1, 'n5'),
      makeAlloc('lost', job, 'cache', 0, 'n1'),
    ];
    const down = nodes.map((node) => (node.ID === 'n1' ? { ...node, Status: 'down' as const } : node));

    const forward = new FakeState(down, allocs);
    const backward = new FakeState([...down].reverse(), [...allocs].reverse());
    const first = computePlan(forward.planInput(makeEval('e1', job), job, sequentialIds('a')));
    const second = computePlan(backward.planInput(makeEval('e1', job), job, sequentialIds('a')));
    const again = computePlan(forward.planInput(makeEval('e1', job), job, sequentialIds('a')));

    assert.deepEqual(second, first);
    assert.deepEqual(again, first);
    assert.equal(
      placedAllocs(first).length + Object.values(first.FailedTGAllocs).reduce((a, b) => a + b, 0),
      9,
    );
  });
});
