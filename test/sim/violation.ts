/**
 * Names of the properties that the simulation checks. A violation of any of them fails the seed.
 * `exception` is an error thrown by the core (or the harness) instead of a checked property.
 */
export type Invariant =
  | 'election-safety'
  | 'log-matching'
  | 'leader-completeness'
  | 'state-machine-safety'
  | 'apply-order'
  | 'commit-monotonic'
  | 'durable-state'
  | 'persist-before-send'
  | 'snapshot'
  | 'read-index'
  | 'command-integrity'
  | 'message'
  | 'storage'
  | 'exception'
  | 'liveness';

/** A broken invariant, with the values that show it. The simulation adds seed, step and time. */
export class Violation extends Error {
  override readonly name = 'Violation';
  readonly invariant: Invariant;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(invariant: Invariant, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.invariant = invariant;
    this.details = details;
  }
}
