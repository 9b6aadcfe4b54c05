import type { ActiveFault, Fault, FaultContext } from './fault.js';

/** How long pause-leader waits for a leader to pause, in ms. */
const LEADER_WAIT_MS = 10_000;

/**
 * SIGSTOP the current leader and SIGCONT it when healed. While it is stopped, the others elect a
 * new leader. On resume, the old one still believes it leads until it hears of the new term, so a
 * read or write it serves then without checking with a quorum would be stale.
 */
export const pauseLeaderFault: Fault = {
  kind: 'pause-leader',
  async inject({ cluster }: FaultContext): Promise<ActiveFault> {
    const leader = await cluster.waitForLeader(LEADER_WAIT_MS);
    leader.pause();
    return {
      description: `pause-leader ${leader.name} (SIGSTOP)`,
      heal: async () => {
        if (leader.state === 'paused') leader.resume();
      },
    };
  },
};
