import type { Cluster, ServerHandle } from './launcher.js';

export interface BannerInput {
  readonly cluster: Cluster;
  readonly leader: ServerHandle;
  /** Time from the launch until the leader was known, in seconds. */
  readonly seconds: number;
  /** True when the cluster folder is removed at exit. */
  readonly temporary: boolean;
}

/**
 * Builds what `cluster/start.ts` prints once the cluster runs: the agents, the leader, and the
 * commands to try. With ACLs, the management token's secret appears once, on the line
 * `  export NOMAD_ADDR=URL NOMAD_TOKEN=SECRET`, which scripts wait for.
 */
export function startBanner({ cluster, leader, seconds, temporary }: BannerInput): string {
  const servers = cluster.servers();
  const clients = cluster.clients();
  const where = temporary ? 'a temporary folder, removed at exit' : 'kept at exit';
  const agents = `${servers.length} servers${clients.length > 0 ? ` and ${clients.length} client${clients.length > 1 ? 's' : ''}` : ''}`;
  const lines = [`${cluster.reused ? 'restarted' : 'started'} ${agents} in ${cluster.root} (${where})`];

  const rows = [
    ['name', 'http', 'rpc', 'log'],
    ...servers.map((server) => [server.name, server.httpAddr, server.rpcAddr, server.logPath]),
    // A client agent listens on no port: it dials the servers' RPC addresses.
    ...clients.map((client) => [client.name, '-', '-', client.logPath]),
  ];
  const width = Math.max(...rows.map((row) => row[0]!.length)) + 2;
  for (const row of rows) {
    lines.push(`  ${row[0]!.padEnd(width)}${row[1]!.padEnd(22)}${row[2]!.padEnd(22)}${row[3]}`);
  }
  lines.push(
    `leader: ${leader.name} (http ${leader.httpAddr}, rpc ${leader.rpcAddr}), known ${seconds.toFixed(1)} s after the launch`,
  );

  const address = `http://${servers[0]!.httpAddr}`;
  const token = cluster.managementToken;
  const commands =
    token === null
      ? [`export NOMAD_ADDR=${address}`]
      : [`export NOMAD_ADDR=${address} NOMAD_TOKEN=${token}`, 'npx signet acl token self'];
  commands.push('npx signet operator raft list-peers', 'npx signet server members');
  // No `job run` here: examples/example.nomad.hcl has the README walk-through's job, group and
  // task names, and Signet keeps an allocation on its old job version when the job changes, so
  // the walk-through's template would never run.
  if (clients.length > 0) commands.push('npx signet node status');
  commands.push('npm run demo    # the workload identity walk-through, on a cluster of its own');

  lines.push('');
  if (token !== null) lines.push(`management token: also in ${cluster.tokenFile} (owner-only)`);
  lines.push('try, in another terminal:', ...commands.map((command) => `  ${command}`), '');
  lines.push(`press Ctrl-C to stop the cluster${clients.length > 0 ? ' and every task it ran' : ''}`);
  return `${lines.join('\n')}\n`;
}
