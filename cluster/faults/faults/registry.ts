import { delayFault } from './delay.js';
import type { Fault, FaultKind } from './fault.js';
import { killFault } from './kill.js';
import { killLeaderFault } from './kill-leader.js';
import { loseUnsyncedFault } from './lose-unsynced.js';
import { lossFault } from './loss.js';
import { membershipFault } from './membership.js';
import { partitionFault } from './partition.js';
import { bridgeFault } from './partition-bridge.js';
import { partitionLeaderFault } from './partition-leader.js';
import { oneWayFault } from './partition-one-way.js';
import { pauseFault } from './pause.js';
import { pauseLeaderFault } from './pause-leader.js';
import { transferFault } from './transfer.js';

/** The fault of each kind. */
export const FAULTS: Readonly<Record<FaultKind, Fault>> = {
  kill: killFault,
  pause: pauseFault,
  'kill-leader': killLeaderFault,
  'pause-leader': pauseLeaderFault,
  transfer: transferFault,
  membership: membershipFault,
  'lose-unsynced': loseUnsyncedFault,
  partition: partitionFault,
  'partition-leader': partitionLeaderFault,
  bridge: bridgeFault,
  'one-way': oneWayFault,
  delay: delayFault,
  loss: lossFault,
};
