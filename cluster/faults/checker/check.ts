import type { History, VariableOperation } from '../history.js';
import { type KeyHistory, partitionByKey } from './prepare.js';
import { ABSENT_STATE } from './register-model.js';
import { type SearchOperation, searchLinearization } from './search.js';
import { findViolationWindow, type WindowStart } from './window.js';

/**
 * Configurations one search may visit before it gives up, by default. Each costs about 100 bytes
 * plus a bitset of one bit per operation of the key, so a key of 2,000 operations stays under
 * about 400 MB.
 */
export const DEFAULT_BUDGET = 1_000_000;

export interface CheckOptions {
  /** Configurations each search may visit, per key and per window step. Default DEFAULT_BUDGET. */
  readonly budget?: number;
  /** Set to false to report a violation without narrowing it to a window (the whole key history). */
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
      /** The first key in sorted order that violates, narrowed. */
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
  const keys = partitionByKey(history);
  const violating: KeyHistory[] = [];
  const exhaustedKeys: string[] = [];
  let statesVisited = 0;

  for (const key of keys) {
    const result = searchLinearization({
      operations: key.operations.map(wholeHistoryOperation),
      initial: ABSENT_STATE,
      earlierValues: new Set(),
      budget,
    });
    statesVisited += result.statesVisited;
    if (result.outcome === 'not-linearizable') violating.push(key);
    else if (result.outcome === 'budget-exhausted') exhaustedKeys.push(key.key);
  }

  const first = violating[0];
  if (first !== undefined) {
    let violation: Violation = {
      key: first.key,
      operations: first.operations.map((c) => c.operation),
      start: 'absent-key',
    };
    if (options.narrowWindow !== false) {
      const window = findViolationWindow(first, budget);
      statesVisited += window.statesVisited;
      violation = { key: first.key, operations: window.operations, start: window.start };
    }
    return {
      outcome: 'violation',
      violation,
      violatingKeys: violating.map((key) => key.key),
      exhaustedKeys,
      statesVisited,
    };
  }
  if (exhaustedKeys.length > 0) {
    return { outcome: 'unknown', reason: 'budget-exhausted', exhaustedKeys, statesVisited };
  }
  return { outcome: 'linearizable', keys: keys.length, operations: history.operations.length, statesVisited };
}

function wholeHistoryOperation(compiled: KeyHistory['operations'][number]): SearchOperation {
  return {
    callNs: compiled.operation.callNs,
    returnNs: compiled.operation.returnNs,
    required: !compiled.optional,
    effect: compiled.effect,
  };
}
