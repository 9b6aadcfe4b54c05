/*
 * How scheduling overlaps on the leader
 *
 * Workers, on any server, each take one evaluation from the leader's broker, read a state snapshot,
 * compute a plan with `computePlan` and submit it here. Many workers plan at once, each on its
 * own snapshot, and a snapshot may already be stale when its plan is computed: another plan may
 * have committed since, a node may have gone down. The broker never delivers two evaluations of
 * one job at once, so concurrent plans never disagree about a job's own allocations. They can
 * still compete for the same node capacity.
 *
 * The plan applier, a single loop on the leader, is the only place where that competition is
 * settled. It takes one plan at a time from this queue and checks it with `evaluatePlan` against
 * the newest state it has, not against the worker's snapshot. The newest state is the applied
 * state plus the accepted plans already proposed to Raft but not yet applied (`InFlightPlans`).
 * While plan N is being replicated and applied, the applier is already evaluating plan N+1 on top
 * of it. Capacity stays within bounds because:
 * - plans are evaluated one after another, never two at once, and
 * - each evaluation counts every allocation that will exist once the earlier plans apply, so a
 *   node's allocations fit its resources both before and after the plan;
 * - stops only ever free capacity, and an allocation placed by a plan that then fails to commit
 *   only made the check stricter than needed.
 * Nodes that fail the check are dropped and reported back, a partial commit as in Nomad. The
 * worker then refreshes its snapshot to at least the index of the commit and plans the rest again.
 *
 * The applier waits for the state to reach the plan's `SnapshotIndex` (or the index of the last
 * plan it committed) before evaluating, so that it never judges a plan against state older than
 * what the worker saw. On leadership loss, `setEnabled(false)` fails every queued plan; the
 * workers nack their evaluations and the new leader restores them from state.
 */
import { SchedulerError } from './errors.js';
import type { Plan } from './plan.js';
import { PriorityHeap } from './priority-heap.js';

/** A plan taken off the queue. The applier calls exactly one of `respond` and `fail`, which settles the submitter's promise. */
export interface QueuedPlan<Result> {
  readonly plan: Plan;
  respond(result: Result): void;
  fail(error: Error): void;
}

interface Entry<Result> {
  readonly plan: Plan;
  readonly seq: number;
  readonly resolve: (result: Result) => void;
  readonly reject: (error: Error) => void;
}

interface Waiter<Result> {
  readonly resolve: (queued: QueuedPlan<Result>) => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

/**
 * The leader's queue of submitted plans: higher job priority first, FIFO within a priority.
 * `Result` is whatever the plan applier returns to a worker. The queue contains at most one plan per
 * worker, since a worker waits for its plan's result before planning again. It starts disabled.
 */
export class PlanQueue<Result> {
  #enabled = false;
  #seq = 0;
  readonly #heap = new PriorityHeap<Entry<Result>>((a, b) =>
    a.plan.Priority !== b.plan.Priority ? a.plan.Priority > b.plan.Priority : a.seq < b.seq,
  );
  #waiters: Waiter<Result>[] = [];

  get enabled(): boolean {
    return this.#enabled;
  }

  /** Plans waiting for the applier. */
  get size(): number {
    return this.#heap.size;
  }

  /**
   * Enables the queue when this server becomes leader, or disables it when leadership is lost.
   * Disabling rejects every queued plan and the applier's pending `waitForPlan` with
   * `PLAN_QUEUE_DISABLED`.
   */
  setEnabled(enabled: boolean): void {
    if (enabled === this.#enabled) return;
    this.#enabled = enabled;
    if (enabled) return;

    for (const entry of this.#heap.clear()) entry.reject(disabledError(entry.plan.EvalID));
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(disabledError(''));
    }
  }

  /**
   * Submits a plan and resolves with the applier's result, or rejects with the applier's error, or
   * with `PLAN_QUEUE_DISABLED` when the queue is or becomes disabled before the plan is taken.
   */
  enqueue(plan: Plan): Promise<Result> {
    if (!this.#enabled) return Promise.reject(disabledError(plan.EvalID));
    return new Promise<Result>((resolve, reject) => {
      this.#heap.push({ plan, seq: this.#seq++, resolve, reject });
      this.#dispatch();
    });
  }

  /** Takes the next plan, or returns null when none is queued or the queue is disabled. */
  dequeue(): QueuedPlan<Result> | null {
    if (!this.#enabled) return null;
    const entry = this.#heap.pop();
    return entry === undefined ? null : toQueuedPlan(entry);
  }

  /**
   * Takes the next plan, waiting until one is submitted. Rejects with `PLAN_QUEUE_DISABLED` when
   * the queue is or becomes disabled, and with the signal's reason when `signal` aborts.
   */
  waitForPlan(signal?: AbortSignal): Promise<QueuedPlan<Result>> {
    if (!this.#enabled) return Promise.reject(disabledError(''));
    if (signal?.aborted) return Promise.reject(signal.reason);
    const queued = this.dequeue();
    if (queued !== null) return Promise.resolve(queued);

    return new Promise<QueuedPlan<Result>>((resolve, reject) => {
      const waiter: Waiter<Result> = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          this.#waiters = this.#waiters.filter((other) => other !== waiter);
          reject(signal!.reason);
        },
      };
      this.#waiters.push(waiter);
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
    });
  }

  #dispatch(): void {
    while (this.#waiters.length > 0 && this.#heap.size > 0) {
      const waiter = this.#waiters.shift()!;
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(toQueuedPlan(this.#heap.pop()!));
    }
  }
}

function toQueuedPlan<Result>(entry: Entry<Result>): QueuedPlan<Result> {
  return { plan: entry.plan, respond: entry.resolve, fail: entry.reject };
}

function disabledError(evalId: string): SchedulerError {
  return new SchedulerError(
    'PLAN_QUEUE_DISABLED',
    'plan queue is disabled: this server is no longer the leader; nack the evaluation so the new leader plans it again',
    evalId,
  );
}
