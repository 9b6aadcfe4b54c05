import type { ActiveFault, Fault, FaultContext } from './fault.js';
import { killServer } from './kill.js';

/** How long kill-leader waits for a leader to kill, in ms. */
const LEADER_WAIT_MS = 10_000;

/** SIGKILL the current leader, and restart it on its data folder when healed. */
export const killLeaderFault: Fault = {
  kind: 'kill-leader',
  async inject({ cluster }: FaultContext): Promise<ActiveFault> {
    const leader = await cluster.waitForLeader(LEADER_WAIT_MS);
    return killServer(leader, 'kill-leader');
  },
};
