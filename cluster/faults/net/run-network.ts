import { type FaultKind, NETWORK_FAULT_KINDS } from '../faults/fault.js';
import { netemProblem, networkFaultsProblem } from './capability.js';
import { FaultNetwork, NODE_DEVICE } from './fault-network.js';

export interface NetworkSetupOptions {
  readonly seed: number;
  readonly servers: number;
  readonly kinds: readonly FaultKind[];
  /**
   * True when the user listed the kinds. Then a network kind this machine cannot inject is an
   * error; otherwise (the default list) it is left out with a log line.
   */
  readonly kindsListed: boolean;
  readonly log: (line: string) => void;
}

export interface NetworkSetup {
  /** The servers' namespaces, or null when no network fault is left to inject. */
  readonly network: FaultNetwork | null;
  /** The kinds to schedule: the requested ones less those this machine cannot inject. */
  readonly kinds: FaultKind[];
}

const NETWORK_KINDS: readonly FaultKind[] = NETWORK_FAULT_KINDS;

/**
 * Creates the network namespaces for a run when its kinds include a network fault, after checking
 * that the machine can inject them: `ip netns` and iptables for all of them, and the netem qdisc
 * for `delay`. Raises when a listed kind cannot work; leaves an unlisted (default) one out.
 */
export async function setUpNetwork(options: NetworkSetupOptions): Promise<NetworkSetup> {
  const { log } = options;
  let kinds = [...options.kinds];
  const wanted = kinds.filter((kind) => NETWORK_KINDS.includes(kind));
  if (wanted.length === 0) return { network: null, kinds };

  const problem = await networkFaultsProblem(`${FaultNetwork.namespacePrefix(options.seed)}probe`);
  if (problem !== null) {
    const message = `cannot inject the network faults ${wanted.join(', ')}: ${problem}`;
    if (options.kindsListed) throw new Error(`${message}; leave them out of --faults to run the others`);
    log(`${message}; running without them`);
    kinds = kinds.filter((kind) => !NETWORK_KINDS.includes(kind));
    return { network: null, kinds };
  }

  const names = Array.from({ length: options.servers }, (_, i) => `s${i + 1}`);
  const network = await FaultNetwork.create(options.seed, names);
  try {
    if (kinds.includes('delay')) {
      const netem = await netemProblem(network.nodes()[0]!.namespace, NODE_DEVICE);
      if (netem !== null) {
        if (options.kindsListed) throw new Error(`cannot inject delay: ${netem}; leave it out of --faults`);
        log(`delay left out: ${netem}`);
        kinds = kinds.filter((kind) => kind !== 'delay');
      }
    }
    if (!kinds.some((kind) => NETWORK_KINDS.includes(kind))) {
      await network.remove();
      return { network: null, kinds };
    }
  } catch (err) {
    await network.remove();
    throw err;
  }
  log(
    `servers in network namespaces ${FaultNetwork.namespacePrefix(options.seed)}s1.. on ${network.subnet}.0/24; clients reach them from ${network.rootAddress}`,
  );
  return { network, kinds };
}
