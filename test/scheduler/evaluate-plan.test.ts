import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { computePlan } from '../../src/scheduler/compute-plan.js';
import { evaluatePlan } from '../../src/scheduler/evaluate-plan.js';
import { InFlightPlans } from '../../src/scheduler/in-flight-plans.js';
import type { Plan } from '../../src/scheduler/plan.js';
import { ALLOC_LOST } from '../../src/scheduler/reconcile.js';
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
} from './fixtures.js';

const jobNamed = (id: string, count: number, cpu: number) =>
  makeJob(id, [makeGroup('app', count, [makeTask('server', { CPU: cpu, MemoryMB: 128 })])]);

function emptyPlan(overrides: Partial<Plan> = {}): Plan {
  return {
    EvalID: 'e1',
    JobID: 'web',
    Namespace: 'default',
    Priority: 50,
    NodeAllocation: {},
    NodeUpdate: {},
    SnapshotIndex: 0,
    FailedTGAllocs: {},
    FailedTGMetrics: {},
    ...overrides,
  };
}

describe('evaluatePlan', () => {
  test('accepts a plan that fits', () => {
    const job = jobNamed('web', 4, 1000);
    const state = new FakeState([makeNode('n1'), makeNode('n2')]);
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));
    const result = evaluatePlan(plan, state);

    assert.deepEqual(result.refusedNodes, []);
    assert.deepEqual(result.accepted, plan);
  });

  test('refuses a node that filled up since the snapshot', () => {
    const job = jobNamed('web', 4, 1000);
    const state = new FakeState([makeNode('n1'), makeNode('n2')]);
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));

    // Another plan committed a large allocation on n1 after the snapshot.
    const other = jobNamed('other', 1, 3000);
    state.apply(emptyPlan({ NodeAllocation: { n1: [makeAlloc('big', other, 'app', 0, 'n1')] } }));
    const result = evaluatePlan(plan, state);

    assert.deepEqual(result.refusedNodes, ['n1']);
    assert.equal(result.refusalReasons.n1, 'node resources exhausted: cpu');
    assert.deepEqual(Object.keys(result.accepted.NodeAllocation), ['n2']);
    assert.equal(result.accepted.NodeAllocation.n2!.length, 2);
  });

  test('refuses placements on a node that went down', () => {
    const job = jobNamed('web', 2, 100);
    const state = new FakeState([makeNode('n1'), makeNode('n2')]);
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));
    state.setNode(makeNode('n1', { Status: 'down' }));
    state.setNode(makeNode('n2', { SchedulingEligibility: 'ineligible' }));
    const result = evaluatePlan(plan, state);

    assert.deepEqual(result.refusedNodes, ['n1', 'n2']);
    assert.equal(result.refusalReasons.n1, 'node is down');
    assert.equal(result.refusalReasons.n2, 'node is ineligible');
    assert.deepEqual(result.accepted.NodeAllocation, {});
  });

  test('refuses a node that is not in state', () => {
    const job = jobNamed('web', 1, 100);
    const plan = emptyPlan({ NodeAllocation: { ghost: [makeAlloc('a', job, 'app', 0, 'ghost')] } });
    const result = evaluatePlan(plan, new FakeState());

    assert.deepEqual(result.refusedNodes, ['ghost']);
    assert.equal(result.refusalReasons.ghost, 'node not found');
  });

  test('accepts stops on a down or missing node', () => {
    const plan = emptyPlan({
      NodeUpdate: {
        n1: [{ ID: 'x0', DesiredDescription: ALLOC_LOST, ClientStatus: 'lost' }],
        gone: [{ ID: 'x1', DesiredDescription: ALLOC_LOST, ClientStatus: 'lost' }],
      },
    });
    const result = evaluatePlan(plan, new FakeState([makeNode('n1', { Status: 'down' })]));

    assert.deepEqual(result.refusedNodes, []);
    assert.deepEqual(result.accepted.NodeUpdate, plan.NodeUpdate);
  });

  test('counts capacity freed by stops in the same plan', () => {
    const old = jobNamed('old', 1, 3500);
    const job = jobNamed('web', 1, 3500);
    const state = new FakeState([makeNode('n1')], [makeAlloc('x0', old, 'app', 0, 'n1')]);
    const plan = emptyPlan({
      NodeUpdate: { n1: [{ ID: 'x0', DesiredDescription: 'stopped' }] },
      NodeAllocation: { n1: [makeAlloc('new', job, 'app', 0, 'n1')] },
    });

    assert.deepEqual(evaluatePlan(plan, state).refusedNodes, []);
    assert.deepEqual(evaluatePlan({ ...plan, NodeUpdate: {} }, state).refusedNodes, ['n1']);
  });

  test('refuses an allocation filed under another node', () => {
    const job = jobNamed('web', 1, 100);
    const plan = emptyPlan({ NodeAllocation: { n1: [makeAlloc('a', job, 'app', 0, 'n2')] } });
    const result = evaluatePlan(plan, new FakeState([makeNode('n1'), makeNode('n2')]));

    assert.deepEqual(result.refusedNodes, ['n1']);
  });
});

describe('InFlightPlans', () => {
  test('counts plans proposed but not applied', () => {
    const state = new FakeState([makeNode('n1')]);
    const first = jobNamed('first', 1, 3000);
    const second = jobNamed('second', 1, 3000);
    // Both workers plan on the same snapshot, so each plan fits on its own.
    const firstPlan = computePlan(state.planInput(makeEval('e1', first), first, sequentialIds('a')));
    const secondPlan = computePlan(state.planInput(makeEval('e2', second), second, sequentialIds('b')));

    const inFlight = new InFlightPlans(state);
    const firstResult = evaluatePlan(firstPlan, inFlight);
    assert.deepEqual(firstResult.refusedNodes, []);
    inFlight.add(firstResult.accepted);

    const secondResult = evaluatePlan(secondPlan, inFlight);
    assert.deepEqual(secondResult.refusedNodes, ['n1']);

    // Once applied, the plan leaves the list and the state alone gives the same result.
    state.apply(firstResult.accepted);
    inFlight.remove(firstResult.accepted);
    assert.equal(inFlight.size, 0);
    assert.deepEqual(evaluatePlan(secondPlan, inFlight).refusedNodes, ['n1']);
  });

  test('counts a plan once while both state and list contain it', () => {
    const state = new FakeState([makeNode('n1')]);
    const job = jobNamed('web', 2, 1500);
    const plan = computePlan(state.planInput(makeEval('e1', job), job, sequentialIds('a')));
    const inFlight = new InFlightPlans(state);
    inFlight.add(plan);
    state.apply(plan);

    assert.equal(inFlight.allocsByNode('n1').length, 2);
    const more = jobNamed('more', 1, 1000);
    const morePlan = computePlan(state.planInput(makeEval('e2', more), more, sequentialIds('b')));
    assert.equal(placedAllocs(morePlan).length, 1);
    assert.deepEqual(evaluatePlan(morePlan, inFlight).refusedNodes, []);
  });

  test('frees capacity that an in-flight plan stops', () => {
    const old = jobNamed('old', 1, 3500);
    const state = new FakeState([makeNode('n1')], [makeAlloc('x0', old, 'app', 0, 'n1')]);
    const inFlight = new InFlightPlans(state);
    inFlight.add(emptyPlan({ NodeUpdate: { n1: [{ ID: 'x0', DesiredDescription: 'stopped' }] } }));

    const job = jobNamed('web', 1, 3500);
    const plan = emptyPlan({ EvalID: 'e2', NodeAllocation: { n1: [makeAlloc('new', job, 'app', 0, 'n1')] } });
    assert.deepEqual(evaluatePlan(plan, inFlight).refusedNodes, []);
  });
});
