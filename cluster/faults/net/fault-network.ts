import { NetCommandError, runNet, runNetSync } from './command.js';
import { addRules, deleteRules, flushFaultChain, installFaultChain, type NetRule } from './rules.js';

/** Placement of a server in its namespace: its address and the command prefix that enters it. */
export interface NamespacePlacement {
  readonly host: string;
  /** `ip netns exec NAME`: it execs the agent, so the agent keeps the pid the launcher signals. */
  readonly commandPrefix: readonly string[];
}

/** One server's place on the fault network. */
export interface NetNode {
  readonly name: string;
  readonly namespace: string;
  readonly address: string;
}

/** The interface of each server namespace, its end of the veth pair to the bridge. */
export const NODE_DEVICE = 'eth0';

/** Subnets 10.213.N.0/24 are candidates; N starts at a value drawn from the seed. */
const SUBNET_PREFIX = '10.213';
const SUBNET_CANDIDATES = 250;
/** Host part of the address on the root namespace's end of the network: the load process's source. */
const ROOT_HOST = 1;
/** Host part of server N's address is FIRST_SERVER_HOST + N. */
const FIRST_SERVER_HOST = 10;
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * A network that one fault run creates for its servers. Each server gets a namespace with one veth
 * on a bridge, and the bridge has a namespace of its own, so the host's bridge netfilter and
 * FORWARD rules never see the servers' traffic. One more veth joins the root namespace to the
 * bridge with the address `.1`, so that the runner and the load process reach every server. The
 * host's interfaces, routes and firewall stay as they are, except for that veth and the connected
 * route of its /24.
 *
 * Names carry the seed: namespaces `signet-f<seed>-<server>` and `signet-f<seed>-net`, root
 * link `sf<seed>`. remove() deletes all of them; a signal or the process's exit also deletes
 * them, synchronously, in case the run ends before remove().
 */
export class FaultNetwork {
  readonly subnet: string;
  readonly rootAddress: string;
  readonly #nodes: ReadonlyMap<string, NetNode>;
  readonly #bridgeNamespace: string;
  readonly #rootLink: string;
  #removed = false;
  readonly #onSignal = (signal: NodeJS.Signals): void => {
    this.#removeSync();
    // With no other handler left (the launcher's comes only with the cluster), the signal's
    // default action ends the process, as it would have without this handler.
    if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
  };
  readonly #onExit = (): void => {
    this.#removeSync();
  };

  private constructor(subnet: string, nodes: readonly NetNode[], bridgeNamespace: string, rootLink: string) {
    this.subnet = subnet;
    this.rootAddress = `${subnet}.${ROOT_HOST}`;
    this.#nodes = new Map(nodes.map((node) => [node.name, node]));
    this.#bridgeNamespace = bridgeNamespace;
    this.#rootLink = rootLink;
  }

  /** Namespace names of the run with `seed`; a test can check that none is left. */
  static namespacePrefix(seed: number): string {
    return `signet-f${seed}-`;
  }

  /** Name of the root namespace's link of the run with `seed` (at most 15 characters, as Linux requires). */
  static rootLinkName(seed: number): string {
    return `sf${seed % 1_000_000_000}`;
  }

  /**
   * Creates the network for servers named `serverNames` (s1, s2, ... as the launcher names them).
   * Raises when a namespace of this seed exists already: a run with the same seed is going on, or
   * one was killed before it cleaned up.
   */
  static async create(seed: number, serverNames: readonly string[]): Promise<FaultNetwork> {
    const prefix = FaultNetwork.namespacePrefix(seed);
    const existing = (await listNamespaces()).filter((name) => name.startsWith(prefix));
    if (existing.length > 0) {
      throw new Error(
        `network namespaces of seed ${seed} exist already (${existing.join(', ')}): another run with this seed is going on, or one left them behind; remove them with: ${existing.map((name) => `ip netns del ${name}`).join('; ')}`,
      );
    }
    const subnet = await freeSubnet(seed);
    const nodes = serverNames.map((name, i) => ({
      name,
      namespace: `${prefix}${name}`,
      address: `${subnet}.${FIRST_SERVER_HOST + i + 1}`,
    }));
    const network = new FaultNetwork(subnet, nodes, `${prefix}net`, FaultNetwork.rootLinkName(seed));
    // Registered before the first namespace exists, so an interrupted create cleans up too.
    network.#watchProcess();
    try {
      await network.#build();
    } catch (err) {
      await network.remove();
      throw err;
    }
    return network;
  }

  nodes(): NetNode[] {
    return [...this.#nodes.values()];
  }

  node(name: string): NetNode {
    const node = this.#nodes.get(name);
    if (node === undefined) {
      throw new Error(
        `no namespace for server ${name}: the fault network was made for ${[...this.#nodes.keys()].join(', ')}`,
      );
    }
    return node;
  }

  /** Returns how the launcher places server `name`: bound to its address, started in its namespace. */
  placement(name: string): NamespacePlacement {
    const node = this.node(name);
    return { host: node.address, commandPrefix: ['ip', 'netns', 'exec', node.namespace] };
  }

  addRules(rules: readonly NetRule[]): Promise<void> {
    return addRules(rules);
  }

  deleteRules(rules: readonly NetRule[]): Promise<void> {
    return deleteRules(rules);
  }

  /** Removes every fault rule on every server, whichever fault put it there. */
  async healAll(): Promise<void> {
    for (const node of this.#nodes.values()) await flushFaultChain(node.namespace);
  }

  /** Deletes every namespace and link of the network. Safe to call twice. */
  async remove(): Promise<void> {
    if (this.#removed) return;
    this.#unwatchProcess();
    // Deleting the root link and the switch namespace destroys every veth pair, and a server's
    // namespace ends once no process runs in it any more.
    await ignoreMissing(runNet('ip', ['link', 'del', this.#rootLink]));
    for (const namespace of this.#namespaces())
      await ignoreMissing(runNet('ip', ['netns', 'del', namespace]));
    this.#removed = true;
  }

  #namespaces(): string[] {
    return [this.#bridgeNamespace, ...[...this.#nodes.values()].map((node) => node.namespace)];
  }

  async #build(): Promise<void> {
    const bridgeNamespace = this.#bridgeNamespace;
    await runNet('ip', ['netns', 'add', bridgeNamespace]);
    await runNet('ip', ['-n', bridgeNamespace, 'link', 'add', 'br0', 'type', 'bridge']);
    await runNet('ip', ['-n', bridgeNamespace, 'link', 'set', 'br0', 'up']);

    await runNet('ip', [
      'link',
      'add',
      this.#rootLink,
      'type',
      'veth',
      'peer',
      'name',
      'root',
      'netns',
      bridgeNamespace,
    ]);
    await runNet('ip', ['-n', bridgeNamespace, 'link', 'set', 'root', 'master', 'br0', 'up']);
    await runNet('ip', ['addr', 'add', `${this.rootAddress}/24`, 'dev', this.#rootLink]);
    await runNet('ip', ['link', 'set', this.#rootLink, 'up']);

    for (const [i, node] of [...this.#nodes.values()].entries()) {
      const port = `n${i + 1}`;
      await runNet('ip', ['netns', 'add', node.namespace]);
      // A server reaches its own address through lo, which a new namespace has down.
      await runNet('ip', ['-n', node.namespace, 'link', 'set', 'lo', 'up']);
      await runNet('ip', [
        '-n',
        bridgeNamespace,
        'link',
        'add',
        port,
        'type',
        'veth',
        'peer',
        'name',
        NODE_DEVICE,
        'netns',
        node.namespace,
      ]);
      await runNet('ip', ['-n', bridgeNamespace, 'link', 'set', port, 'master', 'br0', 'up']);
      await runNet('ip', ['-n', node.namespace, 'addr', 'add', `${node.address}/24`, 'dev', NODE_DEVICE]);
      await runNet('ip', ['-n', node.namespace, 'link', 'set', NODE_DEVICE, 'up']);
      await installFaultChain(node.namespace);
    }
  }

  #watchProcess(): void {
    for (const signal of STOP_SIGNALS) process.on(signal, this.#onSignal);
    process.on('exit', this.#onExit);
  }

  #unwatchProcess(): void {
    for (const signal of STOP_SIGNALS) process.off(signal, this.#onSignal);
    process.off('exit', this.#onExit);
  }

  /**
   * Deletes the names at once, without waiting for the servers to stop: their namespaces end
   * when their processes do. It unregisters itself, so a signal's other handlers (the launcher's
   * stop) still decide whether the signal ends the process.
   */
  #removeSync(): void {
    if (this.#removed) return;
    this.#unwatchProcess();
    runNetSync('ip', ['link', 'del', this.#rootLink]);
    for (const namespace of this.#namespaces()) runNetSync('ip', ['netns', 'del', namespace]);
    this.#removed = true;
  }
}

/** Lists the names of the network namespaces that `ip netns list` prints. */
export async function listNamespaces(): Promise<string[]> {
  const output = await runNet('ip', ['netns', 'list']);
  return output
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter((name) => name !== '');
}

/**
 * Picks a /24 in 10.213.0.0/16 that no route of the root namespace covers, starting from one drawn
 * from the seed, so that two runs with other seeds usually get other subnets.
 * NOTE: it checks only the routes of this machine; a 10.213.x.0/24 used elsewhere but not routed here
 * would still be picked, and is then shadowed for this machine only while the run lasts.
 */
async function freeSubnet(seed: number): Promise<string> {
  const routes = await runNet('ip', ['-4', 'route', 'show', 'table', 'all']);
  // A route of this machine inside the /24 (the subnet itself, or a host in it) makes it taken.
  const taken = (third: number) => routes.includes(`${SUBNET_PREFIX}.${third}.`);
  for (let i = 0; i < SUBNET_CANDIDATES; i++) {
    const third = ((seed % SUBNET_CANDIDATES) + i) % SUBNET_CANDIDATES;
    if (!taken(third)) return `${SUBNET_PREFIX}.${third}`;
  }
  throw new Error(`no free subnet in ${SUBNET_PREFIX}.0.0/16: every /24 has a route on this machine`);
}

async function ignoreMissing(step: Promise<unknown>): Promise<void> {
  try {
    await step;
  } catch (err) {
    if (err instanceof NetCommandError && /Cannot find device|No such file|does not exist/.test(err.stderr))
      return;
    throw err;
  }
}
