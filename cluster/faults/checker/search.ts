import { ConfigurationCache } from './configuration-cache.js';
import { type Effect, type RegisterState, sameState, step } from './register-model.js';

/** One operation in the form the search takes. */
export interface SearchOperation {
  readonly callNs: number;
  /** Infinity for an optional operation: nothing forces it to take effect before any other. */
  readonly returnNs: number;
  /** False when the operation may be left out: its outcome is unknown, or it lies at a window's edge. */
  readonly required: boolean;
  readonly effect: Effect;
}

export interface SearchInput {
  readonly operations: readonly SearchOperation[];
  readonly initial: RegisterState;
  /** The values that the ANY_EARLIER state may hold. */
  readonly earlierValues: ReadonlySet<number>;
  /** The maximum number of configurations the search may visit before it gives up. */
  readonly budget: number;
}

export type SearchOutcome = 'linearizable' | 'not-linearizable' | 'budget-exhausted';

export interface SearchResult {
  readonly outcome: SearchOutcome;
  /** Configurations (set of operations taken, model state) visited, the measure of the budget. */
  readonly statesVisited: number;
}

/** A depth of the search: the operations that may take effect next, and the choice made there. */
interface Frame {
  readonly candidates: readonly number[];
  next: number;
  /** The operation whose step led to this frame, -1 for the root. */
  readonly taken: number;
  readonly stateBefore: RegisterState;
}

/**
 * Searches for a linearization with Wing and Gong's algorithm ("Testing and verifying concurrent
 * objects", 1993) and Lowe's cache of visited configurations ("Testing for linearizability",
 * 2017).
 *
 * The calls and returns form a list sorted by time. At each depth, the operations that may take
 * effect next are those whose call comes before the first return still in the list, because the
 * operation of that return must take effect before anything called after it. Taking an operation
 * applies its effect to the model and removes its call and return from the list; when no
 * candidate works, the search backtracks. A configuration (operations taken, model state) that was
 * visited before cannot lead anywhere new, so it is skipped.
 *
 * Optional operations have no return in the list and need not be taken, which would let the
 * number of configurations grow with every subset of them. Three rules keep it down, each of
 * which only skips orders that another order reaches as well:
 * - A configuration is skipped when a visited one had the same required operations and state with
 *   a subset of the optional ones taken: it had every choice this one has. Required candidates are
 *   tried before optional ones, so that those smaller configurations are visited first.
 * - Of optional operations with the same effect, only the earliest called is a candidate.
 * - An optional operation is taken only when the next operation then ends in another state than it
 *   would without it. Otherwise leaving the optional operation out reaches the same state.
 *
 * The search is done when every required operation has been taken.
 */
export function searchLinearization(input: SearchInput): SearchResult {
  const { operations, earlierValues, budget } = input;
  const list = new EventList(operations);
  const cache = new ConfigurationCache(operations.map((operation) => operation.required));
  const effectClasses = classifyEffects(operations);

  // The candidates at `state`. A required read or rejected check-and-set that passes here without
  // changing the state is the only one. It changes no state wherever it is taken, and nothing still
  // listed must precede it, so any order that takes it later stays legal with it moved to the front.
  const candidatesAt = (state: RegisterState): readonly number[] => {
    const candidates = list.candidates(operations, effectClasses);
    for (const candidate of candidates) {
      const operation = operations[candidate]!;
      if (!operation.required) break;
      if (operation.effect.type !== 'read' && operation.effect.type !== 'cas-rejected') continue;
      const next = step(state, operation.effect, earlierValues);
      if (next !== null && sameState(next, state)) return [candidate];
    }
    return candidates;
  };

  // An optional operation U is worth taking before operation X only when X needs it: X fails
  // without U, or ends in another state than both X alone and X followed by U. Otherwise leaving U
  // out, or taking it after X, reaches the same state.
  const needs = (before: RegisterState, optional: Effect, effect: Effect, withIt: RegisterState): boolean => {
    const without = step(before, effect, earlierValues);
    if (without === null) return true;
    if (sameState(without, withIt)) return false;
    const swapped = step(without, optional, earlierValues);
    return swapped === null || !sameState(swapped, withIt);
  };

  // Taking an optional operation is pointless when no current candidate needs it. Taking it exposes
  // no new candidate, because an optional operation has no return in the list.
  const neededByAny = (
    before: RegisterState,
    after: RegisterState,
    taken: number,
    candidates: readonly number[],
  ): boolean => {
    if (sameState(before, after)) return false;
    const optional = operations[taken]!.effect;
    for (const other of candidates) {
      if (other === taken) continue;
      const { effect } = operations[other]!;
      const withIt = step(after, effect, earlierValues);
      if (withIt !== null && needs(before, optional, effect, withIt)) return true;
    }
    return false;
  };
  let requiredLeft = operations.filter((operation) => operation.required).length;
  let state = input.initial;
  let visited = 0;

  cache.visit(state);
  const frames: Frame[] = [{ candidates: candidatesAt(state), next: 0, taken: -1, stateBefore: state }];
  while (true) {
    if (requiredLeft === 0) return { outcome: 'linearizable', statesVisited: visited };
    const frame = frames[frames.length - 1]!;

    if (frame.next >= frame.candidates.length) {
      frames.pop();
      if (frame.taken < 0) return { outcome: 'not-linearizable', statesVisited: visited };
      list.restore(frame.taken);
      cache.untake(frame.taken);
      if (operations[frame.taken]!.required) requiredLeft++;
      state = frame.stateBefore;
      continue;
    }

    const candidate = frame.candidates[frame.next++]!;
    const operation = operations[candidate]!;
    const next = step(state, operation.effect, earlierValues);
    if (next === null) continue;
    if (!operation.required && !neededByAny(state, next, candidate, frame.candidates)) continue;
    const previous = frame.taken >= 0 ? operations[frame.taken]! : null;
    if (previous !== null && !previous.required) {
      if (!needs(frame.stateBefore, previous.effect, operation.effect, next)) continue;
    }
    cache.take(candidate);
    if (!cache.visit(next)) {
      cache.untake(candidate);
      continue;
    }
    visited++;
    if (visited > budget) return { outcome: 'budget-exhausted', statesVisited: visited };

    list.remove(candidate);
    if (operation.required) requiredLeft--;
    frames.push({
      candidates: candidatesAt(next),
      next: 0,
      taken: candidate,
      stateBefore: state,
    });
    state = next;
  }
}

/** Numbers the distinct effects of the operations, so that operations with equal effects share a number. */
function classifyEffects(operations: readonly SearchOperation[]): Int32Array {
  const classes = new Map<string, number>();
  const result = new Int32Array(operations.length);
  operations.forEach((operation, i) => {
    const { effect } = operation;
    const key = JSON.stringify(effect);
    let id = classes.get(key);
    if (id === undefined) {
      id = classes.size;
      classes.set(key, id);
    }
    result[i] = id;
  });
  return result;
}

/**
 * The calls and returns still to be taken, as a doubly linked list over arrays. Event 2i is the
 * call of operation i and 2i+1 its return. Removals are undone in the reverse order, which is what
 * lets `restore` relink an event from its own stale pointers.
 */
class EventList {
  readonly #next: Int32Array;
  readonly #previous: Int32Array;
  readonly #hasReturn: Uint8Array;
  /** The index of the head sentinel in the arrays above. */
  readonly #head: number;

  constructor(operations: readonly SearchOperation[]) {
    const events: number[] = [];
    operations.forEach((operation, i) => {
      events.push(2 * i);
      if (Number.isFinite(operation.returnNs)) events.push(2 * i + 1);
    });
    const time = (event: number): number => {
      const operation = operations[event >> 1]!;
      return event % 2 === 0 ? operation.callNs : operation.returnNs;
    };
    // At equal times calls come first, so operations that touch in time count as concurrent.
    events.sort((a, b) => time(a) - time(b) || (a % 2) - (b % 2) || a - b);

    this.#head = 2 * operations.length;
    this.#next = new Int32Array(this.#head + 1).fill(-1);
    this.#previous = new Int32Array(this.#head + 1).fill(-1);
    this.#hasReturn = new Uint8Array(operations.length);
    let previous = this.#head;
    for (const event of events) {
      if (event % 2 === 1) this.#hasReturn[event >> 1] = 1;
      this.#next[previous] = event;
      this.#previous[event] = previous;
      previous = event;
    }
  }

  /**
   * Returns the operations called before the first return still listed: required ones, then
   * optional ones. Of optional operations with the same effect, only the first is a candidate:
   * both stay available until taken, so taking the second first leads nowhere the first does not.
   */
  candidates(operations: readonly SearchOperation[], effectClasses: Int32Array): number[] {
    const required: number[] = [];
    const optional: number[] = [];
    const classes = new Set<number>();
    for (let event = this.#next[this.#head]!; event >= 0; event = this.#next[event]!) {
      if (event % 2 === 1) break;
      const operation = event >> 1;
      if (operations[operation]!.required) {
        required.push(operation);
      } else if (!classes.has(effectClasses[operation]!)) {
        classes.add(effectClasses[operation]!);
        optional.push(operation);
      }
    }
    return optional.length === 0 ? required : required.concat(optional);
  }

  remove(operation: number): void {
    this.#unlink(2 * operation);
    if (this.#hasReturn[operation] === 1) this.#unlink(2 * operation + 1);
  }

  restore(operation: number): void {
    if (this.#hasReturn[operation] === 1) this.#relink(2 * operation + 1);
    this.#relink(2 * operation);
  }

  #unlink(event: number): void {
    const previous = this.#previous[event]!;
    const next = this.#next[event]!;
    this.#next[previous] = next;
    if (next >= 0) this.#previous[next] = previous;
  }

  #relink(event: number): void {
    const previous = this.#previous[event]!;
    const next = this.#next[event]!;
    this.#next[previous] = event;
    if (next >= 0) this.#previous[next] = event;
  }
}
