import type {
  CasOperation,
  DeleteOperation,
  GetOperation,
  History,
  PutOperation,
  VariableOperation,
} from '../../../cluster/faults/history.js';

// Builders for hand-written histories. Times are small integers; `null` as the return time means
// an unknown outcome. Ids are assigned in the order the operations are listed.

type Time = number | null;

interface Timing {
  readonly process: number;
  readonly callNs: number;
  readonly returnNs: Time;
  readonly key?: string;
}

function common(timing: Timing) {
  return {
    id: -1,
    process: timing.process,
    key: timing.key ?? 'k',
    callNs: timing.callNs,
    returnNs: timing.returnNs ?? Number.POSITIVE_INFINITY,
    outcome: timing.returnNs === null ? ('unknown' as const) : ('ok' as const),
  };
}

export function put(timing: Timing, value: string, index: number): PutOperation {
  const base = common(timing);
  return { ...base, kind: 'put', input: { value }, output: base.outcome === 'ok' ? { index } : null };
}

/** A read that returned `value` at `index`, or found nothing when `value` is null. */
export function get(timing: Timing, value: string | null, index: number | null = null): GetOperation {
  const base = common(timing);
  return { ...base, kind: 'get', input: null, output: base.outcome === 'ok' ? { value, index } : null };
}

/** A check-and-set; `index` null means it was rejected. */
export function cas(timing: Timing, value: string, casIndex: number, index: number | null): CasOperation {
  const base = common(timing);
  return {
    ...base,
    kind: 'cas',
    input: { value, casIndex },
    output: base.outcome === 'ok' ? { succeeded: index !== null, index } : null,
  };
}

export function del(timing: Timing, casIndex: number | null = null, succeeded = true): DeleteOperation {
  const base = common(timing);
  return {
    ...base,
    kind: 'delete',
    input: { casIndex },
    output: base.outcome === 'ok' ? { succeeded } : null,
  };
}

/** Marks an operation as failed: known not to have taken effect. */
export function failed<T extends VariableOperation>(operation: T): T {
  return { ...operation, outcome: 'fail', output: null };
}

export function history(...operations: VariableOperation[]): History {
  return { operations: operations.map((operation, id) => ({ ...operation, id })) };
}

/** Shorthand for the timing of process `process` from `callNs` to `returnNs`. */
export function at(process: number, callNs: number, returnNs: Time, key?: string): Timing {
  return key === undefined ? { process, callNs, returnNs } : { process, callNs, returnNs, key };
}
