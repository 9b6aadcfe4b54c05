import { type FaultKind, NETWORK_FAULT_KINDS } from '../faults/fault.js';
import { delayProxyProblem, networkFaultsProblem } from './capability.js';
import { chooseBasePort, DelayProxies } from './delay-proxy-set.js';
import { FaultNetwork } from './fault-network.js';

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
  /** The proxies in front of the servers' RPC ports when `delay` is scheduled, else null. */
  readonly delayProxies: DelayProxies | null;
  /** Fixed ports for the launcher (ClusterOptions.basePort), which the proxies need; else undefined. */
  readonly basePort: number | undefined;
}

const NETWORK_KINDS: readonly FaultKind[] = NETWORK_FAULT_KINDS;

/**
 * Creates the network namespaces for a run when its kinds include a network fault, after checking
 * that the machine can inject them: `ip netns` and iptables for all of them, and the nat table for
 * `delay`. Raises when a listed kind cannot work; leaves an unlisted (default) one out. For `delay`
 * it also starts the delay proxies, which must be in place before the servers start.
 */
export async function setUpNetwork(options: NetworkSetupOptions): Promise<NetworkSetup> {
  const { log } = options;
  let kinds = [...options.kinds];
  const wanted = kinds.filter((kind) => NETWORK_KINDS.includes(kind));
  if (wanted.length === 0) return { network: null, kinds, delayProxies: null, basePort: undefined };

  const problem = await networkFaultsProblem(`${FaultNetwork.namespacePrefix(options.seed)}probe`);
  if (problem !== null) {
    const message = `cannot inject the network faults ${wanted.join(', ')}: ${problem}`;
    if (options.kindsListed) throw new Error(`${message}; leave them out of --faults to run the others`);
    log(`${message}; running without them`);
    kinds = kinds.filter((kind) => !NETWORK_KINDS.includes(kind));
    return { network: null, kinds, delayProxies: null, basePort: undefined };
  }

  const names = Array.from({ length: options.servers }, (_, i) => `s${i + 1}`);
  const network = await FaultNetwork.create(options.seed, names);
  let delayProxies: DelayProxies | null = null;
  let basePort: number | undefined;
  try {
    if (kinds.includes('delay')) {
      const delayProblem = await delayProxyProblem(network.nodes()[0]!.namespace);
      if (delayProblem !== null) {
        if (options.kindsListed)
          throw new Error(`cannot inject delay: ${delayProblem}; leave it out of --faults`);
        log(`delay left out: ${delayProblem}`);
        kinds = kinds.filter((kind) => kind !== 'delay');
      }
    }
    if (!kinds.some((kind) => NETWORK_KINDS.includes(kind))) {
      await network.remove();
      return { network: null, kinds, delayProxies: null, basePort: undefined };
    }
    if (kinds.includes('delay')) {
      basePort = await chooseBasePort(options.seed, options.servers);
      delayProxies = await DelayProxies.start(network, basePort, options.seed);
      log(`delay proxies in front of every server's RPC port; servers on ports from ${basePort}`);
    }
  } catch (err) {
    await network.remove();
    throw err;
  }
  log(
    `servers in network namespaces ${FaultNetwork.namespacePrefix(options.seed)}s1.. on ${network.subnet}.0/24; clients reach them from ${network.rootAddress}`,
  );
  return { network, kinds, delayProxies, basePort };
}
