import type { Resources } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import type { NodeLoadView, NodeUsage } from './node-usage.js';
import { addResources, exceededDimensions } from './resources.js';

/**
 * Picks the node for one more allocation of the job among the loads of `candidates` (nodes
 * already feasible), skipping nodes where `need` does not fit. The ranking spreads the job. It prefers the fewest
 * allocations of the job, then the largest fraction of capacity left free after the placement
 * (the mean of the CPU and memory fractions), then the lowest node ID. The same input therefore
 * always gives the same node. Returns null when no candidate has room.
 */
export function selectNode(candidates: readonly NodeLoadView[], need: Resources): Node | null {
  // This loop runs once per node for every placement (500,000 times for 5,000 allocations over
  // 100 nodes), so it works on plain numbers and allocates nothing.
  let best: Node | null = null;
  let bestJobAllocs = 0;
  let bestFree = 0;
  for (const { node, used, jobAllocs } of candidates) {
    const capacity = node.NodeResources;
    const cpu = used.CPU + need.CPU;
    const memory = used.MemoryMB + need.MemoryMB;
    if (cpu > capacity.CPU || memory > capacity.MemoryMB) continue;

    const free = freeFraction(cpu, memory, capacity);
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

/** Mean of the CPU and memory fractions of `capacity` left free when `cpu` and `memory` are in use. */
function freeFraction(cpu: number, memory: number, capacity: Resources): number {
  const cpuFree = capacity.CPU > 0 ? (capacity.CPU - cpu) / capacity.CPU : 0;
  const memoryFree = capacity.MemoryMB > 0 ? (capacity.MemoryMB - memory) / capacity.MemoryMB : 0;
  return (cpuFree + memoryFree) / 2;
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
