import { delayProxiesOf } from '../net/delay-proxy-set.js';
import { memberNodes, requireNetwork } from '../net/net-fault.js';
import type { ActiveFault, Fault, FaultContext } from './fault.js';

/** Range of the added delay, in ms; the jitter is a quarter of it. */
const DELAY_MS = [50, 250] as const;

/**
 * Delays the traffic between one random server and its peers, in both directions, by a random
 * time with jitter, so its peers get its heartbeats and votes late and it gets theirs late. The
 * delay proxies in front of the servers' RPC ports hold the bytes back (see DelayProxies), because
 * the kernel may lack the netem qdisc. The clients reach the servers without a proxy, so their
 * calls are not delayed, except where the server forwards them to a delayed peer.
 */
export const delayFault: Fault = {
  kind: 'delay',
  async inject(context: FaultContext): Promise<ActiveFault> {
    const network = requireNetwork(context, 'delay');
    const proxies = delayProxiesOf(network);
    if (proxies === null)
      throw new Error(
        'cannot inject delay: the run started no delay proxies; it starts them when --faults lists delay',
      );
    const node = context.random.pick(memberNodes(context, network));
    const delayMs = context.random.between(DELAY_MS[0], DELAY_MS[1]);
    const jitterMs = Math.round(delayMs / 4);
    await proxies.delay(node, delayMs, jitterMs);
    return {
      description: `delay ${node.name} ${delayMs}±${jitterMs} ms to and from its peers`,
      heal: () => proxies.clear(),
    };
  },
};
