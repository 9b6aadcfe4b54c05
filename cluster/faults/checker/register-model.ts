/**
 * The sequential specification of one Signet variable: a register whose writes carry the Raft
 * index that last modified it, with check-and-set on that index. The rules follow `var-apply`
 * (src/state/var-apply.ts) and the writer in front of it (src/server/variables/):
 * - `cas` with index 0 succeeds only when the variable is absent, with index N only when its
 *   ModifyIndex is N. A `cas` with N on an absent variable fails.
 * - `delete` always succeeds. `delete-cas` follows the `cas` condition, except that index 0 on an
 *   absent variable succeeds without a change.
 * - A successful write gets a ModifyIndex above the previous one (Raft indexes grow with the log),
 *   or keeps it when the write changed nothing: the writer skips the proposal when the items
 *   equal the current ones and returns the current ModifyIndex.
 *
 * Values are interned to small integers per key. States are immutable plain objects so that the
 * search can keep them in its cache.
 */

/** `value` of a variable that does not exist. */
export const ABSENT = -1;
/**
 * `value` of the start of a window cut out of a longer history: any state that the operations
 * before the window could have left, that is absent or one of the values written before the cut.
 */
export const ANY_EARLIER = -2;
/**
 * `value` written by an operation whose outcome is unknown and that no read ever returned. Its
 * ModifyIndex is one that no operation names, so no read matches it and no check-and-set passes
 * on it. The state keeps the ModifyIndex before the write as `index`, a floor for later writes.
 * All such writes from one state lead to the same state, because nothing can tell them apart.
 */
export const UNOBSERVED = -3;

/** `index` of a state whose ModifyIndex is not known: the first read or check-and-set fixes it. */
export const UNKNOWN_INDEX = -1;
/** `index` of a write of an UNOBSERVED value. */
export const UNNAMED_INDEX = -2;

export interface RegisterState {
  readonly value: number;
  /**
   * The ModifyIndex of a present value. For ABSENT and UNOBSERVED, the last ModifyIndex known
   * before, which later writes must exceed (0 when none). 0 at the start of a window.
   */
  readonly index: number;
}

/**
 * The effect of one operation on the register, with the output the client saw folded in, so a
 * step either accepts the operation at this point (returning the next state) or rejects it.
 */
export type Effect =
  /** A put (casIndex null) or a check-and-set that succeeded or may have, writing `value` with ModifyIndex `index`. */
  | {
      readonly type: 'write';
      readonly value: number;
      readonly index: number;
      readonly casIndex: number | null;
    }
  /** A read that returned `value` (ABSENT when not found) at ModifyIndex `index`. */
  | { readonly type: 'read'; readonly value: number; readonly index: number }
  /** A check-and-set (write or delete) that the server evaluated and rejected. */
  | { readonly type: 'cas-rejected'; readonly casIndex: number }
  /** A delete (casIndex null) or a delete-cas that succeeded or may have. */
  | { readonly type: 'delete'; readonly casIndex: number | null };

export const ABSENT_STATE: RegisterState = Object.freeze({ value: ABSENT, index: 0 });
export const ANY_EARLIER_STATE: RegisterState = Object.freeze({ value: ANY_EARLIER, index: 0 });

/**
 * Applies `effect` to `state`. Returns the next state, or null when the operation cannot take
 * effect at this point. `earlierValues` is the set a window's ANY_EARLIER state stands for.
 */
export function step(
  state: RegisterState,
  effect: Effect,
  earlierValues: ReadonlySet<number>,
): RegisterState | null {
  switch (effect.type) {
    case 'write':
      return applyWrite(state, effect.value, effect.index, effect.casIndex);
    case 'read':
      return applyRead(state, effect.value, effect.index, earlierValues);
    case 'cas-rejected':
      return casRejected(state, effect.casIndex) ? state : null;
    case 'delete':
      if (effect.casIndex !== null && !casPasses(state, effect.casIndex)) return null;
      return absentAfter(state);
  }
}

/** True when a check-and-set with `casIndex` may pass against `state`. */
function casPasses(state: RegisterState, casIndex: number): boolean {
  if (state.value === ANY_EARLIER) return true;
  if (casIndex === 0) return state.value === ABSENT;
  if (state.value === ABSENT || state.value === UNOBSERVED) return false;
  return state.index === casIndex || state.index === UNKNOWN_INDEX;
}

/**
 * True when a server may have rejected a check-and-set with `casIndex` against `state`. The rule is
 * the same for writes and deletes: with index 0, a delete-cas on an absent variable succeeds. An
 * unknown index may differ from `casIndex`, so the rejection is accepted without fixing the index.
 */
function casRejected(state: RegisterState, casIndex: number): boolean {
  if (state.value === ANY_EARLIER) return true;
  if (casIndex === 0) return state.value !== ABSENT;
  if (state.value === ABSENT || state.value === UNOBSERVED) return true;
  return state.index !== casIndex;
}

function applyWrite(
  state: RegisterState,
  value: number,
  index: number,
  casIndex: number | null,
): RegisterState | null {
  if (casIndex !== null && !casPasses(state, casIndex)) return null;
  const floor = floorOf(state);
  if (index >= 0 && index <= floor) {
    // Only a write that changed nothing keeps the ModifyIndex, and no write lowers it.
    const unchanged = index === floor && value === state.value && value >= 0 && state.index === floor;
    return unchanged ? state : null;
  }
  if (value === UNOBSERVED) {
    return state.value === UNOBSERVED && state.index === floor ? state : { value: UNOBSERVED, index: floor };
  }
  return { value, index };
}

/**
 * The ModifyIndex that every later write must exceed: the current one, or the last one known
 * before an absent or unobserved state. 0 when nothing is known.
 */
function floorOf(state: RegisterState): number {
  if (state.value === ANY_EARLIER || state.index < 0) return 0;
  return state.index;
}

/** Returns the absent state after a delete. It keeps the floor, because a variable written again gets a higher index. */
function absentAfter(state: RegisterState): RegisterState {
  const floor = floorOf(state);
  if (floor === 0) return ABSENT_STATE;
  return state.value === ABSENT ? state : { value: ABSENT, index: floor };
}

function applyRead(
  state: RegisterState,
  value: number,
  index: number,
  earlierValues: ReadonlySet<number>,
): RegisterState | null {
  if (state.value === ANY_EARLIER) {
    if (value === ABSENT) return ABSENT_STATE;
    return earlierValues.has(value) ? { value, index } : null;
  }
  if (value === ABSENT) return state.value === ABSENT ? state : null;
  if (state.value !== value) return null;
  if (state.index === index) return state;
  return state.index === UNKNOWN_INDEX ? { value, index } : null;
}

/** Returns a 32-bit hash of a state, for the search's cache. */
export function hashState(state: RegisterState): number {
  return (Math.imul(state.value + 3, 0x9e3779b1) ^ Math.imul(state.index + 7, 0x85ebca6b)) >>> 0;
}

export function sameState(a: RegisterState, b: RegisterState): boolean {
  return a.value === b.value && a.index === b.index;
}
