import { runInNamespace } from '../net/command.js';
import { NODE_DEVICE } from '../net/fault-network.js';
import { memberNodes, requireNetwork } from '../net/net-fault.js';
import type { ActiveFault, Fault, FaultContext } from './fault.js';

/** Range of the added delay, in ms; the jitter is a quarter of it. */
const DELAY_MS = [50, 250] as const;

/**
 * Delays every packet that one random server sends by a random time with jitter (`tc qdisc ...
 * netem delay`), so its peers get its heartbeats and votes late. netem acts on the whole
 * interface, so the server's replies to clients are delayed too.
 * NOTE: not run on the machine this was written on, whose kernel has no netem qdisc. The runner
 * refuses this kind there (see netemProblem).
 */
export const delayFault: Fault = {
  kind: 'delay',
  async inject(context: FaultContext): Promise<ActiveFault> {
    const network = requireNetwork(context, 'delay');
    const node = context.random.pick(memberNodes(context, network));
    const delayMs = context.random.between(DELAY_MS[0], DELAY_MS[1]);
    const jitterMs = Math.round(delayMs / 4);
    const tc = (args: readonly string[]) => runInNamespace(node.namespace, 'tc', args);
    await tc(['qdisc', 'add', 'dev', NODE_DEVICE, 'root', 'netem', 'delay', `${delayMs}ms`, `${jitterMs}ms`]);
    return {
      description: `delay ${node.name} ${delayMs}±${jitterMs} ms on all it sends`,
      heal: async () => {
        await tc(['qdisc', 'del', 'dev', NODE_DEVICE, 'root']);
      },
    };
  },
};
