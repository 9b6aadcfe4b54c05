import type { Prng } from '../../../test/sim/prng.js';
import type { ActiveFault, FaultContext } from '../faults/fault.js';
import type { FaultNetwork, NetNode } from './fault-network.js';
import type { NetRule } from './rules.js';

/** Raised by a network fault in a run whose servers do not run in network namespaces. */
export class NoFaultNetworkError extends Error {
  override readonly name = 'NoFaultNetworkError';
  readonly code = 'NO_FAULT_NETWORK';
  readonly kind: string;

  constructor(kind: string) {
    super(
      `cannot inject ${kind}: the servers do not run in network namespaces; the runner creates them when --faults lists a network fault`,
    );
    this.kind = kind;
  }
}

/** Returns the run's fault network, or raises NoFaultNetworkError when the run made none. */
export function requireNetwork(context: FaultContext, kind: string): FaultNetwork {
  if (context.network === null) throw new NoFaultNetworkError(kind);
  return context.network;
}

/** Every member's place on the network, in the launcher's order, whether its process runs or not. */
export function memberNodes(context: FaultContext, network: FaultNetwork): NetNode[] {
  return context.cluster.servers().map((server) => network.node(server.name));
}

/** Splits `nodes` at random into a minority of 1 to ⌊(n−1)/2⌋ nodes and the majority. */
export function splitMinority(nodes: readonly NetNode[], random: Prng): [NetNode[], NetNode[]] {
  const shuffled = random.shuffled(nodes);
  const size = random.between(1, Math.max(1, Math.floor((nodes.length - 1) / 2)));
  return [shuffled.slice(0, size), shuffled.slice(size)];
}

/** Rules that drop what `senders` send to `receivers`. */
export function cutRules(senders: readonly NetNode[], receivers: readonly NetNode[]): NetRule[] {
  return receivers.flatMap((receiver) =>
    senders
      .filter((sender) => sender.address !== receiver.address)
      .map((sender) => ({ namespace: receiver.namespace, spec: ['-s', sender.address, '-j', 'DROP'] })),
  );
}

/** Installs `rules` and returns the fault whose heal() deletes exactly them. */
export async function ruleFault(
  network: FaultNetwork,
  rules: readonly NetRule[],
  description: string,
): Promise<ActiveFault> {
  await network.addRules(rules);
  return { description, heal: () => network.deleteRules(rules) };
}

export function names(nodes: readonly NetNode[]): string {
  return nodes.map((node) => node.name).join(' ');
}
