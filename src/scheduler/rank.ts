import type { Resources } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import type { NodeUsage } from './node-usage.js';
import { addResources, exceededDimensions } from './resources.js';

/**
 * Picks the node for one more allocation of the job among `candidates` (already feasible),
 * skipping nodes where `need` does not fit. The ranking spreads the job. It prefers the fewest
 * allocations of the job, then the largest fraction of capacity left free after the placement
 * (the mean of the CPU and memory fractions), then the lowest node ID. The same input therefore
 * always gives the same node. Returns null when no candidate has room.
 */
export function selectNode(candidates: readonly Node[], usage: NodeUsage, need: Resources): Node | null {
  let best: Node | null = null;
  let bestJobAllocs = 0;
  let bestFree = 0;
  for (const node of candidates) {
    const after = addResources(usage.used(node.ID), need);
    if (exceededDimensions(after, node.NodeResources).length > 0) continue;

    const jobAllocs = usage.jobAllocs(node.ID);
    const free = freeFraction(after, node.NodeResources);
    const better =
      best === null ||
      jobAllocs < bestJobAllocs ||
      (jobAllocs === bestJobAllocs && (free > bestFree || (free === bestFree && node.ID < best.ID)));
    if (better) {
      best = node;
      bestJobAllocs = jobAllocs;
      bestFree = free;
    }
  }
  return best;
}

function freeFraction(used: Resources, capacity: Resources): number {
  const cpu = capacity.CPU > 0 ? (capacity.CPU - used.CPU) / capacity.CPU : 0;
  const memory = capacity.MemoryMB > 0 ? (capacity.MemoryMB - used.MemoryMB) / capacity.MemoryMB : 0;
  return (cpu + memory) / 2;
}

/** Counts the candidates without room for `need`, in total and by the resource that ran out. */
export function countExhausted(
  candidates: readonly Node[],
  usage: NodeUsage,
  need: Resources,
): { nodes: number; dimensions: Record<string, number> } {
  let nodes = 0;
  const dimensions: Record<string, number> = {};
  for (const node of candidates) {
    const exceeded = exceededDimensions(addResources(usage.used(node.ID), need), node.NodeResources);
    if (exceeded.length === 0) continue;
    nodes++;
    for (const dimension of exceeded) dimensions[dimension] = (dimensions[dimension] ?? 0) + 1;
  }
  return { nodes, dimensions };
}
