import type { VariableOperation } from '../history.js';
import type { CompiledOperation, KeyHistory } from './prepare.js';
import { ABSENT_STATE, ANY_EARLIER_STATE } from './register-model.js';
import { type SearchOperation, searchLinearization } from './search.js';

/** Where a violation window starts: at the key's first operation, or after earlier operations. */
export type WindowStart = 'absent-key' | 'any-earlier-value';

export interface ViolationWindow {
  /** The operations that cannot be ordered, by call time. */
  readonly operations: readonly VariableOperation[];
  /**
   * `absent-key`: the window starts with the key's first operation, on an absent variable.
   * `any-earlier-value`: it starts from any state that the operations called before the window
   * could have left (absent, or any value they wrote), and still no order fits.
   */
  readonly start: WindowStart;
  readonly statesVisited: number;
}

/**
 * Narrows a key history known not to be linearizable to a short window of operations that still
 * cannot be ordered, in two bisections:
 *
 * 1. The end: the earliest return time E such that the operations called up to E cannot be
 *    ordered. Operations still running at E may be left out. If the whole history were
 *    linearizable, each such prefix would be too, so the failure of a prefix is a real violation.
 * 2. The start: the latest cut T such that the operations of that prefix still running at T or
 *    called after it cannot be ordered from any state the earlier operations could have left.
 *    Operations called before T may be left out, as having taken effect before the cut. Whatever
 *    took effect before T left absent or a value written by an operation called before T, so the
 *    window is an honest explanation too.
 *
 * Each narrowing only loosens the constraints, so both bisections look for the edge between
 * windows that fail and windows that pass. A search that runs out of budget counts as a pass, so
 * the window returned is always one whose failure the search proved.
 */
export function findViolationWindow(history: KeyHistory, budget: number): ViolationWindow {
  const compiled = history.operations;
  let statesVisited = 0;
  const fails = (operations: SearchOperation[], cutNs: number | null, earlier: Set<number>): boolean => {
    const result = searchLinearization({
      operations,
      initial: cutNs === null ? ABSENT_STATE : ANY_EARLIER_STATE,
      earlierValues: earlier,
      budget,
    });
    statesVisited += result.statesVisited;
    return result.outcome === 'not-linearizable';
  };

  // The whole key history fails, so the prefix that ends at the last return fails too.
  const returns = distinctSorted(compiled.filter((c) => !c.optional).map((c) => c.operation.returnNs));
  const prefixFails = (i: number): boolean => fails(prefix(compiled, returns[i]!), null, new Set());
  const endNs = returns[lastFailing(returns.length, prefixFails, 'first')]!;
  const ending = compiled.filter((c) => c.operation.callNs <= endNs);

  // A cut at the first call changes nothing but the start state, so the cuts start at the second.
  const cuts = distinctSorted(ending.map((c) => c.operation.callNs)).slice(1);
  const windowFails = (i: number): boolean => {
    const window = cut(ending, endNs, cuts[i]!);
    return fails(window.operations, cuts[i]!, window.earlier);
  };
  const chosen = lastFailing(cuts.length, windowFails, 'last');

  const startNs = chosen < 0 ? Number.NEGATIVE_INFINITY : cuts[chosen]!;
  return {
    operations: ending.filter((c) => c.operation.returnNs >= startNs).map((c) => c.operation),
    start: chosen < 0 ? 'absent-key' : 'any-earlier-value',
    statesVisited,
  };
}

/** The operations called up to `endNs`, with those still running then made optional. */
function prefix(compiled: readonly CompiledOperation[], endNs: number): SearchOperation[] {
  return compiled
    .filter((c) => c.operation.callNs <= endNs)
    .map((c) => toSearch(c, !c.optional && c.operation.returnNs <= endNs));
}

/** The window of `ending` from `cutNs` on, and the values written before the cut. */
function cut(
  ending: readonly CompiledOperation[],
  endNs: number,
  cutNs: number,
): { operations: SearchOperation[]; earlier: Set<number> } {
  const earlier = new Set<number>();
  for (const c of ending) {
    if (c.operation.callNs < cutNs && c.effect.type === 'write' && c.effect.value >= 0)
      earlier.add(c.effect.value);
  }
  const operations = ending
    .filter((c) => c.operation.returnNs >= cutNs)
    .map((c) => toSearch(c, !c.optional && c.operation.callNs >= cutNs && c.operation.returnNs <= endNs));
  return { operations, earlier };
}

function toSearch(compiled: CompiledOperation, required: boolean): SearchOperation {
  return {
    callNs: compiled.operation.callNs,
    returnNs: required ? compiled.operation.returnNs : Number.POSITIVE_INFINITY,
    required,
    effect: compiled.effect,
  };
}

/**
 * Binary search over candidates 0..count-1, whose failures are monotone: for `first`, the first
 * candidate that fails, given that the last one does; for `last`, the last one that fails, or -1
 * when none does (candidate -1, the whole prefix, is known to fail).
 */
function lastFailing(count: number, fails: (i: number) => boolean, find: 'first' | 'last'): number {
  if (find === 'first') {
    let low = 0;
    let high = count - 1;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (fails(middle)) high = middle;
      else low = middle + 1;
    }
    return high;
  }
  let low = -1;
  let high = count - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if (fails(middle)) low = middle;
    else high = middle - 1;
  }
  return low;
}

function distinctSorted(values: readonly number[]): number[] {
  return [...new Set(values)].sort((a, b) => a - b);
}
