import type { Prng } from '../../../test/sim/prng.js';
import type { Cluster } from '../../launcher.js';

/** Every fault kind this suite can inject, as named on the `--faults` list. */
export const FAULT_KINDS = ['kill', 'pause', 'kill-leader', 'pause-leader', 'transfer'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The cluster a fault acts on and its source of random choices. */
export interface FaultContext {
  readonly cluster: Cluster;
  /** Draws the fault's random choices, such as which server; seeded, so a seed replays them. */
  readonly random: Prng;
}

/** A fault in effect. heal() undoes it and returns once the servers it touched run again. */
export interface ActiveFault {
  /** A summary of the action, for the progress lines and the schedule printed on a violation. */
  readonly description: string;
  heal(): Promise<void>;
}

/**
 * One kind of fault. inject() acts at once and returns what heal() must undo. A fault that ends by
 * itself (a leadership transfer) returns an ActiveFault whose heal() does nothing.
 *
 * A fault that acts on the network fits the same shape: inject() installs the rules (netns,
 * iptables, tc) and heal() removes them, so the schedule needs no other kind of step.
 */
export interface Fault {
  readonly kind: FaultKind;
  inject(context: FaultContext): Promise<ActiveFault>;
}
