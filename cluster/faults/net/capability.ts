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
 * Returns why `tc qdisc ... netem` cannot work in `namespace` on `device`, or null when it can.
 * A kernel built without CONFIG_NET_SCH_NETEM (and without modules to load it) lacks the netem
 * qdisc, and then `tc` reports "Specified qdisc kind is unknown".
 */
export async function netemProblem(namespace: string, device: string): Promise<string | null> {
  try {
    await runInNamespace(namespace, 'tc', ['qdisc', 'add', 'dev', device, 'root', 'netem', 'delay', '1ms']);
  } catch (err) {
    return `the netem qdisc is not available: ${(err as Error).message}; the kernel needs CONFIG_NET_SCH_NETEM (module sch_netem)`;
  }
  await runInNamespace(namespace, 'tc', ['qdisc', 'del', 'dev', device, 'root']);
  return null;
}
