import type { Allocation } from '../structs/allocation.js';

/**
 * A change that stops one allocation, in the shape of the `plan-apply` command. `ClientStatus`
 * is set only when the servers decide the client status themselves, which happens when the
 * allocation's node is down and its client can no longer report.
 */
export interface StopDiff {
  readonly ID: string;
  readonly DesiredDescription: string;
  readonly ClientStatus?: 'lost';
}

/** Reasons a task group could not be placed, counted over the nodes the scheduler considered. */
export interface PlacementMetrics {
  /** Nodes considered for the group: every node the scheduler was given. */
  readonly NodesEvaluated: number;
  /** Nodes that cannot run the group in their current state (status, eligibility, datacenter, driver). */
  readonly NodesFiltered: number;
  /** Nodes filtered out, by reason (`node not ready`, `missing driver "docker"`...). */
  readonly ConstraintFiltered: Readonly<Record<string, number>>;
  /** Feasible nodes without room for one more allocation of the group. */
  readonly NodesExhausted: number;
  /** Exhausted nodes by the resource that did not fit (`cpu`, `memory`). */
  readonly DimensionExhausted: Readonly<Record<string, number>>;
}

/**
 * The changes one evaluation proposes to the plan applier, keyed by node so that the applier can
 * accept or reject each node on its own.
 */
export interface Plan {
  readonly EvalID: string;
  readonly JobID: string;
  readonly Namespace: string;
  /** Job priority; the plan queue serves higher priorities first. */
  readonly Priority: number;
  /** New allocations by node ID. */
  readonly NodeAllocation: Readonly<Record<string, readonly Allocation[]>>;
  /** Allocations to stop, by the node ID they run on. */
  readonly NodeUpdate: Readonly<Record<string, readonly StopDiff[]>>;
  /** Raft index of the state snapshot the plan was computed from; 0 when the caller did not provide it. */
  readonly SnapshotIndex: number;
  /** Task groups with allocations that found no node, and how many. The caller blocks an evaluation on them. */
  readonly FailedTGAllocs: Readonly<Record<string, number>>;
  /** Reasons behind each entry of `FailedTGAllocs`, for `job status` and the blocked evaluation. */
  readonly FailedTGMetrics: Readonly<Record<string, PlacementMetrics>>;
}

/** Node IDs that the plan touches, sorted so that every walk over them is deterministic. */
export function planNodeIds(plan: Plan): string[] {
  const ids = new Set([...Object.keys(plan.NodeAllocation), ...Object.keys(plan.NodeUpdate)]);
  return [...ids].sort();
}

/** True when the plan would change nothing. */
export function isEmptyPlan(plan: Plan): boolean {
  return Object.keys(plan.NodeAllocation).length === 0 && Object.keys(plan.NodeUpdate).length === 0;
}
