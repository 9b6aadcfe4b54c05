import { portFree } from '../../free-port.js';
import { runInNamespace } from './command.js';
import { ALL_PEERS, type DelayRule } from './delay-proxy.js';
import { DelayProxyProcess } from './delay-proxy-handle.js';
import type { FaultNetwork, NetNode } from './fault-network.js';

/**
 * Ports of server N when the launcher runs with `basePort` (ClusterOptions.basePort): HTTP on
 * basePort + 10·(N−1) and RPC one above. The proxy in front of server N listens PROXY_PORT_OFFSET
 * above its HTTP port, inside the 10 ports the launcher leaves per server.
 */
const PORTS_PER_SERVER = 10;
const RPC_PORT_OFFSET = 1;
const PROXY_PORT_OFFSET = 5;
/** Candidate base ports are FIRST_BASE_PORT + k·BASE_PORT_STEP, starting at a k drawn from the seed. */
const FIRST_BASE_PORT = 20_000;
const BASE_PORT_STEP = 100;
const BASE_PORT_CANDIDATES = 400;

export interface ProxiedServerPorts {
  readonly rpcPort: number;
  readonly proxyPort: number;
}

/** Returns the RPC port and the proxy port of server number `number` (1 for s1). */
export function proxiedServerPorts(basePort: number, number: number): ProxiedServerPorts {
  const httpPort = basePort + PORTS_PER_SERVER * (number - 1);
  return { rpcPort: httpPort + RPC_PORT_OFFSET, proxyPort: httpPort + PROXY_PORT_OFFSET };
}

/**
 * Picks a base port for a run with `servers` servers whose HTTP and RPC ports are free on
 * 127.0.0.1 of this namespace. The servers bind in their own namespaces, where every port is free,
 * but the launcher checks fixed ports on 127.0.0.1 here and stops when one is taken.
 */
export async function chooseBasePort(seed: number, servers: number): Promise<number> {
  for (let i = 0; i < BASE_PORT_CANDIDATES; i++) {
    const base = FIRST_BASE_PORT + ((seed + i) % BASE_PORT_CANDIDATES) * BASE_PORT_STEP;
    const ports = Array.from({ length: servers }, (_, n) => base + PORTS_PER_SERVER * n);
    const free = await Promise.all(
      ports.flatMap((port) => [portFree(port), portFree(port + RPC_PORT_OFFSET)]),
    );
    if (free.every(Boolean)) return base;
  }
  throw new Error(`no free base port from ${FIRST_BASE_PORT} on 127.0.0.1 for ${servers} servers`);
}

/**
 * A delay proxy in front of every server's RPC port, so that `delay` can hold back server-to-server
 * traffic without the kernel's netem qdisc.
 *
 * For each server B, a proxy process runs in B's namespace, listens on B's address at B's proxy
 * port and forwards to B's RPC port. In every other server's namespace a nat OUTPUT rule rewrites
 * the destination port of TCP to B's RPC port to B's proxy port, so each peer's connection to B
 * passes through B's proxy. Source and destination addresses stay the servers' own, so the rules
 * of the other network faults, which match on addresses, still apply to the proxied connections.
 * The clients, in the root namespace, have no such rule and reach B's RPC port directly.
 *
 * The rules must be in place before the servers open their first connections, because the nat
 * table acts only on a connection's first packet.
 */
export class DelayProxies {
  readonly #network: FaultNetwork;
  readonly #proxies: ReadonlyMap<string, DelayProxyProcess>;

  private constructor(network: FaultNetwork, proxies: ReadonlyMap<string, DelayProxyProcess>) {
    this.#network = network;
    this.#proxies = proxies;
  }

  /**
   * Starts a proxy for every node of `network` and adds the nat rules, for servers started with
   * `basePort`, and attaches them to `network` for delayProxiesOf. On failure it stops the proxies
   * it started and raises.
   */
  static async start(network: FaultNetwork, basePort: number, seed: number): Promise<DelayProxies> {
    const nodes = network.nodes();
    const started = await Promise.allSettled(
      nodes.map((node, i) => {
        const ports = proxiedServerPorts(basePort, i + 1);
        return DelayProxyProcess.start({
          commandPrefix: network.placement(node.name).commandPrefix,
          listenHost: node.address,
          listenPort: ports.proxyPort,
          targetHost: node.address,
          targetPort: ports.rpcPort,
          seed: seed + i,
          label: `in front of ${node.name}`,
        });
      }),
    );
    const proxies = new Map<string, DelayProxyProcess>();
    for (const [i, result] of started.entries())
      if (result.status === 'fulfilled') proxies.set(nodes[i]!.name, result.value);
    const set = new DelayProxies(network, proxies);
    try {
      const failure = started.find((result) => result.status === 'rejected');
      if (failure !== undefined) throw failure.reason;
      await addRedirects(nodes, basePort);
    } catch (err) {
      await set.stop();
      throw err;
    }
    attached.set(network, set);
    return set;
  }

  /**
   * Delays every connection between `target` and its peers, in both directions, by `delayMs` ±
   * `jitterMs`: target's own proxy delays all its connections, and every other proxy those from
   * target. Replaces any delay set before.
   *
   * When a proxy fails to apply its rule, this clears the rules of every proxy and raises that
   * proxy's error. The caller then counts the fault as not injected, and the proxies that did
   * apply the rule would otherwise keep delaying until the end of the run.
   */
  async delay(target: NetNode, delayMs: number, jitterMs: number): Promise<void> {
    const results = await Promise.allSettled(
      [...this.#proxies].map(([name, proxy]) => {
        const peer = name === target.name ? ALL_PEERS : target.address;
        const rules: DelayRule[] = [{ peer, delayMs, jitterMs }];
        return proxy.setRules(rules);
      }),
    );
    const failure = results.find((result) => result.status === 'rejected');
    if (failure === undefined) return;
    // Best effort, so that the error raised is the one that stopped the delay. A proxy that fails
    // to clear keeps its rule, which matters only when it applied the delay above and then broke.
    await Promise.allSettled([...this.#proxies.values()].map((proxy) => proxy.setRules([])));
    throw failure.reason;
  }

  /** Describes each proxy that exited without stop(); empty while all of them run. */
  crashed(): string[] {
    return [...this.#proxies.values()].flatMap((proxy) =>
      proxy.unexpectedExit === null ? [] : [`delay proxy ${proxy.label} ${proxy.unexpectedExit}`],
    );
  }

  /** Removes every delay. Bytes already held back still arrive at their time and in order. */
  async clear(): Promise<void> {
    await Promise.all([...this.#proxies.values()].map((proxy) => proxy.setRules([])));
  }

  /** Stops every proxy process. The nat rules are removed with the namespaces. */
  async stop(): Promise<void> {
    attached.delete(this.#network);
    await Promise.all([...this.#proxies.values()].map((proxy) => proxy.stop()));
  }
}

/** In each node's namespace, sends TCP to every other node's RPC port to that node's proxy port. */
async function addRedirects(nodes: readonly NetNode[], basePort: number): Promise<void> {
  for (const from of nodes) {
    for (const [i, to] of nodes.entries()) {
      if (to === from) continue;
      const { rpcPort, proxyPort } = proxiedServerPorts(basePort, i + 1);
      await runInNamespace(from.namespace, 'iptables', [
        '-w',
        '-t',
        'nat',
        '-A',
        'OUTPUT',
        '-p',
        'tcp',
        '-d',
        to.address,
        '--dport',
        String(rpcPort),
        '-j',
        'DNAT',
        '--to-destination',
        `${to.address}:${proxyPort}`,
      ]);
    }
  }
}

// The proxies of each network, so that the delay fault finds them through the FaultContext's network.
const attached = new WeakMap<FaultNetwork, DelayProxies>();

/** Returns the proxies the run started for `network`, or null when it started none. */
export function delayProxiesOf(network: FaultNetwork): DelayProxies | null {
  return attached.get(network) ?? null;
}
