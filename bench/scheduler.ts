import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { type ComputePlanInput, computePlan } from '../src/scheduler/compute-plan.js';
import { evaluatePlan, type PlanStateView } from '../src/scheduler/evaluate-plan.js';
import type { Plan } from '../src/scheduler/plan.js';
import type { Allocation } from '../src/structs/allocation.js';
import type { Evaluation } from '../src/structs/evaluation.js';
import type { Job } from '../src/structs/job.js';
import type { Node } from '../src/structs/node.js';

/**
 * Cost of the scheduler's pure steps in one process: `computePlan` for one job of ALLOCS
 * allocations over NODES nodes, and the plan applier's `evaluatePlan` for the resulting plan. State
 * reads are plain maps here, so the figures leave out the state store and Raft.
 */
const NODES = 100;
const ALLOCS = 10_000;
/** Runs per figure; the median and the worst are printed. */
const RUNS = 10;

function benchNode(i: number): Node {
  return {
    ID: `node-${String(i).padStart(3, '0')}`,
    SecretID: '',
    Name: `client-${i}`,
    Datacenter: 'dc1',
    NodeClass: '',
    Status: 'ready',
    StatusDescription: '',
    SchedulingEligibility: 'eligible',
    // Room for 120 allocations of 100 MHz and 64 MB, so every node fills to about 83 %.
    NodeResources: { CPU: 12_000, MemoryMB: 7_680 },
    Drivers: { mock: { Detected: true, Healthy: true } },
    Attributes: {},
    StatusUpdatedAt: 0,
    CreateIndex: 1,
    ModifyIndex: 1,
  };
}

const job: Job = {
  ID: 'bench',
  Name: 'bench',
  Namespace: 'default',
  Type: 'service',
  Priority: 50,
  Datacenters: ['*'],
  TaskGroups: [
    {
      Name: 'app',
      Count: ALLOCS,
      Tasks: [
        {
          Name: 'server',
          Driver: 'mock',
          Config: {},
          Env: null,
          Resources: { CPU: 100, MemoryMB: 64 },
          Identity: null,
          Identities: [],
          Templates: [],
          KillTimeout: 0,
        },
      ],
    },
  ],
  ParentID: '',
  Stop: false,
  Status: 'pending',
  CreateIndex: 1,
  ModifyIndex: 1,
  JobModifyIndex: 1,
  SubmitTime: 0,
};

const evaluation: Evaluation = {
  ID: 'eval-bench',
  Namespace: 'default',
  Priority: 50,
  Type: 'service',
  TriggeredBy: 'job-register',
  JobID: 'bench',
  JobModifyIndex: 1,
  NodeID: '',
  Status: 'pending',
  StatusDescription: '',
  BlockedEval: '',
  PreviousEval: '',
  QueuedAllocations: {},
  CreateIndex: 2,
  ModifyIndex: 2,
  CreateTime: 0,
  ModifyTime: 0,
};

function planInput(nodes: Node[], allocs: Allocation[]): ComputePlanInput {
  const nodeAllocs = new Map<string, Allocation[]>();
  for (const alloc of allocs) {
    const list = nodeAllocs.get(alloc.NodeID) ?? [];
    list.push(alloc);
    nodeAllocs.set(alloc.NodeID, list);
  }
  let next = 0;
  return { eval: evaluation, job, nodes, allocs, nodeAllocs, newId: () => `alloc-${++next}`, now: 0 };
}

function stateView(nodes: Node[], allocs: Allocation[]): PlanStateView {
  const nodeById = new Map(nodes.map((node) => [node.ID, node]));
  const input = planInput(nodes, allocs);
  return {
    node: (id) => nodeById.get(id) ?? null,
    allocsByNode: (id) => input.nodeAllocs.get(id) ?? [],
  };
}

function timeRuns(run: () => void): number[] {
  run(); // Warm-up, so that JIT compilation is left out of the figures.
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    run();
    times.push(performance.now() - started);
  }
  return times;
}

function summarize(timesMs: number[]): string {
  timesMs.sort((a, b) => a - b);
  return `median ${timesMs[Math.floor(timesMs.length / 2)]!.toFixed(2)} ms, worst ${timesMs.at(-1)!.toFixed(2)} ms`;
}

function placedCount(plan: Plan): number {
  return Object.values(plan.NodeAllocation).reduce((sum, allocs) => sum + allocs.length, 0);
}

/** Runs each case and returns one line per case. */
export function runSchedulerBench(): string[] {
  const nodes = Array.from({ length: NODES }, (_, i) => benchNode(i));

  // Register: every allocation is new.
  let plan = computePlan(planInput(nodes, []));
  if (placedCount(plan) !== ALLOCS)
    throw new Error(`benchmark plan placed only ${placedCount(plan)} of ${ALLOCS} allocations`);
  const registerMs = timeRuns(() => {
    plan = computePlan(planInput(nodes, []));
  });
  const emptyState = stateView(nodes, []);
  const evaluateMs = timeRuns(() => {
    const result = evaluatePlan(plan, emptyState);
    if (result.refusedNodes.length > 0)
      throw new Error(`benchmark plan rejected on nodes ${result.refusedNodes.join(', ')}`);
  });

  // Node lost: the job runs in full, one node is down, and its allocations move elsewhere.
  const running = Object.values(plan.NodeAllocation)
    .flat()
    .map((alloc): Allocation => ({ ...alloc, ClientStatus: 'running' }));
  const downNodes = nodes.map((node, i) => (i === 0 ? { ...node, Status: 'down' as const } : node));
  const lostInput = planInput(downNodes, running);
  const lostPlan = computePlan(lostInput);
  const lostMs = timeRuns(() => computePlan(planInput(downNodes, running)));

  // No change: the job already runs at its count.
  const steadyMs = timeRuns(() => computePlan(planInput(nodes, running)));

  const moved = placedCount(lostPlan);
  return [
    `scheduler computePlan: ${ALLOCS} new allocations over ${NODES} nodes, ${RUNS} runs: ${summarize(registerMs)}`,
    `scheduler evaluatePlan: ${ALLOCS} new allocations over ${NODES} nodes, ${RUNS} runs: ${summarize(evaluateMs)}`,
    `scheduler computePlan: 1 of ${NODES} nodes down, ${moved} of ${ALLOCS} allocations replaced, ${RUNS} runs: ${summarize(lostMs)}`,
    `scheduler computePlan: ${ALLOCS} allocations at count, no change, ${RUNS} runs: ${summarize(steadyMs)}`,
  ];
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const line of runSchedulerBench()) console.log(line);
}
