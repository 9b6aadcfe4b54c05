#!/usr/bin/env node
// Starts a local cluster of server agents (and client agents with -clients), prints their
// addresses, the leader, the management token with -acl and commands to try, and keeps it running
// until Ctrl-C (SIGINT), SIGTERM or SIGHUP (a closed terminal). Then it stops every agent and task
// it started and exits 0. A second signal exits at once. It exits 1 when every agent crashed.
import { Command, Option } from 'commander';
import type { LogLevel } from '../src/server/agent-config.js';
import { integerAtLeast, nomadStyleArgv } from './cli-args.js';
import { Cluster, STOP_SIGNALS } from './launcher.js';
import { startBanner } from './start-banner.js';

interface StartFlags {
  readonly servers: number;
  readonly clients: number;
  readonly acl?: boolean;
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
  .option('--clients <n>', 'number of client agents, with raw_exec enabled', integerAtLeast(0), 0)
  .option(
    '--acl',
    'enable ACLs on every server and bootstrap them; the management token is printed and written to <folder>/bootstrap-token',
  )
  .option(
    '--data <dir>',
    'folder for the agents (kept at exit; a folder from an earlier run starts that cluster again). Default: a temporary folder, removed at exit',
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
/** The signal that asked for a stop, or null while the cluster should run. */
let stopSignal: NodeJS.Signals | null = null;
let stopSignalAt = 0;
/**
 * A repeat of the stop signal within this time is the same Ctrl-C, not a second one. `npm start`
 * forwards the SIGINT that the terminal sent to its whole process group, so the launcher gets it
 * twice, and npm's copy can arrive late when the machine is busy.
 */
const REPEAT_GRACE_MS = 1000;
// With the output piped (npm start | tee log), Ctrl-C may close the reader first; a write to it
// then fails with EPIPE, which must not stop the launcher before it has stopped the agents.
process.stdout.on('error', () => undefined);

/** Stops the cluster and exits: 0 when every agent and task stopped, 1 otherwise. */
async function stopAndExit(running: Cluster): Promise<never> {
  const clients = running.clients().length;
  const agents = `${running.servers().length} servers${clients === 0 ? '' : ` and ${clients} client${clients === 1 ? '' : 's'}`}`;
  process.stdout.write(
    `\n${stopSignal ?? 'stop'}: stopping ${agents}${clients === 0 ? '' : ' and their tasks'}...\n`,
  );
  try {
    await running.stop();
  } catch (err) {
    process.stderr.write(`cannot stop the cluster cleanly: ${(err as Error).message}\n`);
    process.exit(1);
  }
  process.stdout.write(`stopped${flags.data === undefined ? '' : `; data kept in ${running.root}`}\n`);
  process.exit(0);
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopSignal === signal && performance.now() - stopSignalAt < REPEAT_GRACE_MS) return;
  if (stopSignal !== null) {
    // A second Ctrl-C: the exit hooks SIGKILL the agents and the tasks the clients recorded.
    process.stderr.write(`${signal} again: exiting now; agents and tasks are killed\n`);
    process.exit(1);
  }
  stopSignal = signal;
  stopSignalAt = performance.now();
  // While the cluster starts, the launcher's own handler stops what has started and ends the
  // start's waits. The start then raises or returns, and the code after Cluster.start() exits.
  if (cluster !== null) void stopAndExit(cluster);
  else process.stdout.write(`\n${signal}: stopping the agents started so far...\n`);
}
for (const signal of STOP_SIGNALS) process.on(signal, onSignal);

const startedAt = performance.now();
try {
  cluster = await Cluster.start({
    servers: flags.servers,
    clients: flags.clients,
    acl: flags.acl === true,
    dataRoot: flags.data,
    basePort: flags.httpPort,
    entry: flags.dist === true ? 'dist' : 'source',
    logLevel: flags.logLevel,
    onUnexpectedExit(agent, exit) {
      process.stderr.write(
        `${agent.name} exited by itself (code ${exit.code}, signal ${exit.signal}); log: ${agent.logPath}\n`,
      );
      // With no agent left the launcher has nothing to keep running, and a crash is no clean stop.
      if (cluster !== null && stopSignal === null && cluster.allAgentsExited()) {
        process.stderr.write(`every agent exited; logs in ${cluster.root}\n`);
        void cluster.stop({ keepData: true }).finally(() => process.exit(1));
      }
    },
  });
} catch (err) {
  if (stopSignal !== null) {
    process.stdout.write(`${stopSignal} during the start: stopped\n`);
    process.exit(0);
  }
  process.stderr.write(`cannot start the cluster: ${(err as Error).message}\n`);
  process.exit(1);
}
if (
  cluster.reused &&
  program.getOptionValueSource('servers') === 'cli' &&
  flags.servers !== cluster.servers().length
) {
  // A kept folder restarts the servers it contains; more servers join with addServer, not a flag.
  process.stderr.write(
    `-servers ${flags.servers} ignored: ${cluster.root} contains a cluster of ${cluster.servers().length} servers, which restarted as they were\n`,
  );
}
if (stopSignal !== null) await stopAndExit(cluster);

try {
  const leader = await cluster.waitForLeader(60_000);
  const seconds = (performance.now() - startedAt) / 1000;
  process.stdout.write(startBanner({ cluster, leader, seconds, temporary: flags.data === undefined }));
} catch (err) {
  process.stderr.write(`no leader: ${(err as Error).message}\n`);
  await cluster.stop({ keepData: true }).catch(() => undefined);
  process.stderr.write(`agents stopped; logs kept in ${cluster.root}\n`);
  process.exit(1);
}
