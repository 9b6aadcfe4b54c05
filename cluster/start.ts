#!/usr/bin/env node
// Starts a local cluster of server agents, prints their addresses and the leader, and keeps it
// running until Ctrl-C (SIGINT) or SIGTERM, then stops every server.
import { Command, Option } from 'commander';
import type { LogLevel } from '../src/server/agent-config.js';
import { integerAtLeast, nomadStyleArgv } from './cli-args.js';
import { Cluster } from './launcher.js';

interface StartFlags {
  readonly servers: number;
  readonly data?: string;
  readonly httpPort?: number;
  readonly dist?: boolean;
  readonly logLevel: LogLevel;
}

const program = new Command('cluster/start.ts')
  .description('Start a local Signet cluster on 127.0.0.1 and keep it running until Ctrl-C.')
  .option(
    '--servers <n>',
    'number of servers, each started with bootstrap_expect set to it',
    integerAtLeast(1),
    3,
  )
  .option(
    '--data <dir>',
    'folder for the servers (kept at exit; a folder from an earlier run starts that cluster again). Default: a temporary folder, removed at exit',
  )
  .option(
    '--http-port <port>',
    'HTTP port of s1; server N listens on HTTP PORT+10*(N-1) and RPC one above. Default: free ports',
    integerAtLeast(1),
  )
  .option('--dist', 'run the compiled agent in dist/ (npm run build) instead of the sources through tsx')
  .addOption(
    new Option('--log-level <level>', 'agent log level')
      .choices(['trace', 'debug', 'info', 'warn', 'error'])
      .default('info'),
  )
  .addHelpText('after', '\nFlags take one dash or two: -servers 5 and --servers 5 are the same.')
  .parse(nomadStyleArgv(process.argv));

const flags = program.opts<StartFlags>();
let cluster: Cluster | null = null;
let stopping = false;
// With the output piped (npm start | tee log), Ctrl-C may close the reader first; a write to it
// then fails with EPIPE, which must not stop the launcher before it has stopped the servers.
process.stdout.on('error', () => undefined);

function onSignal(signal: NodeJS.Signals): void {
  // The launcher's own handler stops servers that are still starting.
  if (cluster === null || stopping) return;
  stopping = true;
  process.stdout.write(`\n${signal}: stopping ${cluster.servers().length} servers...\n`);
  void cluster.stop().then(() => {
    process.stdout.write(`stopped${flags.data === undefined ? '' : `; data kept in ${cluster?.root}`}\n`);
    process.exit(0);
  });
}
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

const startedAt = performance.now();
try {
  cluster = await Cluster.start({
    servers: flags.servers,
    dataRoot: flags.data,
    basePort: flags.httpPort,
    entry: flags.dist === true ? 'dist' : 'source',
    logLevel: flags.logLevel,
    onUnexpectedExit(server, exit) {
      process.stderr.write(
        `${server.name} exited by itself (code ${exit.code}, signal ${exit.signal}); log: ${server.logPath}\n`,
      );
    },
  });
} catch (err) {
  process.stderr.write(`cannot start the cluster: ${(err as Error).message}\n`);

  process.exit(1);
}

const where = flags.data === undefined ? 'a temporary folder, removed at exit' : 'kept at exit';
process.stdout.write(
  `${cluster.reused ? 'restarted' : 'started'} ${cluster.servers().length} servers in ${cluster.root} (${where})\n`,
);
const rows = cluster
  .servers()
  .map((server) => [server.name, server.httpAddr, server.rpcAddr, server.logPath]);
for (const row of [['name', 'http', 'rpc', 'log'], ...rows]) {
  process.stdout.write(`  ${row[0]!.padEnd(6)}${row[1]!.padEnd(22)}${row[2]!.padEnd(22)}${row[3]}\n`);
}

try {
  const leader = await cluster.waitForLeader(60_000);
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  process.stdout.write(
    `leader: ${leader.name} (rpc ${leader.rpcAddr}), known ${seconds} s after the launch\n`,
  );
} catch (err) {
  process.stderr.write(`no leader: ${(err as Error).message}\n`);
  await cluster.stop({ keepData: true });
  process.stderr.write(`servers stopped; logs kept in ${cluster.root}\n`);
  process.exit(1);
}
const first = cluster.servers()[0]!.httpAddr;
process.stdout.write(`try: export NOMAD_ADDR=http://${first}; npx signet operator raft list-peers\n`);
process.stdout.write('press Ctrl-C to stop the cluster\n');
