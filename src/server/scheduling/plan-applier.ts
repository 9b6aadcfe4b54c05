import type { Logger } from 'pino';
import {
  evaluatePlan,
  InFlightPlans,
  isEmptyPlan,
  type Plan,
  type PlanQueue,
  type QueuedPlan,
  type StopDiff,
} from '../../scheduler/index.js';
import type { StateStore } from '../../state/store.js';
import type { WorkloadCommand } from '../../state/workload-commands.js';
import type { Allocation } from '../../structs/allocation.js';

/** What the applier tells the worker that submitted a plan. */
export interface PlanResult {
  /** Raft index at which the accepted part of the plan is applied; the worker's next snapshot must reach it. */
  readonly index: number;
  /** Nodes whose changes were dropped; the worker plans them again on fresher state. */
  readonly refusedNodes: readonly string[];
}

/** Plans taken off the queue at once and committed together. */
const MAX_PLANS_PER_ENTRY = 64;
/**
 * Allocations (placed plus stopped) per Raft entry. A placed allocation encodes to about 750 bytes,
 * so 1,000 keep an entry well under the core's 1 MiB entry limit; a larger batch becomes several
 * entries, proposed in order.
 */
const MAX_ALLOCS_PER_ENTRY = 1000;

export interface PlanApplierDeps {
  readonly state: StateStore;
  readonly queue: PlanQueue<PlanResult>;
  /** Commits a command through this leader's Raft; resolves once it is applied here. */
  readonly commit: (command: WorkloadCommand) => Promise<number>;
  readonly now: () => number;
  readonly logger: Logger;
}

/**
 * The plan applier: the one loop on the leader that turns plans into allocations. It checks each
 * plan against the newest state plus the plans it has already proposed (see the comment at the
 * top of src/scheduler/plan-queue.ts for what overlaps with what), gathers the plans that queued
 * up meanwhile into a single Raft entry, and answers each worker with the commit index and the
 * nodes it refused. While one entry commits, the next batch is already being checked; entries
 * are proposed one after another, so they apply in the order they were checked.
 */
export async function runPlanApplier(deps: PlanApplierDeps, signal: AbortSignal): Promise<void> {
  const inFlight = new InFlightPlans({
    node: (id) => deps.state.node(id),
    allocsByNode: (id) => deps.state.allocationsByNode(id),
  });
  let previous: Promise<void> = Promise.resolve();
  let previousFailed: Error | null = null;
  while (!signal.aborted) {
    let first: QueuedPlan<PlanResult>;
    try {
      first = await deps.queue.waitForPlan(signal);
    } catch {
      break;
    }
    const batch = [first];
    for (let next = deps.queue.dequeue(); next !== null; next = deps.queue.dequeue()) {
      batch.push(next);
      if (batch.length >= MAX_PLANS_PER_ENTRY) break;
    }

    const accepted: { queued: QueuedPlan<PlanResult>; plan: Plan; refusedNodes: string[] }[] = [];
    for (const queued of batch) {
      const evaluation = evaluatePlan(queued.plan, inFlight);
      if (evaluation.refusedNodes.length > 0) {
        deps.logger.debug(
          { eval: queued.plan.EvalID, refused: evaluation.refusalReasons },
          'plan applier refused nodes',
        );
      }
      if (isEmptyPlan(evaluation.accepted)) {
        queued.respond({ index: deps.state.latestIndex, refusedNodes: evaluation.refusedNodes });
        continue;
      }
      inFlight.add(evaluation.accepted);
      accepted.push({ queued, plan: evaluation.accepted, refusedNodes: evaluation.refusedNodes });
    }
    if (accepted.length === 0) continue;

    const commands = planCommands(
      accepted.flatMap(({ plan }) => placements(plan)),
      accepted.flatMap(({ plan }) => Object.values(plan.NodeUpdate).flat()),
      deps.now(),
    );
    // Entries go to Raft in the order their plans were checked, so wait for the previous proposal.
    // This batch was checked as if the previous one commits: if it did not, its stops may not
    // have freed the capacity this batch counts on, so this batch goes back to its workers too.
    await previous;
    if (previousFailed !== null) {
      for (const item of accepted) {
        inFlight.remove(item.plan);
        item.queued.fail(previousFailed);
      }
      previousFailed = null;
      continue;
    }
    previous = commitInOrder(deps, commands).then(
      (index) => {
        for (const item of accepted) {
          inFlight.remove(item.plan);
          item.queued.respond({ index, refusedNodes: item.refusedNodes });
        }
      },
      (error: unknown) => {
        previousFailed = error instanceof Error ? error : new Error(String(error));
        for (const item of accepted) {
          inFlight.remove(item.plan);
          item.queued.fail(previousFailed);
        }
      },
    );
  }
  await previous;
}

function placements(plan: Plan): Allocation[] {
  return Object.values(plan.NodeAllocation).flat();
}

/** Splits a batch into plan-apply commands of at most MAX_ALLOCS_PER_ENTRY allocations. */
function planCommands(
  place: readonly Allocation[],
  stop: readonly StopDiff[],
  time: number,
): WorkloadCommand[] {
  const commands: WorkloadCommand[] = [];
  for (let start = 0; start < stop.length; start += MAX_ALLOCS_PER_ENTRY) {
    commands.push({
      type: 'plan-apply',
      v: 1,
      place: [],
      stop: stop.slice(start, start + MAX_ALLOCS_PER_ENTRY),
      evals: [],
      time,
    });
  }
  // Stops go first, so that capacity they free is there before the placements that count on it.
  for (let start = 0; start < place.length; start += MAX_ALLOCS_PER_ENTRY) {
    commands.push({
      type: 'plan-apply',
      v: 1,
      place: place.slice(start, start + MAX_ALLOCS_PER_ENTRY),
      stop: [],
      evals: [],
      time,
    });
  }
  return commands;
}

/**
 * Proposes the commands in order without waiting between them (the log keeps their order, and one
 * fsync can cover several); resolves with the index of the last one once all are applied.
 */
async function commitInOrder(deps: PlanApplierDeps, commands: readonly WorkloadCommand[]): Promise<number> {
  const indexes = await Promise.all(commands.map((command) => deps.commit(command)));
  return Math.max(0, ...indexes);
}
