import { runInNamespace } from './command.js';

/**
 * Chain that holds every fault rule of a server's namespace. INPUT and OUTPUT jump to it, so a
 * rule matching on `-s PEER` acts on what the server receives and one on `-d PEER` on what it
 * sends. Removing a fault deletes its own rules and leaves the chain and the jumps in place.
 */
export const FAULT_CHAIN = 'SIGNET-FAULTS';

/** One iptables rule in FAULT_CHAIN of one namespace, as the arguments after `-A CHAIN`. */
export interface NetRule {
  readonly namespace: string;
  readonly spec: readonly string[];
}

/** Creates FAULT_CHAIN in `namespace` and makes INPUT and OUTPUT jump to it. */
export async function installFaultChain(namespace: string): Promise<void> {
  await iptables(namespace, ['-N', FAULT_CHAIN]);
  await iptables(namespace, ['-A', 'INPUT', '-j', FAULT_CHAIN]);
  await iptables(namespace, ['-A', 'OUTPUT', '-j', FAULT_CHAIN]);
}

/** Appends `rules` in order. When one fails, deletes those already added, then raises. */
export async function addRules(rules: readonly NetRule[]): Promise<void> {
  const added: NetRule[] = [];
  try {
    for (const rule of rules) {
      await iptables(rule.namespace, ['-A', FAULT_CHAIN, ...rule.spec]);
      added.push(rule);
    }
  } catch (err) {
    await deleteRules(added);
    throw err;
  }
}

/** Deletes each of `rules` once: the first rule of the chain with the same spec. */
export async function deleteRules(rules: readonly NetRule[]): Promise<void> {
  for (const rule of rules) await iptables(rule.namespace, ['-D', FAULT_CHAIN, ...rule.spec]);
}

/** Deletes every rule in FAULT_CHAIN of `namespace`. */
export async function flushFaultChain(namespace: string): Promise<void> {
  await iptables(namespace, ['-F', FAULT_CHAIN]);
}

/** Lists the rules of FAULT_CHAIN in `namespace`, in `iptables -S` form, without the chain's own line. */
export async function listFaultRules(namespace: string): Promise<string[]> {
  const output = await iptables(namespace, ['-S', FAULT_CHAIN]);
  return output
    .split('\n')
    .filter((line) => line.startsWith('-A '))
    .map((line) => line.trim());
}

/**
 * Rules that drop each packet between `node` and each of `peers`, in both directions, with
 * probability `probability` (iptables' statistic match in random mode).
 */
export function lossRules(node: string, peers: readonly string[], probability: number): NetRule[] {
  const random = ['-m', 'statistic', '--mode', 'random', '--probability', probability.toFixed(2)];
  return peers.flatMap((peer) => [
    { namespace: node, spec: ['-s', peer, ...random, '-j', 'DROP'] },
    { namespace: node, spec: ['-d', peer, ...random, '-j', 'DROP'] },
  ]);
}

function iptables(namespace: string, args: readonly string[]): Promise<string> {
  // -w waits for the xtables lock rather than failing when another iptables runs at that moment.
  return runInNamespace(namespace, 'iptables', ['-w', ...args]);
}
