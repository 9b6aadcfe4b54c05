import { cutRules, memberNodes, names, requireNetwork, ruleFault, splitMinority } from '../net/net-fault.js';
import type { ActiveFault, Fault, FaultContext } from './fault.js';

/**
 * Drops one direction only: packets from a random group of servers to the others are lost, while
 * the other way they arrive. TCP connections between the groups stall, because data or its
 * acknowledgements are lost, but one group still hears the other's heartbeats and votes, which a
 * plain partition never shows. The group that cannot be heard is the minority or the majority,
 * at random.
 */
export const oneWayFault: Fault = {
  kind: 'one-way',
  async inject(context: FaultContext): Promise<ActiveFault> {
    const network = requireNetwork(context, 'one-way');
    const [minority, majority] = splitMinority(memberNodes(context, network), context.random);
    const [senders, receivers] = context.random.chance(0.5) ? [minority, majority] : [majority, minority];
    return ruleFault(
      network,
      cutRules(senders, receivers),
      `one-way ${names(senders)} -> ${names(receivers)} dropped`,
    );
  },
};
