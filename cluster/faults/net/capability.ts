import { NetCommandError, runInNamespace, runNet } from './command.js';

/**
 * Returns why this machine cannot run the network faults, or null when it can. They need root (or
 * CAP_NET_ADMIN and CAP_SYS_ADMIN) for `ip netns`, and the programs `ip` and `iptables`.
 * It creates and removes a namespace named `probe`, which the caller makes unique to its run.
 */
export async function networkFaultsProblem(probe: string): Promise<string | null> {
  for (const program of ['ip', 'iptables']) {
    try {
      await runNet(program, ['-V']);
    } catch (err) {
      if (err instanceof NetCommandError && err.code === 'ENOENT')
        return `${program} is not installed (Debian: apt-get install ${program === 'ip' ? 'iproute2' : 'iptables'})`;
      throw err;
    }
  }
  try {
    await runNet('ip', ['netns', 'add', probe]);
  } catch (err) {
    const uid = process.getuid?.();
    const who = uid === undefined ? '' : ` (running as uid ${uid})`;
    return `cannot create a network namespace${who}: ${(err as Error).message}; network faults need root or CAP_NET_ADMIN and CAP_SYS_ADMIN`;
  }
  try {
    await runInNamespace(probe, 'iptables', ['-w', '-S']);
    return null;
  } catch (err) {
    return `iptables does not work inside a network namespace: ${(err as Error).message}`;
  } finally {
    await runNet('ip', ['netns', 'del', probe]);
  }
}

/**
 * Returns why the delay proxies cannot be put in front of the servers in `namespace`, or null when
 * they can. They need iptables' nat table in the servers' namespaces (a DNAT rule in OUTPUT), which
 * a kernel without CONFIG_NF_NAT (or its iptables module) lacks. It adds one rule for a documentation
 * address (192.0.2.1, RFC 5737) and deletes it again.
 */
export async function delayProxyProblem(namespace: string): Promise<string | null> {
  const rule = [
    'OUTPUT',
    '-p',
    'tcp',
    '-d',
    '192.0.2.1',
    '--dport',
    '9',
    '-j',
    'DNAT',
    '--to-destination',
    '192.0.2.1:10',
  ];
  try {
    await runInNamespace(namespace, 'iptables', ['-w', '-t', 'nat', '-A', ...rule]);
  } catch (err) {
    return `iptables' nat table does not work in a network namespace: ${(err as Error).message}; the delay proxies need DNAT (kernel CONFIG_NF_NAT and CONFIG_IP_NF_NAT)`;
  }
  await runInNamespace(namespace, 'iptables', ['-w', '-t', 'nat', '-D', ...rule]);
  return null;
}
