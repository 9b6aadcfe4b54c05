import { cutRules, memberNodes, names, requireNetwork, ruleFault, splitMinority } from '../net/net-fault.js';
import type { ActiveFault, Fault, FaultContext } from './fault.js';

/**
 * Cuts the servers into a random minority and majority, both ways: every packet from one side to
 * the other is dropped on arrival, while each server still talks to its own side and to the
 * clients. The majority keeps or elects a leader; a leader in the minority can no longer commit,
 * and must not answer reads it cannot confirm with a quorum.
 */
export const partitionFault: Fault = {
  kind: 'partition',
  async inject(context: FaultContext): Promise<ActiveFault> {
    const network = requireNetwork(context, 'partition');
    const [minority, majority] = splitMinority(memberNodes(context, network), context.random);
    const rules = [...cutRules(minority, majority), ...cutRules(majority, minority)];
    return ruleFault(network, rules, `partition ${names(minority)} | ${names(majority)}`);
  },
};
