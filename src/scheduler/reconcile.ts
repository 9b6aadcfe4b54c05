import { type Allocation, isTerminal } from '../structs/allocation.js';
import type { Job, TaskGroup } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import { allocNameIndex, freeIndexes } from './alloc-name.js';
import type { StopDiff } from './plan.js';

/** Nomad's descriptions for allocations that the servers stop. */
export const ALLOC_NOT_NEEDED = 'alloc not needed due to job update';
export const ALLOC_LOST = 'alloc is lost since its node is down';

export interface Stop {
  readonly alloc: Allocation;
  readonly diff: StopDiff;
}

/** One allocation to place: its group, its name index, and the lost allocation it replaces. */
export interface Placement {
  readonly group: TaskGroup;
  readonly index: number;
  readonly previous: Allocation | null;
}

export interface Reconciliation {
  readonly stops: Stop[];
  /** Grouped by task group, in the job's group order. */
  readonly placements: Placement[][];
}

/**
 * Compares the job's desired counts with its allocations and decides what to stop and what to
 * place, without looking at capacity. Rules, per group:
 * - Allocations on a node that is down, disconnected or gone are stopped as lost, and each is
 *   replaced under its own name while the group is short.
 * - Running and pending allocations, failed allocations, and (batch jobs only) completed
 *   allocations hold their name, so a completed batch allocation is never run again.
 * - Above the count, running and pending allocations stop, highest name index first.
 * - Below it, new allocations take the lowest free name indexes.
 * A stopped or missing job, and a group no longer in the job, stop every allocation.
 *
 * NOTE: failed allocations keep their slot and are not replaced, because Nomad's reschedule
 * policy (delays, attempts) is not built yet. Allocations of an older job version are kept as
 * they are, because updates (destructive or in place) are not built yet either.
 */
export function reconcile(
  job: Job | null,
  allocs: readonly Allocation[],
  nodeById: ReadonlyMap<string, Node>,
): Reconciliation {
  const stops: Stop[] = [];
  const isLost = (alloc: Allocation): boolean => {
    const status = nodeById.get(alloc.NodeID)?.Status;
    return status === undefined || status === 'down' || status === 'disconnected';
  };
  const stop = (alloc: Allocation): void => {
    const diff: StopDiff = isLost(alloc)
      ? { ID: alloc.ID, DesiredDescription: ALLOC_LOST, ClientStatus: 'lost' }
      : { ID: alloc.ID, DesiredDescription: ALLOC_NOT_NEEDED };
    stops.push({ alloc, diff });
  };

  // Sorting by ID makes the outcome independent of the order the state store listed them in.
  const sorted = allocs.filter((alloc) => alloc.DesiredStatus === 'run').sort(compareIds);
  const groups = job === null || job.Stop ? [] : job.TaskGroups;
  const batch = job?.Type === 'batch';
  const byGroup = new Map<string, Allocation[]>(groups.map((group) => [group.Name, []]));
  for (const alloc of sorted) {
    const bucket = byGroup.get(alloc.TaskGroup);
    if (bucket !== undefined) bucket.push(alloc);
    else if (!isTerminal(alloc)) stop(alloc);
  }

  const placements: Placement[][] = [];
  for (const group of groups) {
    const holding: Allocation[] = [];
    const lost: Allocation[] = [];
    for (const alloc of byGroup.get(group.Name)!) {
      if (!isTerminal(alloc)) {
        if (isLost(alloc)) lost.push(alloc);
        else holding.push(alloc);
      } else if (alloc.ClientStatus === 'failed' || (alloc.ClientStatus === 'complete' && batch)) {
        holding.push(alloc);
      }
    }
    for (const alloc of lost) stop(alloc);

    // Scale down: only allocations that still run can stop. Unnamed ones go first.
    const removable = holding
      .filter((alloc) => !isTerminal(alloc))
      .sort((a, b) => stopOrderIndex(b) - stopOrderIndex(a) || compareIds(b, a));
    const excess = Math.min(holding.length - group.Count, removable.length);
    const stopped = new Set(removable.slice(0, Math.max(excess, 0)));
    for (const alloc of stopped) stop(alloc);

    const remaining = holding.filter((alloc) => !stopped.has(alloc));
    let missing = group.Count - remaining.length;
    const used = new Set(remaining.map((alloc) => allocNameIndex(alloc.Name)));
    const groupPlacements: Placement[] = [];

    const replaceable = lost
      .map((alloc) => ({ alloc, index: allocNameIndex(alloc.Name) }))
      .filter(({ index }) => index >= 0)
      .sort((a, b) => a.index - b.index || compareIds(a.alloc, b.alloc));
    for (const { alloc, index } of replaceable) {
      if (missing <= 0) break;
      if (used.has(index)) continue;
      used.add(index);
      groupPlacements.push({ group, index, previous: alloc });
      missing--;
    }
    for (const index of freeIndexes(used, Math.max(missing, 0))) {
      groupPlacements.push({ group, index, previous: null });
    }
    placements.push(groupPlacements);
  }
  return { stops, placements };
}

function compareIds(a: Allocation, b: Allocation): number {
  if (a.ID < b.ID) return -1;
  if (a.ID > b.ID) return 1;
  return 0;
}

function stopOrderIndex(alloc: Allocation): number {
  const index = allocNameIndex(alloc.Name);
  return index === -1 ? Number.MAX_SAFE_INTEGER : index;
}
