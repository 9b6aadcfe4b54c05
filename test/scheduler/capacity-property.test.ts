import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { computePlan } from '../../src/scheduler/compute-plan.js';
import { evaluatePlan } from '../../src/scheduler/evaluate-plan.js';
import { InFlightPlans } from '../../src/scheduler/in-flight-plans.js';
import type { Plan } from '../../src/scheduler/plan.js';
import { allocResources } from '../../src/scheduler/resources.js';
import type { Allocation } from '../../src/structs/allocation.js';
import type { Job } from '../../src/structs/job.js';
import type { Node } from '../../src/structs/node.js';
import {
  FakeState,
  makeAlloc,
  makeEval,
  makeGroup,
  makeJob,
  makeNode,
  makeTask,
  sequentialIds,
} from './fixtures.js';

const DRIVERS = ['mock', 'raw_exec'] as const;

const nodeArb = fc.record({
  status: fc.constantFrom('ready', 'ready', 'ready', 'down', 'initializing', 'disconnected'),
  eligible: fc.boolean(),
  datacenter: fc.constantFrom('dc1', 'dc2', 'edge-1'),
  cpu: fc.integer({ min: 0, max: 4000 }),
  memory: fc.integer({ min: 0, max: 4096 }),
  drivers: fc.subarray([...DRIVERS]),
  /** Node index that goes down between the snapshot and the evaluation. */
  goesDown: fc.boolean(),
});

const taskArb = fc.record({
  cpu: fc.integer({ min: 1, max: 1500 }),
  memory: fc.integer({ min: 1, max: 1024 }),
  driver: fc.constantFrom(...DRIVERS),
});

const jobArb = fc.record({
  type: fc.constantFrom('service', 'batch'),
  priority: fc.integer({ min: 1, max: 100 }),
  datacenters: fc.constantFrom(['*'], ['dc1'], ['dc*'], ['dc2', 'edge-*']),
  groups: fc.array(
    fc.record({
      count: fc.integer({ min: 0, max: 8 }),
      tasks: fc.array(taskArb, { minLength: 1, maxLength: 2 }),
    }),
    {
      minLength: 1,
      maxLength: 2,
    },
  ),
  stop: fc.boolean(),
  /** Existing allocations: name index, node pick, client and desired status. */
  existing: fc.array(
    fc.record({
      index: fc.integer({ min: 0, max: 9 }),
      group: fc.nat(),
      node: fc.nat(),
      client: fc.constantFrom('pending', 'running', 'running', 'complete', 'failed'),
      desired: fc.constantFrom('run', 'run', 'run', 'stop'),
    }),
    { maxLength: 10 },
  ),
});

const scenarioArb = fc.record({
  nodes: fc.array(nodeArb, { minLength: 1, maxLength: 8 }),
  jobs: fc.array(jobArb, { minLength: 1, maxLength: 4 }),
  /** Per plan: whether its Raft entry applies before the next plan is evaluated. */
  appliedAtOnce: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

function buildState(scenario: Scenario): { state: FakeState; jobs: Job[] } {
  const nodes: Node[] = scenario.nodes.map((spec, i) =>
    makeNode(`n${i}`, {
      Status: spec.status,
      SchedulingEligibility: spec.eligible ? 'eligible' : 'ineligible',
      Datacenter: spec.datacenter,
      NodeResources: { CPU: spec.cpu, MemoryMB: spec.memory },
      Drivers: Object.fromEntries(spec.drivers.map((driver) => [driver, { Detected: true, Healthy: true }])),
    }),
  );
  const jobs = scenario.jobs.map((spec, j) =>
    makeJob(
      `job${j}`,
      spec.groups.map((group, g) =>
        makeGroup(
          `g${g}`,
          group.count,
          group.tasks.map((task, t) =>
            makeTask(`t${t}`, { CPU: task.cpu, MemoryMB: task.memory }, task.driver),
          ),
        ),
      ),
      { Type: spec.type, Priority: spec.priority, Datacenters: spec.datacenters },
    ),
  );

  // Existing allocations are kept only where they fit, because the state starts within capacity.
  const state = new FakeState(nodes);
  const used = new Map<string, { cpu: number; memory: number }>();
  scenario.jobs.forEach((spec, j) => {
    const job = jobs[j]!;
    spec.existing.forEach((existing, k) => {
      const group = job.TaskGroups[existing.group % job.TaskGroups.length]!;
      const node = nodes[existing.node % nodes.length]!;
      const alloc = makeAlloc(`job${j}-old${k}`, job, group.Name, existing.index, node.ID, {
        ClientStatus: existing.client,
        DesiredStatus: existing.desired,
      });
      const load = used.get(node.ID) ?? { cpu: 0, memory: 0 };
      const need = allocResources(alloc);
      const live =
        existing.desired === 'run' && (existing.client === 'pending' || existing.client === 'running');
      if (live) {
        if (
          load.cpu + need.CPU > node.NodeResources.CPU ||
          load.memory + need.MemoryMB > node.NodeResources.MemoryMB
        )
          return;
        used.set(node.ID, { cpu: load.cpu + need.CPU, memory: load.memory + need.MemoryMB });
      }
      state.allocs.set(alloc.ID, alloc);
    });
  });
  return { state, jobs };
}

function placedIn(plan: Plan): Allocation[] {
  return Object.values(plan.NodeAllocation).flat();
}

test('no node ends over capacity after stale plans', () => {
  fc.assert(
    fc.property(scenarioArb, (scenario) => {
      const { state, jobs } = buildState(scenario);
      assert.deepEqual(state.overCapacityNodes(), [], 'initial state within capacity');

      // Every worker plans on the same snapshot, so every plan but the first is stale.
      const plans = jobs.map((job, j) => {
        const spec = scenario.jobs[j]!;
        const current = spec.stop ? { ...job, Stop: true } : job;
        const plan = computePlan(
          state.planInput(makeEval(`e${j}`, current), current, sequentialIds(`p${j}`)),
        );
        // Against its own snapshot, a plan must pass the applier's check in full.
        assert.deepEqual(evaluatePlan(plan, state).refusedNodes, [], `plan ${j} against its own snapshot`);
        return plan;
      });

      scenario.nodes.forEach((spec, i) => {
        if (spec.goesDown) state.setNode({ ...state.node(`n${i}`)!, Status: 'down' });
      });

      const inFlight = new InFlightPlans(state);
      const notYetApplied: Plan[] = [];
      plans.forEach((plan, j) => {
        const { accepted, refusedNodes } = evaluatePlan(plan, inFlight);
        for (const alloc of placedIn(accepted)) {
          assert.equal(state.node(alloc.NodeID)?.Status, 'ready', `accepted ${alloc.ID} on ${alloc.NodeID}`);
        }
        for (const nodeId of refusedNodes) {
          assert.equal(accepted.NodeAllocation[nodeId], undefined);
          assert.equal(accepted.NodeUpdate[nodeId], undefined);
        }
        inFlight.add(accepted);
        if (scenario.appliedAtOnce[j]) {
          state.apply(accepted);
          inFlight.remove(accepted);
        } else {
          notYetApplied.push(accepted);
        }
      });

      // The entries still in flight apply last, in the order the applier proposed them.
      for (const accepted of notYetApplied) state.apply(accepted);
      assert.deepEqual(state.overCapacityNodes(), [], 'state within capacity');
    }),
    { numRuns: 300 },
  );
});
