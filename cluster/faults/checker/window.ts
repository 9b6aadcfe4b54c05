import type { VariableOperation } from '../history.js';
import type { CompiledOperation, KeyHistory } from './prepare.js';
import { ABSENT_STATE, ANY_EARLIER_STATE } from './register-model.js';
import { type SearchOperation, searchLinearization } from './search.js';

/** The start of a violation window: the key's first operation, or a cut after earlier operations. */
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

/** A window of a key history: the operations called up to `endNs` and not over before `cutNs`. */
export interface WindowBounds {
  /** Null: the window starts with the key's first operation, on an absent variable. */
  readonly cutNs: number | null;
  readonly endNs: number;
}

/**
 * Narrows a window of a key history, known not to be linearizable, to a short window of
 * operations that still cannot be ordered, in two bisections:
 *
 * 1. The end: the earliest return time E such that the window's operations called up to E cannot
 *    be ordered. Operations still running at E may be left out. If the longer window had an
 *    order, its operations up to E would have one too, so a failure up to E is a real violation.
 * 2. The start: the latest cut T such that the operations still running at T or called after it
 *    cannot be ordered from any state the earlier operations could have left. Operations called
 *    before T may be left out, as having taken effect before the cut. Whatever took effect before
 *    T left absent or a value written by an operation called before T, so the window is an honest
 *    explanation too.
 *
 * Each narrowing only loosens the constraints, so both bisections look for the edge between
 * windows that fail and windows that pass. A search that runs out of budget counts as a pass, so
 * the window returned is always one whose failure the search proved.
 */
export function narrowViolation(history: KeyHistory, failing: WindowBounds, budget: number): ViolationWindow {
  const compiled = history.operations;
  const counter = { statesVisited: 0 };
  const { cutNs } = failing;

  const inWindow = compiled.filter(
    (c) =>
      !c.optional && c.operation.returnNs <= failing.endNs && (cutNs === null || c.operation.callNs >= cutNs),
  );
  const returns = distinctSorted(inWindow.map((c) => c.operation.returnNs));
  const endFails = (i: number): boolean =>
    windowFails(compiled, { cutNs, endNs: returns[i]! }, budget, counter);
  const endNs =
    returns.length === 0 ? failing.endNs : returns[lastFailing(returns.length, endFails, 'first')]!;

  // A cut at the first call changes nothing but the start state, so the cuts start after it.
  const calls = distinctSorted(
    compiled.filter((c) => c.operation.callNs <= endNs).map((c) => c.operation.callNs),
  ).filter((callNs, i) => (cutNs === null ? i > 0 : callNs > cutNs));
  const cutFails = (i: number): boolean =>
    windowFails(compiled, { cutNs: calls[i]!, endNs }, budget, counter);
  const chosen = lastFailing(calls.length, cutFails, 'last');
  const bounds = { cutNs: chosen < 0 ? cutNs : calls[chosen]!, endNs };

  return {
    operations: reported(compiled, bounds),
    start: bounds.cutNs === null ? 'absent-key' : 'any-earlier-value',
    statesVisited: counter.statesVisited,
  };
}

/**
 * Looks for a violation in short overlapping windows of a key history. Each window but the first
 * starts from any state the earlier operations could have left, so a window that fails is a real
 * violation, but a violation that needs a longer stretch of history to show is not found here.
 */
export function findLocalViolation(
  history: KeyHistory,
  budget: number,
): { window: ViolationWindow | null; statesVisited: number } {
  const compiled = history.operations;
  const counter = { statesVisited: 0 };
  // Every two operations within 2 * LOCAL_WINDOW_STEP calls of each other share some window.
  for (let first = 0; first < compiled.length; first += LOCAL_WINDOW_STEP) {
    const last = Math.min(compiled.length - 1, first + 3 * LOCAL_WINDOW_STEP - 1);
    const bounds = {
      cutNs: first === 0 ? null : compiled[first]!.operation.callNs,
      endNs: compiled[last]!.operation.callNs,
    };
    if (windowFails(compiled, bounds, Math.min(budget, LOCAL_WINDOW_BUDGET), counter)) {
      const window = narrowViolation(history, bounds, budget);
      return { window, statesVisited: counter.statesVisited + window.statesVisited };
    }
    if (last === compiled.length - 1) break;
  }
  return { window: null, statesVisited: counter.statesVisited };
}

/** Calls per step of the local search; each window spans three steps. */
const LOCAL_WINDOW_STEP = 32;
/**
 * Most configurations one local window may visit. A window that needs more counts as passing, and
 * the whole search, with the full budget, still covers it.
 */
const LOCAL_WINDOW_BUDGET = 100_000;

function windowFails(
  compiled: readonly CompiledOperation[],
  bounds: WindowBounds,
  budget: number,
  counter: { statesVisited: number },
): boolean {
  const result = searchLinearization({
    operations: windowOperations(compiled, bounds),
    initial: bounds.cutNs === null ? ABSENT_STATE : ANY_EARLIER_STATE,
    earlierValues: earlierValues(compiled, bounds.cutNs),
    budget,
  });
  counter.statesVisited += result.statesVisited;
  return result.outcome === 'not-linearizable';
}

/**
 * Returns the operations of a window. Those of known outcome called at or after the cut that
 * returned by the end are required. The rest are optional, because they may have taken effect
 * before the cut or after the end, and those of unknown outcome maybe never.
 */
function windowOperations(compiled: readonly CompiledOperation[], bounds: WindowBounds): SearchOperation[] {
  const { cutNs, endNs } = bounds;
  return compiled
    .filter((c) => c.operation.callNs <= endNs && (cutNs === null || c.operation.returnNs >= cutNs))
    .map((c) => {
      const required =
        !c.optional && (cutNs === null || c.operation.callNs >= cutNs) && c.operation.returnNs <= endNs;
      return {
        callNs: c.operation.callNs,
        returnNs: required ? c.operation.returnNs : Number.POSITIVE_INFINITY,
        required,
        effect: c.effect,
      };
    });
}

/** Returns the values written by operations called before the cut, which the variable may hold at the cut. */
function earlierValues(compiled: readonly CompiledOperation[], cutNs: number | null): Set<number> {
  const values = new Set<number>();
  if (cutNs === null) return values;
  for (const c of compiled) {
    if (c.operation.callNs < cutNs && c.effect.type === 'write' && c.effect.value >= 0)
      values.add(c.effect.value);
  }
  return values;
}

/**
 * Returns the operations to show for a window. Operations of unknown outcome called before the
 * cut are left out, because the window fails with them available and so fails without them too.
 */
function reported(compiled: readonly CompiledOperation[], bounds: WindowBounds): VariableOperation[] {
  const { cutNs, endNs } = bounds;
  return compiled
    .filter((c) => c.operation.callNs <= endNs)
    .filter(
      (c) => cutNs === null || c.operation.callNs >= cutNs || (!c.optional && c.operation.returnNs >= cutNs),
    )
    .map((c) => c.operation);
}

/**
 * Finds the edge between failing and passing candidates 0..count-1 by binary search, assuming
 * failures are monotone. With `first`, it returns the first candidate that fails, given that the
 * last one does. With `last`, it returns the last one that fails, or -1 when none does, given that
 * candidate -1 (the window before any narrowing) fails.
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
