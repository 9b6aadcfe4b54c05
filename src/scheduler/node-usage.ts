import { type Allocation, isTerminal } from '../structs/allocation.js';
import type { Resources } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import { addResources, allocResources, NO_RESOURCES, subtractResources } from './resources.js';

/** What one node has in use while a plan is built; NodeUsage updates it as the plan places. */
export interface NodeLoadView {
  readonly node: Node;
  readonly used: Resources;
  /** Allocations of the job being planned that run or will run on the node. */
  readonly jobAllocs: number;
}

interface NodeLoad extends NodeLoadView {
  used: Resources;
  jobAllocs: number;
  /** Non-terminal allocations counted in `used`, so that a stop releases only what was counted. */
  readonly counted: Set<string>;
}

/**
 * Resources in use on each node while one plan is being built: the node's non-terminal
 * allocations, minus those the plan stops, plus those it places. Placements therefore see the
 * capacity that earlier placements of the same plan took.
 */
export class NodeUsage {
  readonly #loads = new Map<string, NodeLoad>();

  /**
   * `nodeAllocs` contains the allocations on each node (terminal ones are skipped here), and
   * `jobAllocs` the allocations of the job being planned.
   */
  constructor(
    nodes: readonly Node[],
    nodeAllocs: ReadonlyMap<string, readonly Allocation[]>,
    jobAllocs: readonly Allocation[],
  ) {
    for (const node of nodes) {
      const load: NodeLoad = { node, used: NO_RESOURCES, jobAllocs: 0, counted: new Set() };
      for (const alloc of nodeAllocs.get(node.ID) ?? []) {
        if (isTerminal(alloc) || load.counted.has(alloc.ID)) continue;
        load.counted.add(alloc.ID);
        load.used = addResources(load.used, allocResources(alloc));
      }
      this.#loads.set(node.ID, load);
    }
    for (const alloc of jobAllocs) {
      const load = this.#loads.get(alloc.NodeID);
      if (load !== undefined && !isTerminal(alloc)) load.jobAllocs++;
    }
  }

  /** Releases what a stopped allocation held. */
  release(alloc: Allocation): void {
    const load = this.#loads.get(alloc.NodeID);
    if (load === undefined) return;
    if (load.counted.delete(alloc.ID)) load.used = subtractResources(load.used, allocResources(alloc));
    if (!isTerminal(alloc)) load.jobAllocs--;
  }

  /** Takes `resources` on the node for a new allocation of the job. */
  take(nodeId: string, resources: Resources): void {
    const load = this.#loads.get(nodeId)!;
    load.used = addResources(load.used, resources);
    load.jobAllocs++;
  }

  /**
   * Returns the loads of `nodes`, in their order, skipping nodes it was not built with. The views
   * stay current as the plan places, so a caller can look them up once per group.
   */
  loads(nodes: readonly Node[]): NodeLoadView[] {
    const loads: NodeLoadView[] = [];
    for (const node of nodes) {
      const load = this.#loads.get(node.ID);
      if (load !== undefined) loads.push(load);
    }
    return loads;
  }

  used(nodeId: string): Resources {
    return this.#loads.get(nodeId)?.used ?? NO_RESOURCES;
  }

  jobAllocs(nodeId: string): number {
    return this.#loads.get(nodeId)?.jobAllocs ?? 0;
  }
}
