import type { History, VariableOperation } from '../../../cluster/faults/history.js';

// A deliberately plain linearizability check for tiny single-key histories, to compare the real
// checker against: it tries every order of every subset of the operations, with no cache, no
// pruning and no window, straight from the rules of Signet's variables.

/** The variable: its value (null when absent) and its ModifyIndex, or the last one before a delete. */
type Cell = { readonly value: string | null; readonly index: number };

const START: Cell = { value: null, index: 0 };

/**
 * True when some order of the operations of `history` (one key) is legal for the register and
 * respects real time. `fail` operations are left out. An `unknown` operation may be left out, and
 * if kept, a write of it gets a ModifyIndex at which some successful read returned its value, or
 * an index that no operation names. Every ModifyIndex a client sends comes from an operation in
 * the history.
 */
export function referenceLinearizable(history: History): boolean {
  const operations = history.operations.filter((operation) => operation.outcome !== 'fail');
  const used = new Array<boolean>(operations.length).fill(false);

  const search = (cell: Cell): boolean => {
    const requiredLeft = operations.filter((operation, i) => !used[i] && operation.outcome === 'ok');
    if (requiredLeft.length === 0) return true;
    const deadline = Math.min(...requiredLeft.map((operation) => operation.returnNs));
    for (let i = 0; i < operations.length; i++) {
      const operation = operations[i]!;
      if (used[i] || operation.callNs > deadline) continue;
      for (const next of outcomes(operation, cell, history)) {
        used[i] = true;
        const found = search(next);
        used[i] = false;
        if (found) return true;
      }
    }
    return false;
  };
  return search(START);
}

/** Returns the cells that `operation` may leave when it takes effect on `cell`, none when it cannot. */
function outcomes(operation: VariableOperation, cell: Cell, history: History): Cell[] {
  const passes = (casIndex: number): boolean =>
    casIndex === 0 ? cell.value === null : cell.value !== null && cell.index === casIndex;
  const writes = (value: string): Cell[] =>
    writeIndexes(operation, value, cell, history).flatMap((index) => {
      if (index < cell.index) return [];
      if (index === cell.index) return value === cell.value ? [cell] : [];
      return [{ value, index }];
    });

  switch (operation.kind) {
    case 'get': {
      if (operation.output === null) return [];
      const { value, index } = operation.output;
      if (value === null) return cell.value === null ? [cell] : [];
      return cell.value === value && cell.index === index ? [cell] : [];
    }
    case 'put':
      return writes(operation.input.value);
    case 'cas':
      if (operation.output !== null && !operation.output.succeeded) {
        return passes(operation.input.casIndex) ? [] : [cell];
      }
      return passes(operation.input.casIndex) ? writes(operation.input.value) : [];
    case 'delete': {
      const { casIndex } = operation.input;
      if (operation.output !== null && !operation.output.succeeded)
        return casIndex !== null && !passes(casIndex) ? [cell] : [];
      return casIndex === null || passes(casIndex) ? [{ value: null, index: cell.index }] : [];
    }
  }
}

/**
 * Returns the ModifyIndexes a write may get: its output, or for an unknown outcome an index at which a
 * read returned its value, or an unnamed index just above the current one. The unnamed index is a
 * fraction, so that no operation names it and every later index is still above it.
 */
function writeIndexes(operation: VariableOperation, value: string, cell: Cell, history: History): number[] {
  if (operation.outcome === 'ok') {
    if (operation.kind === 'put') return [operation.output!.index];
    if (operation.kind === 'cas') return [operation.output!.index!];
  }
  const observed = history.operations.flatMap((other) =>
    other.kind === 'get' && other.output?.value === value && other.output.index !== null
      ? [other.output.index]
      : [],
  );
  return [...new Set(observed), cell.index + 1e-6];
}
