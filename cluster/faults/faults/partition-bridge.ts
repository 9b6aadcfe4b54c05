import { cutRules, memberNodes, names, requireNetwork, ruleFault } from '../net/net-fault.js';
import type { ActiveFault, Fault, FaultContext } from './fault.js';

/**
 * Splits the servers into two halves that cannot reach each other and one bridge server that
 * reaches both (with 3 servers, one on each side; with 5, two). Each half plus the bridge is a
 * majority, so a server on each side may see a quorum of peers. Only the bridge's single vote per
 * term keeps them from electing two leaders in one term.
 */
export const bridgeFault: Fault = {
  kind: 'bridge',
  async inject(context: FaultContext): Promise<ActiveFault> {
    const network = requireNetwork(context, 'bridge');
    const nodes = context.random.shuffled(memberNodes(context, network));
    const bridge = nodes[0]!;
    const rest = nodes.slice(1);
    const left = rest.slice(0, Math.floor(rest.length / 2));
    const right = rest.slice(left.length);
    const rules = [...cutRules(left, right), ...cutRules(right, left)];
    return ruleFault(
      network,
      rules,
      `bridge ${names(left)} | ${bridge.name} | ${names(right)} (only ${bridge.name} reaches both sides)`,
    );
  },
};
