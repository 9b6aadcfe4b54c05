import type { VariableOperation } from '../history.js';
import type { CallResult, VariableCall } from './variable-call.js';

/**
 * Nanoseconds on the monotonic clock (CLOCK_MONOTONIC on Linux), which every process of the
 * machine shares, so that operations recorded by the runner and by the load process order
 * correctly against each other.
 */
export function monotonicNs(): bigint {
  return process.hrtime.bigint();
}

/** Added to a client's process number for the reads that its lost check-and-sets return. */
export const OBSERVER_PROCESS_OFFSET = 1_000_000;

/**
 * First process number of the runner's own calls. It lies above every client process and every
 * observer process (client + OBSERVER_PROCESS_OFFSET), because the runner's first calls overlap
 * the load's last ones, and one process may have only one call open at a time.
 */
export const RUNNER_FIRST_PROCESS = 2 * OBSERVER_PROCESS_OFFSET;

/**
 * Records operations in the history format. Times count from `originNs`, a monotonicNs() reading
 * taken by the runner before anything else starts, so they stay safe integers for days. Ids start
 * at `firstId`, so that several recorders of one run never share an id.
 */
export class HistoryRecorder {
  readonly #originNs: bigint;
  readonly #operations: VariableOperation[] = [];
  #nextId: number;

  constructor(originNs: bigint, firstId = 0) {
    this.#originNs = originNs;
    this.#nextId = firstId;
  }

  /** Nanoseconds since the origin, now. */
  now(): number {
    return Number(monotonicNs() - this.#originNs);
  }

  /**
   * Appends one finished call. `returnNs` is ignored when the outcome is `unknown`: such a call may
   * take effect at any time after its call, so its return is +infinity.
   */
  record(process: number, call: VariableCall, callNs: number, returnNs: number, result: CallResult): void {
    this.#recordCall(process, call, callNs, returnNs, result);
    // The read inside a lost check-and-set gets a process of its own, because the history allows
    // one operation at a time per process and the read shares the call's interval.
    if (result.observed !== undefined) {
      this.#operations.push({
        id: this.#nextId++,
        process: OBSERVER_PROCESS_OFFSET + process,
        key: call.key,
        callNs,
        returnNs,
        outcome: 'ok',
        kind: 'get',
        input: null,
        output: result.observed,
      });
    }
  }

  #recordCall(
    process: number,
    call: VariableCall,
    callNs: number,
    returnNs: number,
    result: CallResult,
  ): void {
    const common = {
      id: this.#nextId++,
      process,
      key: call.key,
      callNs,
      returnNs: result.outcome === 'unknown' ? Number.POSITIVE_INFINITY : returnNs,
      outcome: result.outcome,
    };
    // The casts are safe because sendVariableCall builds each result for the kind of its call, so
    // the output always has the shape of that kind.
    switch (call.kind) {
      case 'get':
        this.#operations.push({ ...common, kind: 'get', input: null, output: result.output as never });
        return;
      case 'put':
        this.#operations.push({
          ...common,
          kind: 'put',
          input: { value: call.value },
          output: result.output as never,
        });
        return;
      case 'cas':
        this.#operations.push({
          ...common,
          kind: 'cas',
          input: { value: call.value, casIndex: call.casIndex },
          output: result.output as never,
        });
        return;
      case 'delete':
        this.#operations.push({
          ...common,
          kind: 'delete',
          input: { casIndex: call.casIndex },
          output: result.output as never,
        });
        return;
    }
  }

  get count(): number {
    return this.#operations.length;
  }

  /** The id the next recorded operation gets. */
  get nextId(): number {
    return this.#nextId;
  }

  operations(): readonly VariableOperation[] {
    return this.#operations;
  }
}
