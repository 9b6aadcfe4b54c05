import type { Evaluation } from '../structs/evaluation.js';
import { SchedulerError } from './errors.js';
import { PriorityHeap } from './priority-heap.js';

/** An evaluation handed to one worker, with the token that the worker's ack or nack must carry. */
export interface EvalDelivery {
  readonly eval: Evaluation;
  readonly token: string;
}

export interface EvalBrokerOptions {
  /** Generates delivery tokens; the only source of new identifiers. */
  readonly newToken: () => string;
  /** Time a delivery may stay unacked before the broker takes it back. Default 60,000 ms, as Nomad. */
  readonly nackTimeoutMs?: number;
  /** Deliveries of one evaluation before it moves to the failed list. Default 3, as Nomad. */
  readonly deliveryLimit?: number;
  /** Wait before a first nacked evaluation is ready again. Default 1,000 ms, as Nomad. */
  readonly initialNackDelayMs?: number;
  /** Wait after any later nack. Default 20,000 ms, as Nomad. */
  readonly subsequentNackDelayMs?: number;
  /** Clock reading at construction, in ms; `tick` moves it on. Default 0. */
  readonly now?: number;
}

/** Queue sizes, in the terms of Nomad's broker stats. */
export interface EvalBrokerStats {
  /** Ready to be dequeued. */
  readonly totalReady: number;
  /** Delivered and not yet acked or nacked. */
  readonly totalUnacked: number;
  /** Waiting behind another evaluation of the same job. */
  readonly totalPending: number;
  /** Nacked, waiting out their nack delay. */
  readonly totalWaiting: number;
  /** Past the delivery limit, until `takeFailed` collects them. */
  readonly totalFailed: number;
  /** Workers parked in `waitForEval`. */
  readonly totalWaiters: number;
}

interface Queued {
  readonly eval: Evaluation;
  /** Enqueue order, for FIFO among equal priorities. */
  readonly seq: number;
}

interface Delayed extends Queued {
  readonly readyAt: number;
}

interface Unacked {
  readonly eval: Evaluation;
  readonly token: string;
  /** Clock reading at which the delivery times out, or null while paused. */
  deadline: number | null;
}

interface JobSlot {
  /** Invariant: the job's evaluation that is ready, unacked or delayed; the others wait in `pending`. */
  outstanding: string;
  readonly pending: PriorityHeap<Queued>;
}

interface Waiter {
  readonly resolve: (delivery: EvalDelivery) => void;
  readonly reject: (reason: unknown) => void;
  readonly signal: AbortSignal | undefined;
  readonly onAbort: () => void;
}

const byPriorityThenFifo = (a: Queued, b: Queued): boolean =>
  a.eval.Priority !== b.eval.Priority ? a.eval.Priority > b.eval.Priority : a.seq < b.seq;

/**
 * The leader's queue of pending evaluations. It is pure: time moves only through `tick(now)`
 * and tokens come from the injected generator, so tests drive it without timers.
 *
 * Each job has at most one evaluation outstanding: ready, delivered, or waiting out a nack delay.
 * Later evaluations of the job wait behind it, and the one of highest priority becomes ready
 * when it is acked or fails. Two workers therefore never plan the same job at once, so their plans never
 * conflict over that job's allocations. Deliveries that are nacked or not acked within the nack
 * timeout come back after a delay, and an evaluation delivered `deliveryLimit` times goes to the
 * failed list instead, for the leader to mark failed in state.
 *
 * The broker starts disabled. Only the leader enables it, and `setEnabled(false)` on leadership
 * loss drops every evaluation, because the next leader restores pending ones from state.
 */
export class EvalBroker {
  readonly #newToken: () => string;
  readonly #nackTimeoutMs: number;
  readonly #deliveryLimit: number;
  readonly #initialNackDelayMs: number;
  readonly #subsequentNackDelayMs: number;

  #enabled = false;
  #now: number;
  #seq = 0;
  readonly #ready = new PriorityHeap<Queued>(byPriorityThenFifo);
  readonly #delayed = new PriorityHeap<Delayed>((a, b) =>
    a.readyAt !== b.readyAt ? a.readyAt < b.readyAt : a.seq < b.seq,
  );
  readonly #unacked = new Map<string, Unacked>();
  readonly #jobs = new Map<string, JobSlot>();
  /** Deliveries so far of each evaluation in the broker. Invariant: its keys are the known evaluations. */
  readonly #deliveries = new Map<string, number>();
  #failed: Evaluation[] = [];
  /**
   * Evaluations that reached the delivery limit, until the caller reports their failed status
   * recorded. State still shows them pending until then, and a scan must not bring them back.
   */
  readonly #unrecordedFailures = new Set<string>();
  #waiters: Waiter[] = [];

  constructor(options: EvalBrokerOptions) {
    this.#newToken = options.newToken;
    this.#nackTimeoutMs = positive('nackTimeoutMs', options.nackTimeoutMs ?? 60_000);
    this.#deliveryLimit = positive('deliveryLimit', options.deliveryLimit ?? 3);
    this.#initialNackDelayMs = nonNegative('initialNackDelayMs', options.initialNackDelayMs ?? 1_000);
    this.#subsequentNackDelayMs = nonNegative(
      'subsequentNackDelayMs',
      options.subsequentNackDelayMs ?? 20_000,
    );
    this.#now = options.now ?? 0;
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  /**
   * Enables the broker when this server becomes leader, or disables it when it stops being leader.
   * Disabling drops every evaluation, including the failed list, and rejects parked workers with
   * `BROKER_DISABLED`.
   */
  setEnabled(enabled: boolean): void {
    if (enabled === this.#enabled) return;
    this.#enabled = enabled;
    if (enabled) return;

    this.#ready.clear();
    this.#delayed.clear();
    this.#unacked.clear();
    this.#jobs.clear();
    this.#deliveries.clear();
    this.#failed = [];
    this.#unrecordedFailures.clear();
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) {
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(disabledError());
    }
  }

  /**
   * Adds a pending evaluation. Returns false when the broker is disabled and the evaluation was
   * dropped, which is expected on a server that just lost leadership. An evaluation already in the
   * broker is not added twice.
   */
  enqueue(evaluation: Evaluation): boolean {
    if (!this.#enabled) return false;
    if (this.#deliveries.has(evaluation.ID) || this.#unrecordedFailures.has(evaluation.ID)) return true;

    this.#deliveries.set(evaluation.ID, 0);
    const queued: Queued = { eval: evaluation, seq: this.#seq++ };
    const key = jobKey(evaluation);
    const slot = this.#jobs.get(key);
    if (slot !== undefined) {
      slot.pending.push(queued);
      return true;
    }
    this.#jobs.set(key, { outstanding: evaluation.ID, pending: new PriorityHeap(byPriorityThenFifo) });
    this.#ready.push(queued);
    this.#dispatch();
    return true;
  }

  /** Delivers the ready evaluation of highest priority, oldest first, or returns null when none is ready. */
  dequeue(): EvalDelivery | null {
    if (!this.#enabled) return null;
    const queued = this.#ready.pop();
    return queued === undefined ? null : this.#deliver(queued.eval);
  }

  /**
   * Delivers the next ready evaluation, parking the caller until one is ready. Workers are
   * served in the order they called. Rejects with `BROKER_DISABLED` when the broker is or
   * becomes disabled, and with the signal's reason when `signal` aborts.
   */
  waitForEval(signal?: AbortSignal): Promise<EvalDelivery> {
    if (!this.#enabled) return Promise.reject(disabledError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    const delivery = this.dequeue();
    if (delivery !== null) return Promise.resolve(delivery);

    return new Promise<EvalDelivery>((resolve, reject) => {
      const waiter: Waiter = {
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

  /** Completes a delivery: the evaluation leaves the broker and the next one of its job becomes ready. */
  ack(evalId: string, token: string): void {
    const delivery = this.#outstanding('ack', evalId, token);
    this.#unacked.delete(evalId);
    this.#forget(delivery.eval);
  }

  /** Gives a delivery back: the evaluation is ready again after the nack delay, or fails at the delivery limit. */
  nack(evalId: string, token: string): void {
    const delivery = this.#outstanding('nack', evalId, token);
    this.#unacked.delete(evalId);
    this.#retry(delivery.eval);
  }

  /** Token of the evaluation's current delivery, or null when it is not delivered. */
  outstandingToken(evalId: string): string | null {
    return this.#unacked.get(evalId)?.token ?? null;
  }

  /** Stops the nack timeout of a delivery, while its plan waits in the plan queue. */
  pauseNackTimeout(evalId: string, token: string): void {
    this.#outstanding('pause the nack timeout of', evalId, token).deadline = null;
  }

  /** Restarts a full nack timeout for a delivery, once the plan applier has returned its plan's result. */
  resumeNackTimeout(evalId: string, token: string): void {
    this.#outstanding('resume the nack timeout of', evalId, token).deadline = this.#now + this.#nackTimeoutMs;
  }

  /**
   * Moves the clock to `now` (ms, from the same clock as the `now` option): deliveries past their
   * nack timeout are taken back as if nacked, and nacked evaluations whose delay has passed become
   * ready. A reading earlier than the last one is ignored, so the clock never goes back.
   */
  tick(now: number): void {
    if (!this.#enabled || now < this.#now) return;
    this.#now = now;

    for (const [evalId, delivery] of this.#unacked) {
      if (delivery.deadline === null || delivery.deadline > now) continue;
      this.#unacked.delete(evalId);
      this.#retry(delivery.eval);
    }
    for (
      let next = this.#delayed.peek();
      next !== undefined && next.readyAt <= now;
      next = this.#delayed.peek()
    ) {
      this.#delayed.pop();
      this.#ready.push({ eval: next.eval, seq: this.#seq++ });
    }
    this.#dispatch();
  }

  /**
   * Returns and clears the evaluations that reached the delivery limit. They stay out of the broker
   * (enqueue ignores them) until `recordedFailed` reports their failed status applied.
   */
  takeFailed(): Evaluation[] {
    const failed = this.#failed;
    this.#failed = [];
    for (const evaluation of failed) this.#unrecordedFailures.add(evaluation.ID);
    return failed;
  }

  /** Reports that the failed status of these evaluations is applied to the state. */
  recordedFailed(evalIds: readonly string[]): void {
    for (const id of evalIds) this.#unrecordedFailures.delete(id);
  }

  stats(): EvalBrokerStats {
    let totalPending = 0;
    for (const slot of this.#jobs.values()) totalPending += slot.pending.size;
    return {
      totalReady: this.#ready.size,
      totalUnacked: this.#unacked.size,
      totalPending,
      totalWaiting: this.#delayed.size,
      totalFailed: this.#failed.length,
      totalWaiters: this.#waiters.length,
    };
  }

  #deliver(evaluation: Evaluation): EvalDelivery {
    const token = this.#newToken();
    this.#deliveries.set(evaluation.ID, (this.#deliveries.get(evaluation.ID) ?? 0) + 1);
    this.#unacked.set(evaluation.ID, { eval: evaluation, token, deadline: this.#now + this.#nackTimeoutMs });
    return { eval: evaluation, token };
  }

  /** Hands ready evaluations to parked workers. Invariant afterwards: no worker waits while one is ready. */
  #dispatch(): void {
    while (this.#waiters.length > 0 && this.#ready.size > 0) {
      const waiter = this.#waiters.shift()!;
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.resolve(this.#deliver(this.#ready.pop()!.eval));
    }
  }

  #retry(evaluation: Evaluation): void {
    const deliveries = this.#deliveries.get(evaluation.ID) ?? 0;
    if (deliveries >= this.#deliveryLimit) {
      this.#failed.push(evaluation);
      this.#forget(evaluation);
      return;
    }
    const delay = deliveries <= 1 ? this.#initialNackDelayMs : this.#subsequentNackDelayMs;
    this.#delayed.push({ eval: evaluation, seq: this.#seq++, readyAt: this.#now + delay });
  }

  /** Removes an evaluation that left the broker and promotes the next evaluation of its job. */
  #forget(evaluation: Evaluation): void {
    this.#deliveries.delete(evaluation.ID);
    const key = jobKey(evaluation);
    const slot = this.#jobs.get(key);
    if (slot === undefined || slot.outstanding !== evaluation.ID) return;

    const next = slot.pending.pop();
    if (next === undefined) {
      this.#jobs.delete(key);
      return;
    }
    slot.outstanding = next.eval.ID;
    this.#ready.push(next);
    this.#dispatch();
  }

  #outstanding(action: string, evalId: string, token: string): Unacked {
    const delivery = this.#unacked.get(evalId);
    if (delivery === undefined) {
      throw new SchedulerError(
        'EVAL_NOT_OUTSTANDING',
        `cannot ${action} evaluation ${evalId}: it is not delivered (already acked or nacked, timed out, or dropped on leadership loss)`,
        evalId,
      );
    }
    if (delivery.token !== token) {
      throw new SchedulerError(
        'TOKEN_MISMATCH',
        `cannot ${action} evaluation ${evalId}: token ${token} is not the current delivery's; it timed out and was delivered again`,
        evalId,
      );
    }
    return delivery;
  }
}

function jobKey(evaluation: Evaluation): string {
  return JSON.stringify([evaluation.Namespace, evaluation.JobID]);
}

function disabledError(): SchedulerError {
  return new SchedulerError(
    'BROKER_DISABLED',
    'evaluation broker is disabled: this server is not the leader',
  );
}

function positive(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`invalid ${name}: ${value}, expected a positive integer`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0)
    throw new RangeError(`invalid ${name}: ${value}, expected a number >= 0`);
  return value;
}
