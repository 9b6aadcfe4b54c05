import type { Logger } from 'pino';
import {
  evaluatePlan,
  InFlightPlans,
  isEmptyPlan,
  type Plan,
  type PlanQueue,
  type QueuedPlan,
} from '../../scheduler/index.js';
import type { StateStore } from '../../state/store.js';
import type { WorkloadCommand } from '../../state/workload-commands.js';
import type { Allocation } from '../../structs/allocation.js';
import { type PlanEntry, planEntries } from './plan-entries.js';

/** Result that the applier returns to the worker that submitted a plan. */
export interface PlanResult {
  /** Raft index at which the accepted part of the plan is applied; the worker's next snapshot must reach it. */
  readonly index: number;
  /** Nodes whose changes were dropped; the worker plans them again on fresher state. */
  readonly refusedNodes: readonly string[];
}

/** Plans taken off the queue at once and committed together. */
const MAX_PLANS_PER_ENTRY = 64;

export interface PlanApplierDeps {
  readonly state: StateStore;
  readonly queue: PlanQueue<PlanResult>;
  /**
   * Commits a command through this leader's Raft; resolves once it is applied here. `encoded`, when
   * given, is `encodeCommand(command)`, which the applier has already computed to size its entries.
   */
  readonly commit: (command: WorkloadCommand, encoded?: Uint8Array) => Promise<number>;
  /**
   * Signs the workload identities of placed allocations and returns the signed copies, in order.
   * It may take several event-loop turns for a large plan.
   */
  readonly sign: (allocs: readonly Allocation[]) => Promise<Allocation[]>;
  readonly now: () => number;
  readonly logger: Logger;
}

/**
 * The plan applier: the one loop on the leader that turns plans into allocations. It checks each
 * plan against the newest state plus the plans it has already proposed (see the comment at the
 * top of src/scheduler/plan-queue.ts for what overlaps with what), and gathers the plans that
 * queued up meanwhile into as few Raft entries as the size limit allows. It returns to each
 * worker the commit index and the nodes it rejected. While one batch commits, the next is already
 * being checked, and batches are proposed one after another, so they apply in checking order.
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

    const checked: { queued: QueuedPlan<PlanResult>; plan: Plan; refusedNodes: string[] }[] = [];
    for (const queued of batch) {
      // A job purged since its plan was computed gets no placements: the apply would reject the
      // entry, failing every other plan in it. Its worker plans again and stops what remains.
      const placing = Object.keys(queued.plan.NodeAllocation).length > 0;
      if (placing && deps.state.job(queued.plan.Namespace, queued.plan.JobID) === null) {
        queued.fail(new Error(`job ${queued.plan.JobID} no longer exists`));
        continue;
      }
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
      checked.push({ queued, plan: evaluation.accepted, refusedNodes: evaluation.refusedNodes });
    }

    // Identities are signed before the entry is written, so they replicate with the allocations
    // and every server can verify them as soon as it applies the entry. Signing may yield to the
    // event loop, while the previous batch commits.
    const accepted: {
      queued: QueuedPlan<PlanResult>;
      plan: Plan;
      refusedNodes: string[];
      place: Allocation[];
    }[] = [];
    for (const item of checked) {
      try {
        accepted.push({ ...item, place: await deps.sign(placements(item.plan)) });
      } catch (error) {
        inFlight.remove(item.plan);
        item.queued.fail(error instanceof Error ? error : new Error(String(error)));
      }
    }
    if (accepted.length === 0) continue;

    const entries = planEntries(
      accepted.flatMap(({ place }) => place),
      accepted.flatMap(({ plan }) => Object.values(plan.NodeUpdate).flat()),
      deps.now(),
    );
    // Entries go to Raft in the order their plans were checked, so wait for the previous proposal.
    // This batch was checked as if the previous one commits: if it did not, its stops may not
    // have freed the capacity this batch counts on, so this batch goes back to its workers too.
    await previous;
    if (signal.aborted) {
      // Leadership ended while this batch waited: nothing more may be proposed for this term.
      for (const item of accepted) item.queued.fail(new Error('the plan applier stopped: leadership lost'));
      break;
    }
    if (previousFailed !== null) {
      for (const item of accepted) {
        inFlight.remove(item.plan);
        item.queued.fail(previousFailed);
      }
      previousFailed = null;
      continue;
    }
    previous = commitInOrder(deps, entries).then(
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

/**
 * Proposes the commands in order without waiting between them (the log keeps their order, and one
 * fsync can cover several). Resolves with the index of the last one once all are applied. Every
 * part settles before the batch counts as done or failed, so its plans leave the in-flight view
 * only once no part can still commit.
 */
async function commitInOrder(deps: PlanApplierDeps, entries: readonly PlanEntry[]): Promise<number> {
  const results = await Promise.allSettled(entries.map((entry) => deps.commit(entry.command, entry.bytes)));
  let index = 0;
  for (const result of results) {
    if (result.status === 'rejected') throw result.reason;
    index = Math.max(index, result.value);
  }
  return index;
}
