import type { Logger } from 'pino';
import {
  computePlan,
  type EvalBroker,
  type EvalDelivery,
  isEmptyPlan,
  type PlanQueue,
} from '../../scheduler/index.js';
import type { StateStore } from '../../state/store.js';
import type { WorkloadCommand } from '../../state/workload-commands.js';
import { isTerminal } from '../../structs/allocation.js';
import type { Evaluation } from '../../structs/evaluation.js';
import type { PlanResult } from './plan-applier.js';

/** Attempts at one evaluation when the plan applier keeps refusing nodes, before it is nacked. */
const MAX_PLAN_ATTEMPTS = 5;

export interface WorkerDeps {
  readonly state: StateStore;
  readonly broker: EvalBroker;
  readonly queue: PlanQueue<PlanResult>;
  readonly commit: (command: WorkloadCommand) => Promise<number>;
  /** Resolves once this server has applied `index`. */
  readonly waitForApplied: (index: number) => Promise<void>;
  readonly newId: () => string;
  readonly now: () => number;
  readonly logger: Logger;
}

/** Takes evaluations from the broker until `signal` aborts, and processes each one. */
export async function runWorker(deps: WorkerDeps, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    let delivery: EvalDelivery;
    try {
      delivery = await deps.broker.waitForEval(signal);
    } catch {
      return;
    }
    try {
      await processEvaluation(deps, delivery);
      deps.broker.ack(delivery.eval.ID, delivery.token);
    } catch (err) {
      if (signal.aborted) return;
      deps.logger.warn(
        { err, eval: delivery.eval.ID, job: delivery.eval.JobID },
        'evaluation failed; it will be retried',
      );
      try {
        deps.broker.nack(delivery.eval.ID, delivery.token);
      } catch {
        // The broker was disabled or the delivery timed out meanwhile; the eval is redelivered or restored.
      }
    }
  }
}

/**
 * Plans one evaluation on the newest local state, submits the plan, and records the evaluation's
 * outcome. Groups that found no node leave a blocked evaluation behind (or keep this one blocked
 * when it already was the blocked one), which the leader unblocks when capacity changes.
 */
export async function processEvaluation(deps: WorkerDeps, delivery: EvalDelivery): Promise<void> {
  const evaluation = delivery.eval;
  for (let attempt = 0; attempt < MAX_PLAN_ATTEMPTS; attempt++) {
    const { state } = deps;
    const nodes = state.nodes();
    const nodeAllocs = new Map(
      nodes.map((node) => [node.ID, state.allocationsByNode(node.ID).filter((alloc) => !isTerminal(alloc))]),
    );
    const plan = computePlan({
      eval: evaluation,
      job: state.job(evaluation.Namespace, evaluation.JobID),
      nodes,
      allocs: state.allocationsByJob(evaluation.Namespace, evaluation.JobID),
      nodeAllocs,
      newId: deps.newId,
      now: deps.now(),
      snapshotIndex: state.latestIndex,
    });
    if (!isEmptyPlan(plan)) {
      // A queued plan is not a stuck worker: the broker must not redeliver the eval meanwhile.
      deps.broker.pauseNackTimeout(evaluation.ID, delivery.token);
      let result: PlanResult;
      try {
        result = await deps.queue.enqueue(plan);
      } finally {
        deps.broker.resumeNackTimeout(evaluation.ID, delivery.token);
      }
      if (result.refusedNodes.length > 0) {
        await deps.waitForApplied(result.index);
        continue;
      }
    }
    await deps.commit({ type: 'eval-upsert', v: 1, evals: outcome(deps, evaluation, plan.FailedTGAllocs) });
    return;
  }
  throw new Error(
    `plan failed: the plan applier rejected nodes ${MAX_PLAN_ATTEMPTS} times in a row; the evaluation is retried`,
  );
}

function outcome(
  deps: WorkerDeps,
  evaluation: Evaluation,
  failed: Readonly<Record<string, number>>,
): Evaluation[] {
  const now = deps.now();
  if (Object.keys(failed).length === 0) {
    return [
      { ...evaluation, Status: 'complete', StatusDescription: '', QueuedAllocations: {}, ModifyTime: now },
    ];
  }
  const summary = Object.entries(failed)
    .map(([group, count]) => `${count} of group ${group}`)
    .join(', ');
  if (evaluation.TriggeredBy === 'queued-allocs') {
    return [
      {
        ...evaluation,
        Status: 'blocked',
        StatusDescription: `still cannot place ${summary}`,
        QueuedAllocations: failed,
        ModifyTime: now,
      },
    ];
  }
  // One blocked evaluation per job, as Nomad keeps: a later one that cannot place either points at
  // the one already waiting and refreshes what it waits for.
  const waiting = deps.state
    .evaluationsByJob(evaluation.Namespace, evaluation.JobID)
    .find((other) => other.Status === 'blocked' && other.ID !== evaluation.ID);
  if (waiting !== undefined) {
    return [
      {
        ...evaluation,
        Status: 'complete',
        StatusDescription: `cannot place ${summary}; blocked evaluation ${waiting.ID} waits for capacity`,
        BlockedEval: waiting.ID,
        QueuedAllocations: failed,
        ModifyTime: now,
      },
      {
        ...waiting,
        StatusDescription: `waiting to place ${summary}`,
        QueuedAllocations: failed,
        ModifyTime: now,
      },
    ];
  }
  const blockedId = deps.newId();
  return [
    {
      ...evaluation,
      Status: 'complete',
      StatusDescription: `cannot place ${summary}; blocked evaluation ${blockedId} waits for capacity`,
      BlockedEval: blockedId,
      QueuedAllocations: failed,
      ModifyTime: now,
    },
    {
      ...evaluation,
      ID: blockedId,
      Status: 'blocked',
      TriggeredBy: 'queued-allocs',
      StatusDescription: `waiting to place ${summary}`,
      PreviousEval: evaluation.ID,
      BlockedEval: '',
      QueuedAllocations: failed,
      CreateIndex: 0,
      ModifyIndex: 0,
      CreateTime: now,
      ModifyTime: now,
    },
  ];
}
