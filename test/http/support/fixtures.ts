import { randomUUID } from 'node:crypto';
import type { Allocation } from '../../../src/structs/allocation.js';
import type { Evaluation } from '../../../src/structs/evaluation.js';
import type { Job } from '../../../src/structs/job.js';
import type { Node } from '../../../src/structs/node.js';
import type { TestBackend } from './test-backend.js';

/** Builds a job body in Nomad's API JSON, before canonicalization, with two allocations of one mock task. */
export function jobInput(id = 'web', overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    ID: id,
    Name: id,
    Type: 'service',
    Datacenters: ['dc1'],
    TaskGroups: [
      {
        Name: 'app',
        Count: 2,
        Tasks: [
          {
            Name: 'server',
            Driver: 'mock',
            Config: { run_for: '30s' },
            Resources: { CPU: 100, MemoryMB: 64 },
          },
        ],
      },
    ],
    ...overrides,
  };
}

/** Builds a ready client node, whose secret the tests look for in every response. */
export function testNode(overrides: Partial<Node> = {}): Node {
  return {
    ID: randomUUID(),
    SecretID: `secret-${randomUUID()}`,
    Name: 'client-1',
    Datacenter: 'dc1',
    NodeClass: '',
    Status: 'ready',
    StatusDescription: '',
    SchedulingEligibility: 'eligible',
    NodeResources: { CPU: 4000, MemoryMB: 8192 },
    Drivers: { mock: { Detected: true, Healthy: true } },
    Attributes: { 'kernel.name': 'linux' },
    StatusUpdatedAt: Math.floor(Date.now() / 1000),
    CreateIndex: 0,
    ModifyIndex: 0,
    ...overrides,
  };
}

export async function registerNode(backend: TestBackend, node: Node): Promise<number> {
  const { index } = await backend.apply({ type: 'node-register', v: 1, node });
  return index;
}

/** Builds a new allocation of `job`'s first task group on `node`, as the scheduler would place it. */
export function testAllocation(job: Job, node: Node, evaluation: Evaluation, slot = 0): Allocation {
  const group = job.TaskGroups[0]!;
  const now = Date.now() * 1_000_000;
  return {
    ID: randomUUID(),
    Namespace: job.Namespace,
    EvalID: evaluation.ID,
    Name: `${job.ID}.${group.Name}[${slot}]`,
    NodeID: node.ID,
    NodeName: node.Name,
    JobID: job.ID,
    JobVersion: job.JobModifyIndex,
    TaskGroup: group.Name,
    TaskResources: Object.fromEntries(group.Tasks.map((task) => [task.Name, task.Resources])),
    DesiredStatus: 'run',
    DesiredDescription: '',
    ClientStatus: 'pending',
    ClientDescription: '',
    TaskStates: {},
    SignedIdentities: {},
    SigningKeyID: '',
    PreviousAllocation: '',
    CreateIndex: 0,
    ModifyIndex: 0,
    AllocModifyIndex: 0,
    CreateTime: now,
    ModifyTime: now,
  };
}

/**
 * Plays the scheduler for one evaluation: places `allocCount` allocations of its job on `node`
 * and marks the evaluation complete, with `queued` allocations left unplaced, in one plan.
 */
export async function completeEvaluation(
  backend: TestBackend,
  evaluation: Evaluation,
  options: { node?: Node; allocCount?: number; queued?: Record<string, number>; blockedEval?: string } = {},
): Promise<Allocation[]> {
  const job = backend.state.job(evaluation.Namespace, evaluation.JobID);
  const place =
    job === null || options.node === undefined
      ? []
      : Array.from({ length: options.allocCount ?? 0 }, (_, slot) =>
          testAllocation(job, options.node!, evaluation, slot),
        );
  const done: Evaluation = {
    ...evaluation,
    Status: 'complete',
    QueuedAllocations: options.queued ?? {},
    BlockedEval: options.blockedEval ?? '',
    ModifyTime: Date.now() * 1_000_000,
  };
  await backend.apply({ type: 'plan-apply', v: 2, place, stop: [], evals: [done], time: done.ModifyTime });
  return place;
}
