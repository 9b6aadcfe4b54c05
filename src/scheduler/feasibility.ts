import type { Job, TaskGroup } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import { jobAllowsDatacenter } from './datacenter-glob.js';

/**
 * Returns why `node` can never run `group` as things stand, or null when it can. Capacity is
 * left out: it changes with every placement, so the ranking step checks it.
 */
export function infeasibleReason(node: Node, job: Job, group: TaskGroup): string | null {
  if (node.Status !== 'ready') return 'node not ready';
  if (node.SchedulingEligibility !== 'eligible') return 'node not eligible';
  if (!jobAllowsDatacenter(job.Datacenters, node.Datacenter)) return 'missing compatible datacenter';
  for (const task of group.Tasks) {
    const driver = node.Drivers[task.Driver];
    if (driver === undefined || !driver.Detected || !driver.Healthy) return `missing driver "${task.Driver}"`;
  }
  return null;
}

/** Splits `nodes` into those feasible for the group, and counts of the others by reason. */
export function feasibleNodes(
  nodes: readonly Node[],
  job: Job,
  group: TaskGroup,
): { feasible: Node[]; filtered: Record<string, number> } {
  const feasible: Node[] = [];
  const filtered: Record<string, number> = {};
  for (const node of nodes) {
    const reason = infeasibleReason(node, job, group);
    if (reason === null) feasible.push(node);
    else filtered[reason] = (filtered[reason] ?? 0) + 1;
  }
  return { feasible, filtered };
}
