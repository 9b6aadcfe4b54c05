import type { History, VariableOperation } from '../history.js';
import { ABSENT, type Effect, UNKNOWN_INDEX, UNNAMED_INDEX, UNOBSERVED } from './register-model.js';

/** One operation of a key's history with its effect on the register model. */
export interface CompiledOperation {
  readonly operation: VariableOperation;
  readonly effect: Effect;
  /** True when the outcome is `unknown`: the operation may be left out or placed anywhere after its call. */
  readonly optional: boolean;
}

/** The operations on one variable, sorted by call time, ready for the search. */
export interface KeyHistory {
  readonly key: string;
  readonly operations: readonly CompiledOperation[];
  /** How many operations of the key were dropped because they cannot have changed or observed anything. */
  readonly dropped: number;
}

/**
 * Splits a history by key and compiles each operation into its effect. Linearizability is local
 * (Herlihy and Wing, 1990): a history is linearizable exactly when the sub-history of every object
 * is, so each key is checked on its own.
 *
 * Dropped: `fail` operations, which did not take effect, and reads whose outcome is `unknown`,
 * which changed nothing and returned nothing.
 */
export function partitionByKey(history: History): KeyHistory[] {
  const byKey = new Map<string, VariableOperation[]>();
  for (const operation of history.operations) {
    const list = byKey.get(operation.key);
    if (list === undefined) byKey.set(operation.key, [operation]);
    else list.push(operation);
  }
  return [...byKey.keys()].sort().map((key) => compileKey(key, byKey.get(key)!));
}

function compileKey(key: string, operations: VariableOperation[]): KeyHistory {
  const sorted = [...operations].sort((a, b) => a.callNs - b.callNs || a.id - b.id);
  const values = new Map<string, number>();
  const intern = (value: string): number => {
    let id = values.get(value);
    if (id === undefined) {
      id = values.size;
      values.set(value, id);
    }
    return id;
  };
  const evidence = collectEvidence(sorted);

  const compiled: CompiledOperation[] = [];
  for (const operation of sorted) {
    const effect = compileEffect(operation, intern, evidence);
    if (effect !== null) compiled.push({ operation, effect, optional: operation.outcome === 'unknown' });
  }
  return { key, operations: compiled, dropped: sorted.length - compiled.length };
}

/** The evidence that the whole key history gives about each written value. */
interface ValueEvidence {
  /** Writes of each value that may have taken effect. */
  readonly writes: Map<string, number>;
  /** The ModifyIndexes at which successful reads returned each value. */
  readonly observedIndexes: Map<string, Set<number>>;
}

function collectEvidence(operations: readonly VariableOperation[]): ValueEvidence {
  const writes = new Map<string, number>();
  const observedIndexes = new Map<string, Set<number>>();
  for (const operation of operations) {
    if (operation.outcome === 'fail') continue;
    if (operation.kind === 'put' || (operation.kind === 'cas' && operation.output?.succeeded !== false)) {
      writes.set(operation.input.value, (writes.get(operation.input.value) ?? 0) + 1);
    }
    if (operation.kind === 'get' && operation.output !== null && operation.output.value !== null) {
      const seen = observedIndexes.get(operation.output.value) ?? new Set<number>();
      seen.add(operation.output.index ?? 0);
      observedIndexes.set(operation.output.value, seen);
    }
  }
  return { writes, observedIndexes };
}

/**
 * Returns the value and ModifyIndex that a write of unknown outcome leaves if it took effect. When
 * the value is written once in the whole history, a read that returned it names its index. A value
 * that no read returned leaves a state that no later operation can name (UNOBSERVED).
 */
function unknownWriteTarget(
  value: string,
  intern: (value: string) => number,
  evidence: ValueEvidence,
): { value: number; index: number } {
  const observed = evidence.observedIndexes.get(value);
  if (evidence.writes.get(value) === 1) {
    if (observed === undefined) return { value: UNOBSERVED, index: UNNAMED_INDEX };
    if (observed.size === 1) return { value: intern(value), index: [...observed][0]! };
  }
  return { value: intern(value), index: UNKNOWN_INDEX };
}

function compileEffect(
  operation: VariableOperation,
  intern: (value: string) => number,
  evidence: ValueEvidence,
): Effect | null {
  if (operation.outcome === 'fail') return null;
  const unknown = operation.outcome === 'unknown';

  switch (operation.kind) {
    case 'get':
      if (operation.output === null) return null;
      if (operation.output.value === null) return { type: 'read', value: ABSENT, index: 0 };
      return { type: 'read', value: intern(operation.output.value), index: operation.output.index ?? 0 };
    case 'put':
      if (unknown || operation.output === null) {
        return {
          type: 'write',
          ...unknownWriteTarget(operation.input.value, intern, evidence),
          casIndex: null,
        };
      }
      return {
        type: 'write',
        value: intern(operation.input.value),
        index: operation.output.index,
        casIndex: null,
      };
    case 'cas': {
      const { casIndex } = operation.input;
      if (unknown || operation.output === null) {
        return { type: 'write', ...unknownWriteTarget(operation.input.value, intern, evidence), casIndex };
      }
      if (!operation.output.succeeded) return { type: 'cas-rejected', casIndex };
      return {
        type: 'write',
        value: intern(operation.input.value),
        index: operation.output.index ?? 0,
        casIndex,
      };
    }
    case 'delete': {
      const { casIndex } = operation.input;
      if (!unknown && operation.output !== null && !operation.output.succeeded && casIndex !== null) {
        return { type: 'cas-rejected', casIndex };
      }
      return { type: 'delete', casIndex };
    }
  }
}
