import type { ComputePlanInput } from '../../src/scheduler/compute-plan.js';
import type { PlanStateView } from '../../src/scheduler/evaluate-plan.js';
import type { Plan } from '../../src/scheduler/plan.js';
import { allocResources } from '../../src/scheduler/resources.js';
import { type Allocation, isTerminal } from '../../src/structs/allocation.js';
import type { Evaluation } from '../../src/structs/evaluation.js';
import type { Job, Resources, Task, TaskGroup } from '../../src/structs/job.js';
import type { Node } from '../../src/structs/node.js';

export const NOW = 1_700_000_000_000_000_000;

/** Returns a generator of IDs `prefix-1`, `prefix-2`..., so plans are reproducible. */
export function sequentialIds(prefix: string): () => string {
  let next = 0;
  return () => `${prefix}-${++next}`;
}

export function makeNode(id: string, overrides: Partial<Node> = {}): Node {
  return {
    ID: id,
    SecretID: `secret-${id}`,
    Name: `name-${id}`,
    Datacenter: 'dc1',
    NodeClass: '',
    Status: 'ready',
    StatusDescription: '',
    SchedulingEligibility: 'eligible',
    NodeResources: { CPU: 4000, MemoryMB: 8192 },
    Drivers: { mock: { Detected: true, Healthy: true }, raw_exec: { Detected: true, Healthy: true } },
    Attributes: {},
    StatusUpdatedAt: 0,
    CreateIndex: 1,
    ModifyIndex: 1,
    ...overrides,
  };
}

export function makeTask(name: string, resources: Resources, driver = 'mock'): Task {
  return {
    Name: name,
    Driver: driver,
    Config: {},
    Env: null,
    Resources: resources,
    Identity: null,
    Identities: [],
    Templates: [],
    KillTimeout: 5_000_000_000,
  };
}

export function makeGroup(name: string, count: number, tasks: Task[]): TaskGroup {
  return { Name: name, Count: count, Tasks: tasks };
}

export function makeJob(id: string, groups: TaskGroup[], overrides: Partial<Job> = {}): Job {
  return {
    ID: id,
    Name: id,
    Namespace: 'default',
    Type: 'service',
    Priority: 50,
    Datacenters: ['*'],
    TaskGroups: groups,
    ParentID: '',
    Stop: false,
    Status: 'pending',
    CreateIndex: 10,
    ModifyIndex: 10,
    JobModifyIndex: 10,
    SubmitTime: NOW,
    ...overrides,
  };
}

export function makeEval(
  id: string,
  job: Pick<Job, 'ID' | 'Namespace' | 'Priority' | 'Type'>,
  overrides: Partial<Evaluation> = {},
): Evaluation {
  return {
    ID: id,
    Namespace: job.Namespace,
    Priority: job.Priority,
    Type: job.Type,
    TriggeredBy: 'job-register',
    JobID: job.ID,
    JobModifyIndex: 10,
    NodeID: '',
    Status: 'pending',
    StatusDescription: '',
    BlockedEval: '',
    PreviousEval: '',
    QueuedAllocations: {},
    CreateIndex: 11,
    ModifyIndex: 11,
    CreateTime: NOW,
    ModifyTime: NOW,
    ...overrides,
  };
}

/** Builds a running allocation of `job`'s group, as an earlier plan would have left it in state. */
export function makeAlloc(
  id: string,
  job: Job,
  group: string,
  index: number,
  nodeId: string,
  overrides: Partial<Allocation> = {},
): Allocation {
  const taskGroup = job.TaskGroups.find((candidate) => candidate.Name === group);
  const TaskResources: Record<string, Resources> = {};
  for (const task of taskGroup?.Tasks ?? []) TaskResources[task.Name] = task.Resources;
  return {
    ID: id,
    Namespace: job.Namespace,
    EvalID: 'eval-0',
    Name: `${job.ID}.${group}[${index}]`,
    NodeID: nodeId,
    NodeName: `name-${nodeId}`,
    JobID: job.ID,
    JobVersion: job.JobModifyIndex,
    TaskGroup: group,
    TaskResources,
    DesiredStatus: 'run',
    DesiredDescription: '',
    ClientStatus: 'running',
    ClientDescription: '',
    TaskStates: {},
    SignedIdentities: {},
    SigningKeyID: '',
    PreviousAllocation: '',
    CreateIndex: 5,
    ModifyIndex: 5,
    AllocModifyIndex: 5,
    CreateTime: NOW,
    ModifyTime: NOW,
    ...overrides,
  };
}

/** A tiny stand-in for the state store: nodes and allocations, with plans applied as plan-apply would. */
export class FakeState implements PlanStateView {
  readonly nodes = new Map<string, Node>();
  readonly allocs = new Map<string, Allocation>();

  constructor(nodes: readonly Node[] = [], allocs: readonly Allocation[] = []) {
    for (const node of nodes) this.nodes.set(node.ID, node);
    for (const alloc of allocs) this.allocs.set(alloc.ID, alloc);
  }

  node(id: string): Node | null {
    return this.nodes.get(id) ?? null;
  }

  allocsByNode(id: string): Allocation[] {
    return [...this.allocs.values()].filter((alloc) => alloc.NodeID === id);
  }

  setNode(node: Node): void {
    this.nodes.set(node.ID, node);
  }

  apply(plan: Plan): void {
    for (const diffs of Object.values(plan.NodeUpdate)) {
      for (const diff of diffs) {
        const alloc = this.allocs.get(diff.ID);
        if (alloc === undefined) continue;
        this.allocs.set(diff.ID, {
          ...alloc,
          DesiredStatus: 'stop',
          DesiredDescription: diff.DesiredDescription,
          ClientStatus: diff.ClientStatus ?? alloc.ClientStatus,
        });
      }
    }
    for (const allocs of Object.values(plan.NodeAllocation)) {
      for (const alloc of allocs) this.allocs.set(alloc.ID, alloc);
    }
  }

  /** Builds the input of `computePlan` for one job from this state, as a worker reads its snapshot. */
  planInput(evaluation: Evaluation, job: Job | null, newId: () => string): ComputePlanInput {
    const nodeAllocs = new Map<string, Allocation[]>();
    for (const alloc of this.allocs.values()) {
      if (isTerminal(alloc)) continue;
      const list = nodeAllocs.get(alloc.NodeID) ?? [];
      list.push(alloc);
      nodeAllocs.set(alloc.NodeID, list);
    }
    const allocs = [...this.allocs.values()].filter(
      (alloc) => alloc.JobID === evaluation.JobID && alloc.Namespace === evaluation.Namespace,
    );
    return { eval: evaluation, job, nodes: [...this.nodes.values()], allocs, nodeAllocs, newId, now: NOW };
  }

  /** Nodes whose non-terminal allocations exceed their CPU or memory. */
  overCapacityNodes(): string[] {
    const over: string[] = [];
    for (const node of this.nodes.values()) {
      let cpu = 0;
      let memory = 0;
      for (const alloc of this.allocsByNode(node.ID)) {
        if (isTerminal(alloc)) continue;
        const resources = allocResources(alloc);
        cpu += resources.CPU;
        memory += resources.MemoryMB;
      }
      if (cpu > node.NodeResources.CPU || memory > node.NodeResources.MemoryMB) over.push(node.ID);
    }
    return over;
  }

  liveAllocsOfJob(jobId: string): Allocation[] {
    return [...this.allocs.values()].filter((alloc) => alloc.JobID === jobId && !isTerminal(alloc));
  }
}

/** Returns every allocation a plan places, sorted by node ID, then in placement order. */
export function placedAllocs(plan: Plan): Allocation[] {
  return Object.keys(plan.NodeAllocation)
    .sort()
    .flatMap((nodeId) => plan.NodeAllocation[nodeId]!);
}

/** Returns the sorted IDs of the allocations a plan stops. */
export function stoppedIds(plan: Plan): string[] {
  return Object.values(plan.NodeUpdate)
    .flatMap((diffs) => diffs.map((diff) => diff.ID))
    .sort();
}
