import type { Fault, FaultKind } from './fault.js';
import { killFault } from './kill.js';
import { killLeaderFault } from './kill-leader.js';
import { pauseFault } from './pause.js';
import { pauseLeaderFault } from './pause-leader.js';
import { transferFault } from './transfer.js';

/**
 * The fault of each kind.
 * TODO: network partitions (majority/minority, a bridge node, one-way), delay and loss plug in
 * here as more kinds: inject() puts servers into network namespaces or adds iptables/tc rules,
 * heal() removes them.
 */
export const FAULTS: Readonly<Record<FaultKind, Fault>> = {
  kill: killFault,
  pause: pauseFault,
  'kill-leader': killLeaderFault,
  'pause-leader': pauseLeaderFault,
  transfer: transferFault,
};
