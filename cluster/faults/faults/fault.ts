import type { Prng } from '../../../test/sim/prng.js';
import type { Cluster } from '../../launcher.js';
import type { FaultNetwork } from '../net/fault-network.js';

/** Fault kinds that act on the network; they need the servers in network namespaces. */
export const NETWORK_FAULT_KINDS = [
  'partition',
  'partition-leader',
  'bridge',
  'one-way',
  'delay',
  'loss',
] as const;

/** Every fault kind this suite can inject, as named on the `--faults` list. */
export const FAULT_KINDS = [
  'kill',
  'pause',
  'kill-leader',
  'pause-leader',
  'transfer',
  'membership',
  'lose-unsynced',
  ...NETWORK_FAULT_KINDS,
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** The cluster a fault acts on and its source of random choices. */
export interface FaultContext {
  readonly cluster: Cluster;
  /** Draws the fault's random choices, such as which server; seeded, so a seed replays them. */
  readonly random: Prng;
  /** The servers' namespaces and rules, or null when the run has no network fault. */
  readonly network: FaultNetwork | null;
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
 * A fault that acts on the network fits the same shape. inject() adds iptables rules in the
 * servers' namespaces or sets the delay proxies' rules, which the runner set up before the start,
 * and heal() removes them. So the schedule needs no other kind of step.
 */
export interface Fault {
  readonly kind: FaultKind;
  inject(context: FaultContext): Promise<ActiveFault>;
}
