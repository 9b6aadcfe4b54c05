import { type Allocation, isTerminal } from '../structs/allocation.js';
import type { Node } from '../structs/node.js';
import { type Plan, planNodeIds, type StopDiff } from './plan.js';
import { addResources, allocResources, exceededDimensions, NO_RESOURCES } from './resources.js';

/** Read access to the newest state, as the plan applier needs it. */
export interface PlanStateView {
  node(id: string): Node | null;
  /** Allocations on the node, in any status; terminal ones are ignored. */
  allocsByNode(id: string): readonly Allocation[];
}

export interface PlanEvaluation {
  /** The plan without the changes of refused nodes. */
  readonly accepted: Plan;
  /** Nodes whose changes were dropped, sorted. */
  readonly refusedNodes: string[];
  /** Reason for each refused node, by node ID. */
  readonly refusalReasons: Readonly<Record<string, string>>;
}

/**
 * Checks a plan against the newest state, node by node, as Nomad's plan applier does. A node that
 * only stops allocations is always accepted, even when it is down or gone. A node that receives
 * allocations must exist, be ready and eligible, and fit its allocations: the non-terminal ones
 * in state, minus those the plan stops there, plus the new ones, within its CPU and memory. A
 * refused node loses all its changes and the rest of the plan still commits (a partial commit),
 * so the scheduler retries only what was refused.
 */
export function evaluatePlan(plan: Plan, view: PlanStateView): PlanEvaluation {
  const nodeAllocation: Record<string, readonly Allocation[]> = {};
  const nodeUpdate: Record<string, readonly StopDiff[]> = {};
  const refusedNodes: string[] = [];
  const refusalReasons: Record<string, string> = {};

  for (const nodeId of planNodeIds(plan)) {
    const placed = plan.NodeAllocation[nodeId] ?? [];
    const stopped = plan.NodeUpdate[nodeId] ?? [];
    const reason = placed.length === 0 ? null : refusalReason(nodeId, placed, stopped, view);
    if (reason !== null) {
      refusedNodes.push(nodeId);
      refusalReasons[nodeId] = reason;
      continue;
    }
    if (placed.length > 0) nodeAllocation[nodeId] = placed;
    if (stopped.length > 0) nodeUpdate[nodeId] = stopped;
  }

  return {
    accepted: { ...plan, NodeAllocation: nodeAllocation, NodeUpdate: nodeUpdate },
    refusedNodes,
    refusalReasons,
  };
}

/** Returns why the node cannot take `placed`, or null when it can. */
function refusalReason(
  nodeId: string,
  placed: readonly Allocation[],
  stopped: readonly StopDiff[],
  view: PlanStateView,
): string | null {
  const node = view.node(nodeId);
  if (node === null) return 'node not found';
  if (node.Status !== 'ready') return `node is ${node.Status}`;
  if (node.SchedulingEligibility !== 'eligible') return 'node is ineligible';
  if (placed.some((alloc) => alloc.NodeID !== nodeId)) return 'allocation filed under another node';

  // An allocation sent again in full replaces its current version instead of adding to it.
  const leaving = new Set<string>(stopped.map((diff) => diff.ID));
  for (const alloc of placed) leaving.add(alloc.ID);

  let used = NO_RESOURCES;
  for (const alloc of view.allocsByNode(nodeId)) {
    if (!isTerminal(alloc) && !leaving.has(alloc.ID)) used = addResources(used, allocResources(alloc));
  }
  for (const alloc of placed) used = addResources(used, allocResources(alloc));

  const exceeded = exceededDimensions(used, node.NodeResources);
  return exceeded.length === 0 ? null : `node resources exhausted: ${exceeded.join(', ')}`;
}
