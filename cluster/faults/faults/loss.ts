import { memberNodes, requireNetwork, ruleFault } from '../net/net-fault.js';
import { lossRules } from '../net/rules.js';
import type { ActiveFault, Fault, FaultContext } from './fault.js';

/** Range of the drop probability, in percent. */
const LOSS_PERCENT = [10, 40] as const;

/**
 * Drops each packet between one random server and its peers with a random probability, in both
 * directions (iptables' statistic match). Traffic with the clients is not dropped. TCP retransmits,
 * so the peers see stalls and late heartbeats rather than a cut.
 */
export const lossFault: Fault = {
  kind: 'loss',
  async inject(context: FaultContext): Promise<ActiveFault> {
    const network = requireNetwork(context, 'loss');
    const nodes = memberNodes(context, network);
    const node = context.random.pick(nodes);
    const percent = context.random.between(LOSS_PERCENT[0], LOSS_PERCENT[1]);
    const peers = nodes.filter((peer) => peer !== node).map((peer) => peer.address);
    return ruleFault(
      network,
      lossRules(node.namespace, peers, percent / 100),
      `loss ${node.name} ${percent}% of packets to and from its peers`,
    );
  },
};
