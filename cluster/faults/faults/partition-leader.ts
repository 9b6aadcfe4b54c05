import { cutRules, memberNodes, names, requireNetwork, ruleFault } from '../net/net-fault.js';
import type { ActiveFault, Fault, FaultContext } from './fault.js';

/** How long partition-leader waits for a leader to isolate, in ms. */
const LEADER_WAIT_MS = 10_000;

/**
 * Isolates the current leader from every other server, both ways. Unlike pause-leader, the old
 * leader keeps running and keeps serving clients, so it is the case where a leader that has lost
 * its quorum still receives reads and writes.
 */
export const partitionLeaderFault: Fault = {
  kind: 'partition-leader',
  async inject(context: FaultContext): Promise<ActiveFault> {
    const network = requireNetwork(context, 'partition-leader');
    const leader = await context.cluster.waitForLeader(LEADER_WAIT_MS);
    const nodes = memberNodes(context, network);
    const alone = nodes.filter((node) => node.name === leader.name);
    const others = nodes.filter((node) => node.name !== leader.name);
    const rules = [...cutRules(alone, others), ...cutRules(others, alone)];
    return ruleFault(network, rules, `partition-leader ${names(alone)} | ${names(others)}`);
  },
};
