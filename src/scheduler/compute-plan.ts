import type { Allocation } from '../structs/allocation.js';
import type { Evaluation } from '../structs/evaluation.js';
import type { Job, Resources } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import { allocName } from './alloc-name.js';
import { feasibleNodes } from './feasibility.js';
import { NodeUsage } from './node-usage.js';
import type { PlacementMetrics, Plan, StopDiff } from './plan.js';
import { countExhausted, selectNode } from './rank.js';
import { type Placement, reconcile } from './reconcile.js';
import { groupResources } from './resources.js';

export interface ComputePlanInput {
  readonly eval: Evaluation;
  /** The job as of the snapshot, or null once it is purged. */
  readonly job: Job | null;
  /** Every node the scheduler may consider, in any status. */
  readonly nodes: readonly Node[];
  /** Allocations of the evaluation's job, in any status. */
  readonly allocs: readonly Allocation[];
  /** Non-terminal allocations of every job by node ID; terminal ones in it are ignored. */
  readonly nodeAllocs: ReadonlyMap<string, readonly Allocation[]>;
  /** Generates allocation IDs; the only source of new identifiers. */
  readonly newId: () => string;
  /** Unix time in nanoseconds, stamped on new allocations. */
  readonly now: number;
  /** Raft index of the snapshot the inputs come from, copied to `Plan.SnapshotIndex`. Defaults to 0. */
  readonly snapshotIndex?: number;
}

/**
 * Computes the plan of the generic scheduler (service and batch jobs) for one evaluation: what to
 * stop and where to place, so that each group reaches its count. The function is pure: given the
 * same input and ID sequence it returns the same plan.
 */
export function computePlan(input: ComputePlanInput): Plan {
  const { eval: evaluation, job } = input;
  const nodeById = new Map(input.nodes.map((node) => [node.ID, node]));
  const { stops, placements } = reconcile(job, input.allocs, nodeById);
  const usage = new NodeUsage(input.nodes, input.nodeAllocs, input.allocs);

  const nodeUpdate: Record<string, StopDiff[]> = {};
  for (const { alloc, diff } of stops) {
    appendTo(nodeUpdate, alloc.NodeID, diff);
    usage.release(alloc);
  }

  const nodeAllocation: Record<string, Allocation[]> = {};
  const failedCounts: Record<string, number> = {};
  const failedMetrics: Record<string, PlacementMetrics> = {};
  // reconcile returns placements only for a job that exists and is not stopped.
  if (job !== null) {
    for (const groupPlacements of placements) {
      if (groupPlacements.length === 0) continue;
      const group = groupPlacements[0]!.group;
      const { byTask, total } = groupResources(group);
      const { feasible, filtered } = feasibleNodes(input.nodes, job, group);
      const candidates = usage.loads(feasible);

      for (let i = 0; i < groupPlacements.length; i++) {
        const node = selectNode(candidates, total);
        if (node === null) {
          // Every allocation of a group needs the same resources and capacity only shrinks as
          // the group places, so once one finds no node the rest of the group cannot either.
          const exhausted = countExhausted(feasible, usage, total);
          failedCounts[group.Name] = groupPlacements.length - i;
          failedMetrics[group.Name] = {
            NodesEvaluated: input.nodes.length,
            NodesFiltered: input.nodes.length - feasible.length,
            ConstraintFiltered: filtered,
            NodesExhausted: exhausted.nodes,
            DimensionExhausted: exhausted.dimensions,
          };
          break;
        }
        usage.take(node.ID, total);
        const alloc = newAllocation(input, job, node, groupPlacements[i]!, byTask);
        appendTo(nodeAllocation, node.ID, alloc);
      }
    }
  }

  return {
    EvalID: evaluation.ID,
    JobID: evaluation.JobID,
    Namespace: evaluation.Namespace,
    Priority: job?.Priority ?? evaluation.Priority,
    NodeAllocation: nodeAllocation,
    NodeUpdate: nodeUpdate,
    SnapshotIndex: input.snapshotIndex ?? 0,
    FailedTGAllocs: failedCounts,
    FailedTGMetrics: failedMetrics,
  };
}

function newAllocation(
  input: ComputePlanInput,
  job: Job,
  node: Node,
  placement: Placement,
  taskResources: Readonly<Record<string, Resources>>,
): Allocation {
  return {
    ID: input.newId(),
    Namespace: job.Namespace,
    EvalID: input.eval.ID,
    Name: allocName(job.ID, placement.group.Name, placement.index),
    NodeID: node.ID,
    NodeName: node.Name,
    JobID: job.ID,
    // TODO: Nomad's JobVersion is the job's Version (0 when first registered, +1 per spec
    // change). Job has no Version yet: a new field needs a job-register v2 and a snapshot change.
    JobVersion: job.JobModifyIndex,
    TaskGroup: placement.group.Name,
    TaskResources: { ...taskResources },
    DesiredStatus: 'run',
    DesiredDescription: '',
    ClientStatus: 'pending',
    ClientDescription: '',
    TaskStates: {},
    // The plan applier signs the identities once it accepts the placement.
    SignedIdentities: {},
    SigningKeyID: '',
    PreviousAllocation: placement.previous?.ID ?? '',
    // The state store sets the indexes when it applies the plan.
    CreateIndex: 0,
    ModifyIndex: 0,
    AllocModifyIndex: 0,
    CreateTime: input.now,
    ModifyTime: input.now,
  };
}

function appendTo<T>(record: Record<string, T[]>, key: string, item: T): void {
  const list = record[key];
  if (list === undefined) record[key] = [item];
  else list.push(item);
}
