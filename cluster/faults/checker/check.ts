import type { History, VariableOperation } from '../history.js';
import { type KeyHistory, partitionByKey } from './prepare.js';
import { ABSENT_STATE } from './register-model.js';
import { type SearchOperation, searchLinearization } from './search.js';
import { findLocalViolation, narrowViolation, type ViolationWindow, type WindowStart } from './window.js';

/**
 * Configurations one search may visit before it gives up, by default. Each keeps a copy of the
 * set of operations taken, one bit per operation of the key, plus about 100 bytes (an estimate),
 * so a search that uses the whole budget on a key of 2,000 operations needs roughly 350 MB.
 */
export const DEFAULT_BUDGET = 1_000_000;

export interface CheckOptions {
  /**
   * Configurations each search may visit: the whole search of a key, and each narrowing step.
   * A local window visits at most the smaller of this and 100,000. Default DEFAULT_BUDGET.
   */
  readonly budget?: number;
  /**
   * Set to false to report a violation that only the whole search finds without narrowing it: the
   * whole key history. A violation found in a short window is narrowed in any case.
   */
  readonly narrowWindow?: boolean;
}

export interface Violation {
  readonly key: string;
  /** Operations that cannot be ordered, by call time: a short window when narrowed. */
  readonly operations: readonly VariableOperation[];
  readonly start: WindowStart;
}

export type CheckResult =
  | {
      readonly outcome: 'linearizable';
      readonly keys: number;
      readonly operations: number;
      readonly statesVisited: number;
    }
  | {
      readonly outcome: 'violation';
      /** The violation of the first key in sorted order that violates. */
      readonly violation: Violation;
      /** Every key found to violate, sorted. */
      readonly violatingKeys: readonly string[];
      /** Keys whose search ran out of budget: nothing is known about them. */
      readonly exhaustedKeys: readonly string[];
      readonly statesVisited: number;
    }
  | {
      /** No violation found, but the search ran out of budget on some keys, so nothing is proven about them. */
      readonly outcome: 'unknown';
      readonly reason: 'budget-exhausted';
      readonly exhaustedKeys: readonly string[];
      readonly statesVisited: number;
    };

/**
 * Checks that a history of variable operations is linearizable against the register model of
 * Signet's variables, key by key. Pure: no I/O, no clock, no randomness.
 */
export function checkHistory(history: History, options: CheckOptions = {}): CheckResult {
  const budget = options.budget ?? DEFAULT_BUDGET;
  const narrow = options.narrowWindow !== false;
  const keys = partitionByKey(history);
  const exhaustedKeys: string[] = [];
  let statesVisited = 0;

  const violations: Violation[] = [];
  for (const key of keys) {
    const found = findViolation(key, budget, narrow);
    statesVisited += found.statesVisited;
    if (found.window !== null) {
      violations.push({ key: key.key, operations: found.window.operations, start: found.window.start });
    } else if (found.exhausted) {
      exhaustedKeys.push(key.key);
    }
  }

  const first = violations[0];
  if (first !== undefined) {
    return {
      outcome: 'violation',
      violation: first,
      violatingKeys: violations.map((violation) => violation.key),
      exhaustedKeys,
      statesVisited,
    };
  }
  if (exhaustedKeys.length > 0) {
    return { outcome: 'unknown', reason: 'budget-exhausted', exhaustedKeys, statesVisited };
  }
  return { outcome: 'linearizable', keys: keys.length, operations: history.operations.length, statesVisited };
}

/**
 * Checks one key. Short windows come first: they find a violation that shows within a few dozen
 * calls in far fewer states than the whole search, which must rule out every order of everything
 * before the violation. The whole search then finds violations that span longer stretches.
 */
function findViolation(
  key: KeyHistory,
  budget: number,
  narrow: boolean,
): { window: ViolationWindow | null; exhausted: boolean; statesVisited: number } {
  const local = findLocalViolation(key, budget);
  if (local.window !== null)
    return { window: local.window, exhausted: false, statesVisited: local.statesVisited };

  const result = searchLinearization({
    operations: key.operations.map(wholeHistoryOperation),
    initial: ABSENT_STATE,
    earlierValues: new Set(),
    budget,
  });
  const statesVisited = local.statesVisited + result.statesVisited;
  if (result.outcome === 'linearizable') return { window: null, exhausted: false, statesVisited };
  if (result.outcome === 'budget-exhausted') return { window: null, exhausted: true, statesVisited };

  const whole = { cutNs: null, endNs: Number.POSITIVE_INFINITY };
  const window: ViolationWindow = narrow
    ? narrowViolation(key, whole, budget)
    : { operations: key.operations.map((c) => c.operation), start: 'absent-key', statesVisited: 0 };
  return { window, exhausted: false, statesVisited: statesVisited + window.statesVisited };
}

function wholeHistoryOperation(compiled: KeyHistory['operations'][number]): SearchOperation {
  return {
    callNs: compiled.operation.callNs,
    returnNs: compiled.operation.returnNs,
    required: !compiled.optional,
    effect: compiled.effect,
  };
}
