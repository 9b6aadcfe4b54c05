#!/usr/bin/env node
// The workload identity walk-through. It starts a cluster of 3 servers and 1 client with ACLs
// on free ports, runs each step of the story with the commands a user would type, and checks what
// happened. It exits 0 when every step behaved, and 1 at the first one that did not, keeping the
// cluster's folder and logs.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import type { LogLevel } from '../src/server/agent-config.js';
import { type AgentEntry, findRepoRoot, staleBuildReason } from './agent-entry.js';
import { nomadStyleArgv } from './cli-args.js';
import { DemoContext, StepFailure } from './demo/demo-context.js';
import { SignetRunner } from './demo/signet-runner.js';
import { STEPS, STOP_STEP, type Step } from './demo/steps.js';
import { Cluster } from './launcher.js';

interface DemoFlags {
  readonly dist?: boolean;
  readonly source?: boolean;
  readonly logLevel: LogLevel;
}

const flags = new Command('cluster/demo.ts')
  .description(
    'Walk through workload identity on a new local cluster (3 servers, 1 client, ACLs) and check every step.',
  )
  .option('--dist', 'run the agents and the CLI from dist/ (npm run build); fails when the build is stale')
  .option('--source', 'run the agents and the CLI from the sources through tsx')
  .addOption(
    new Option('--log-level <level>', 'agent log level')
      .choices(['trace', 'debug', 'info', 'warn', 'error'])
      .default('info'),
  )
  .addHelpText(
    'after',
    '\nWithout -dist or -source, the build in dist/ is used when it is newer than every file under src/.',
  )
  .parse(nomadStyleArgv(process.argv))
  .opts<DemoFlags>();

const print = (line: string): void => {
  process.stdout.write(`${line}\n`);
};
process.stdout.on('error', () => undefined);

const repoRoot = findRepoRoot();
const entry = chooseEntry();
const signet = new SignetRunner(entry, repoRoot, print);
const startedAt = performance.now();
const crashes: string[] = [];

print('Signet workload identity demo: 3 servers, 1 client, ACLs, on free ports of 127.0.0.1');
print(`signet below means ${signet.describe()}`);
let cluster: Cluster;
try {
  cluster = await Cluster.start({
    servers: 3,
    clients: 1,
    acl: true,
    entry,
    logLevel: flags.logLevel,
    // Generous: CI may run the demo beside other tests on 2 cores.
    startTimeoutMs: 120_000,
    onUnexpectedExit(agent, exit) {
      crashes.push(
        `${agent.name} exited by itself (code ${exit.code}, signal ${exit.signal}); log ${agent.logPath}`,
      );
    },
  });
} catch (err) {
  print(`FAIL: cannot start the cluster: ${(err as Error).message}`);
  process.exit(1);
}

for (const agent of [...cluster.servers(), ...cluster.clients()])
  print(`  ${agent.name.padEnd(10)}${agent.logPath}`);
const workDir = join(cluster.root, 'demo');
await mkdir(workDir, { recursive: true });
const demo = new DemoContext(cluster, signet, workDir, print);
print('every command below runs with');
demo.printExports();

const steps: readonly Step[] = [...STEPS, STOP_STEP];
for (const [index, step] of steps.entries()) {
  print(`\nstep ${index + 1}: ${step.title}`);
  const stepStartedAt = performance.now();
  try {
    const observed = await step.run(demo);
    if (crashes.length > 0) throw new StepFailure('no agent to exit by itself', crashes.join('; '));
    print(`  ok: ${observed} [${seconds(stepStartedAt)} s]`);
  } catch (err) {
    print(`  FAIL: ${err instanceof StepFailure ? err.message : `${(err as Error).stack ?? String(err)}`}`);
    await fail(cluster);
  }
}
print(`\ndemo passed: ${steps.length} steps in ${seconds(startedAt)} s`);
process.exit(0);

/** Stops every agent and task, keeps the cluster's folder, prints where the logs are, and exits 1. */
async function fail(failed: Cluster): Promise<never> {
  await failed.stop({ keepData: true }).catch((err: unknown) => {
    print(`  (stopping the cluster failed too: ${(err as Error).message})`);
  });
  print(`\ndemo failed after ${seconds(startedAt)} s; the cluster's folder is kept: ${failed.root}`);
  for (const agent of [...failed.servers(), ...failed.clients()])
    print(`  log of ${agent.name}: ${agent.logPath}`);
  process.exit(1);
}

/** Chooses the dist/ build when it is current (or with -dist), else the sources through tsx (or with -source). */
function chooseEntry(): AgentEntry {
  if (flags.dist === true && flags.source === true) {
    process.stderr.write('cluster/demo.ts: -dist and -source exclude each other\n');
    process.exit(1);
  }
  if (flags.source === true) return 'source';
  const stale = staleBuildReason(repoRoot);
  if (flags.dist === true && stale !== null) {
    process.stderr.write(`cluster/demo.ts: ${stale}: run npm run build, or drop -dist\n`);
    process.exit(1);
  }
  return stale === null ? 'dist' : 'source';
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(1);
}
