import { Prng } from '../../../test/sim/prng.js';
import type { FaultKind } from '../faults/fault.js';

/** One planned fault: when it starts and how long it lasts, in ms from the start of the faults. */
export interface ScheduledFault {
  readonly atMs: number;
  readonly kind: FaultKind;
  /** How long the fault stays in effect before it is healed; 0 for a transfer, which ends by itself. */
  readonly holdMs: number;
}

export interface ScheduleOptions {
  readonly seed: number;
  readonly kinds: readonly FaultKind[];
  /** The faults end, healed, before this time, in ms. */
  readonly durationMs: number;
}

/** Quiet time before the first fault, so that the history starts with a healthy cluster. */
const LEAD_IN_MS = 2_000;
/** Range of the quiet time between one fault's heal and the next fault, in ms. */
const GAP_MS = [500, 2_500] as const;
/**
 * Range of a fault's hold, in ms. Its top lies above the election timeout (at most 2 s at
 * raft_multiplier 1), so that a held fault on the leader forces an election.
 */
const HOLD_MS = [1_000, 4_000] as const;

/**
 * Draws the fault schedule from the seed alone, so that a seed replays the same kinds at the same
 * times. One fault is in effect at a time, which keeps a majority of 3 or 5 servers up.
 * NOTE: which server a fault hits is drawn when it is injected, from the servers running then, and
 * "the leader" is whichever server leads then, so a replay repeats the schedule but may hit other
 * servers.
 */
export function planFaults(options: ScheduleOptions): ScheduledFault[] {
  if (options.kinds.length === 0) return [];
  const random = new Prng(options.seed, 0x5c4ed);
  const faults: ScheduledFault[] = [];
  for (let atMs = LEAD_IN_MS; ; ) {
    const kind = random.pick(options.kinds);
    const holdMs = kind === 'transfer' ? 0 : random.between(HOLD_MS[0], HOLD_MS[1]);
    if (atMs + holdMs > options.durationMs) break;
    faults.push({ atMs, kind, holdMs });
    atMs += holdMs + random.between(GAP_MS[0], GAP_MS[1]);
  }
  return faults;
}
