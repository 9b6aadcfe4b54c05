import type { GetOperation, History, VariableOperation } from '../../../cluster/faults/history.js';
import type { Prng } from '../../sim/prng.js';

/**
 * Mutations of a generated (linearizable) history, each chosen so that the result is certainly
 * not linearizable. They rely on the generator's unique values: a value is written by one
 * operation only, so a state (value, ModifyIndex) comes back only if that operation is reordered.
 */
export interface Mutation {
  readonly history: History;
  readonly key: string;
  /** The operations changed: any violation window must contain at least one of them. */
  readonly changedIds: readonly number[];
}

type FoundGet = GetOperation & { readonly output: { readonly value: string; readonly index: number } };

function foundGets(history: History): FoundGet[] {
  return history.operations.filter(
    (operation): operation is FoundGet =>
      operation.kind === 'get' && operation.outcome === 'ok' && operation.output?.value != null,
  );
}

interface Write {
  readonly operation: VariableOperation;
  readonly value: string;
  /** The ModifyIndex the write returned. */
  readonly index: number;
}

/** Returns the successful write of each value, by key and value. */
function writers(history: History): Map<string, Write> {
  const result = new Map<string, Write>();
  for (const operation of history.operations) {
    if (operation.outcome !== 'ok') continue;
    if (operation.kind === 'put' && operation.output !== null) {
      result.set(`${operation.key}/${operation.input.value}`, {
        operation,
        value: operation.input.value,
        index: operation.output.index,
      });
    }
    if (operation.kind === 'cas' && operation.output?.index != null) {
      result.set(`${operation.key}/${operation.input.value}`, {
        operation,
        value: operation.input.value,
        index: operation.output.index,
      });
    }
  }
  return result;
}

function replace(history: History, ...changed: VariableOperation[]): History {
  const byId = new Map(changed.map((operation) => [operation.id, operation]));
  return { operations: history.operations.map((operation) => byId.get(operation.id) ?? operation) };
}

/** Makes a read return another value of its key, one written at a different ModifyIndex, with the read's own index. */
export function changeReadValue(history: History, random: Prng): Mutation | null {
  const written = [...writers(history).values()];
  const choices = foundGets(history).flatMap((read) =>
    written
      .filter((write) => write.operation.key === read.key && write.index !== read.output.index)
      .map((write) => ({ read, value: write.value })),
  );
  if (choices.length === 0) return null;
  const { read, value } = random.pick(choices);
  const changed: GetOperation = { ...read, output: { value, index: read.output.index } };
  return { history: replace(history, changed), key: read.key, changedIds: [read.id] };
}

/**
 * Swaps the outputs of two reads A and B of one key, where A returned before B was called, A saw an
 * older ModifyIndex than B, and the write that A saw returned before A was called. Afterwards A
 * reads the newer value and B the older one, which only its single write, already over, could set.
 */
export function swapReadOutputs(history: History, random: Prng): Mutation | null {
  const written = writers(history);
  const reads = foundGets(history);
  const pairs: [FoundGet, FoundGet][] = [];
  for (const a of reads) {
    const writer = written.get(`${a.key}/${a.output.value}`);
    if (writer === undefined || writer.operation.returnNs >= a.callNs) continue;
    for (const b of reads) {
      if (
        b.key === a.key &&
        a.returnNs < b.callNs &&
        a.output.index < b.output.index &&
        a.output.value !== b.output.value
      ) {
        pairs.push([a, b]);
      }
    }
  }
  if (pairs.length === 0) return null;
  const [a, b] = random.pick(pairs);
  return {
    history: replace(history, { ...a, output: b.output }, { ...b, output: a.output }),
    key: a.key,
    changedIds: [a.id, b.id],
  };
}

/** Moves the return of a read before the call of the only write of the value it returned. */
export function returnReadBeforeItsWrite(history: History, random: Prng): Mutation | null {
  const written = writers(history);
  const choices = foundGets(history).filter((read) => {
    const writer = written.get(`${read.key}/${read.output.value}`);
    return writer !== undefined && writer.operation.callNs > read.callNs;
  });
  if (choices.length === 0) return null;
  const read = random.pick(choices);
  const writer = written.get(`${read.key}/${read.output.value}`)!;
  return {
    history: replace(history, { ...read, returnNs: writer.operation.callNs - 1 }),
    key: read.key,
    changedIds: [read.id],
  };
}

/**
 * Moves the return of a write W before the call of a read R that was running alongside it and
 * returned the value W replaced, a value whose write returned before W was called. R becomes a
 * stale read.
 */
export function returnWriteBeforeStaleRead(history: History, random: Prng): Mutation | null {
  const written = writers(history);
  const choices: [VariableOperation, FoundGet][] = [];
  for (const { operation: write } of written.values()) {
    for (const read of foundGets(history)) {
      if (read.key !== write.key || read.callNs <= write.callNs || read.callNs > write.returnNs) continue;
      const previous = written.get(`${read.key}/${read.output.value}`);
      if (previous === undefined || previous.operation.id === write.id) continue;
      if (previous.operation.returnNs >= write.callNs) continue;
      choices.push([write, read]);
    }
  }
  if (choices.length === 0) return null;
  const [write, read] = random.pick(choices);
  return {
    history: replace(history, { ...write, returnNs: read.callNs - 1 }),
    key: write.key,
    changedIds: [write.id, read.id],
  };
}
