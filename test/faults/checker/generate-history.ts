import type { History, Outcome, VariableOperation } from '../../../cluster/faults/history.js';
import { Prng } from '../../sim/prng.js';

export interface GeneratorOptions {
  readonly seed: number;
  readonly operations: number;
  readonly keys: number;
  readonly processes: number;
  /** Probability that the client times out: the outcome is unknown and the process is replaced. */
  readonly unknownRate: number;
  /** Probability that an operation fails without taking effect. */
  readonly failRate: number;
}

/** A call in flight: its operation, without its output yet, and the instant it takes effect. */
interface Call {
  readonly process: number;
  readonly kind: VariableOperation['kind'];
  readonly key: string;
  readonly value: string;
  readonly casIndex: number | null;
  readonly callNs: number;
  readonly returnNs: number;
  /** When the operation takes effect, or null when it never does. */
  readonly effectNs: number | null;
  readonly outcome: Outcome;
}

type Cell = { readonly value: string; readonly index: number } | null;

/** The simulated store: one cell per key and the Raft index, one entry per write or delete. */
class Store {
  readonly #cells = new Map<string, Cell>();
  #raftIndex = 0;

  /** Applies `call` and returns the operation with the output the client receives. */
  execute(call: Call): VariableOperation {
    const current = this.#cells.get(call.key) ?? null;
    const common = {
      id: 0,
      process: call.process,
      key: call.key,
      callNs: call.callNs,
      returnNs: call.returnNs,
    };
    const outcome = call.outcome;
    switch (call.kind) {
      case 'get': {
        const output = current === null ? { value: null, index: null } : { ...current };
        return { ...common, outcome, kind: 'get', input: null, output };
      }
      case 'put': {
        const index = this.#write(call.key, { value: call.value, index: this.#raftIndex + 1 });
        return { ...common, outcome, kind: 'put', input: { value: call.value }, output: { index } };
      }
      case 'cas': {
        const casIndex = call.casIndex ?? 0;
        const passes = casIndex === 0 ? current === null : current?.index === casIndex;
        const index = this.#write(
          call.key,
          passes ? { value: call.value, index: this.#raftIndex + 1 } : current,
        );
        const output = { succeeded: passes, index: passes ? index : null };
        return { ...common, outcome, kind: 'cas', input: { value: call.value, casIndex }, output };
      }
      case 'delete': {
        const { casIndex } = call;
        const passes = casIndex === null || (casIndex === 0 ? current === null : current?.index === casIndex);
        this.#write(call.key, passes ? null : current);
        return { ...common, outcome, kind: 'delete', input: { casIndex }, output: { succeeded: passes } };
      }
    }
  }

  /** Commits one entry that leaves `cell` at `key`, and returns the entry's index. */
  #write(key: string, cell: Cell): number {
    this.#raftIndex++;
    this.#cells.set(key, cell);
    return this.#raftIndex;
  }
}

/**
 * Records a random concurrent history from a simulated linearizable store of variables. Each
 * operation takes effect at one random instant between its call and its return, in the order of
 * those instants, with a Raft index that grows by one per write or delete. An operation of unknown
 * outcome takes effect maybe never, or maybe after the client gave up. Clients pick check-and-set indexes from what
 * they read or wrote last, so that many of them succeed. Every value written is unique.
 */
export function generateHistory(options: GeneratorOptions): History {
  const random = new Prng(options.seed);
  const keys = Array.from({ length: options.keys }, (_, i) => `ns/var-${i}`);
  const store = new Store();
  /** Per process and key, the last ModifyIndex the process saw (0 for absent). */
  const seen = new Map<string, number>();
  const operations: VariableOperation[] = [];
  const pending: Call[] = [];

  const takeEffect = (call: Call): void => {
    const operation = store.execute(call);
    if (call.outcome !== 'ok') return;
    operations.push(operation);
    const seenIndex = observedIndex(operation);
    if (seenIndex !== null) seen.set(`${call.process}/${call.key}`, seenIndex);
  };

  // Slot i is one client connection. A slot's process changes when its client times out.
  const nextCallNs = Array.from({ length: options.processes }, () => random.int(1000));
  const processIds = Array.from({ length: options.processes }, (_, i) => i);
  let nextProcessId = options.processes;

  for (let n = 0; n < options.operations; n++) {
    // Calls come in time order, so every effect before this call has been applied.
    const slot = argMin(nextCallNs);
    const callNs = nextCallNs[slot]!;
    settle(pending, callNs, takeEffect);

    const call = randomCall(random, processIds[slot]!, keys, callNs, options, seen, n);
    if (call.outcome !== 'ok') operations.push(withoutOutput(call));
    if (call.effectNs !== null) pending.push(call);

    const durationNs = Number.isFinite(call.returnNs) ? call.returnNs - callNs : 3000;
    if (call.outcome === 'unknown') processIds[slot] = nextProcessId++;
    nextCallNs[slot] = callNs + durationNs + random.int(2000);
  }
  settle(pending, Number.POSITIVE_INFINITY, takeEffect);

  operations.sort((a, b) => a.callNs - b.callNs || a.process - b.process);
  return { operations: operations.map((operation, id) => ({ ...operation, id })) };
}

function randomCall(
  random: Prng,
  process: number,
  keys: readonly string[],
  callNs: number,
  options: GeneratorOptions,
  seen: ReadonlyMap<string, number>,
  serial: number,
): Call {
  const key = random.pick(keys);
  const roll = random.float();
  let kind: VariableOperation['kind'] = 'delete';
  if (roll < 0.4) kind = 'get';
  else if (roll < 0.6) kind = 'put';
  else if (roll < 0.88) kind = 'cas';
  const lastSeen = seen.get(`${process}/${key}`) ?? 0;
  const conditional = kind === 'cas' || (kind === 'delete' && random.chance(0.5));
  let casIndex: number | null = null;
  if (conditional) casIndex = random.chance(0.8) ? lastSeen : 0;

  const durationNs = 100 + random.int(5000);
  let outcome: Outcome = 'ok';
  if (random.chance(options.unknownRate)) outcome = 'unknown';
  else if (random.chance(options.failRate)) outcome = 'fail';

  let effectNs: number | null = null;
  if (outcome === 'ok') effectNs = callNs + random.int(durationNs + 1);
  // A timed-out request may still commit, even after the client stopped waiting.
  if (outcome === 'unknown' && random.chance(0.5)) effectNs = callNs + random.int(3 * durationNs + 1);

  const returnNs = outcome === 'unknown' ? Number.POSITIVE_INFINITY : callNs + durationNs;
  return { process, kind, key, value: `v${serial}`, casIndex, callNs, returnNs, effectNs, outcome };
}

/** Returns the ModifyIndex a successful operation showed its client, 0 for a variable found absent. */
function observedIndex(operation: VariableOperation): number | null {
  switch (operation.kind) {
    case 'get':
      return operation.output?.index ?? 0;
    case 'put':
      return operation.output?.index ?? null;
    case 'cas':
      return operation.output?.index ?? null;
    case 'delete':
      return operation.output?.succeeded ? 0 : null;
  }
}

function withoutOutput(call: Call): VariableOperation {
  const common = {
    id: 0,
    process: call.process,
    key: call.key,
    callNs: call.callNs,
    returnNs: call.returnNs,
    outcome: call.outcome,
  };
  switch (call.kind) {
    case 'get':
      return { ...common, kind: 'get', input: null, output: null };
    case 'put':
      return { ...common, kind: 'put', input: { value: call.value }, output: null };
    case 'cas':
      return {
        ...common,
        kind: 'cas',
        input: { value: call.value, casIndex: call.casIndex ?? 0 },
        output: null,
      };
    case 'delete':
      return { ...common, kind: 'delete', input: { casIndex: call.casIndex }, output: null };
  }
}

/** Applies, in the order of their effect instants, the pending calls that take effect up to `untilNs`. */
function settle(pending: Call[], untilNs: number, takeEffect: (call: Call) => void): void {
  pending.sort((a, b) => a.effectNs! - b.effectNs!);
  while (pending.length > 0 && pending[0]!.effectNs! <= untilNs) takeEffect(pending.shift()!);
}

function argMin(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! < values[best]!) best = i;
  return best;
}
