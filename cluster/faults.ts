#!/usr/bin/env node
// `npm run faults`: runs a cluster of real server processes under seeded faults while clients
// read and write variables, then checks the recorded history. See docs/faults.md.
import { randomInt } from 'node:crypto';
import { Command, InvalidArgumentError, Option } from 'commander';
import { integerAtLeast } from './cli-args.js';
import { FAULT_KINDS, type FaultKind } from './faults/faults/fault.js';
import { readHistoryFile } from './faults/history.js';
import { describeViolation, judgeRun, type RunViolation } from './faults/runner/check-step.js';
import { runFaults } from './faults/runner/run.js';

interface Flags {
  seed: number;
  duration: number;
  faults: FaultKind[];
  servers: number;
  clients: number;
  rate: number;
  requestTimeoutMs: number;
  recoveryBoundMs: number;
  out?: string;
  check?: string;
}

const program = new Command('faults')
  .description(
    'Run Signet servers under seeded faults while clients use variables, and check the history for linearizability.',
  )
  .option(
    '--seed <n>',
    'seed of the fault schedule and of the clients; default: a random one, printed',
    integerAtLeast(0),
  )
  .option('--duration <seconds>', 'how long the faults and the load run, in seconds', integerAtLeast(1), 60)
  .option('--faults <list>', `comma-separated fault kinds, from ${FAULT_KINDS.join(', ')}`, parseFaultList, [
    ...FAULT_KINDS,
  ])
  .addOption(new Option('--servers <n>', 'number of servers').choices(['3', '5']).default('3'))
  .option('--clients <n>', 'concurrent clients in the load process', integerAtLeast(1), 8)
  .option('--rate <n>', 'target rate of variable calls over all clients, per second', integerAtLeast(1), 100)
  .option(
    '--request-timeout-ms <ms>',
    'a call without a reply in this time is recorded as unknown',
    integerAtLeast(100),
    3_000,
  )
  .option(
    '--recovery-bound-ms <ms>',
    'after the heal, a write must be acknowledged within this time',
    integerAtLeast(100),
    15_000,
  )
  .option(
    '--out <dir>',
    "folder for the history files; default: the cluster's temporary folder, removed when the run passes",
  )
  .option('--check <file>', 'only check a history file that an earlier run wrote, and exit')
  .showHelpAfterError();

const flags = program.parse(process.argv).opts<Omit<Flags, 'servers'> & { servers: string }>();
process.exitCode = await main({ ...flags, servers: Number(flags.servers) });

async function main(flags: Flags): Promise<number> {
  if (flags.check !== undefined) return checkFile(flags.check);
  const seed = flags.seed ?? randomInt(2 ** 31);
  const log = (line: string) => process.stdout.write(`[faults] ${line}\n`);
  log(`seed=${seed} duration=${flags.duration}s faults=${flags.faults.join(',')} servers=${flags.servers}`);
  let result: Awaited<ReturnType<typeof runFaults>>;
  try {
    result = await runFaults({
      seed,
      durationS: flags.duration,
      faults: flags.faults,
      servers: flags.servers,
      clients: flags.clients,
      ratePerSecond: flags.rate,
      requestTimeoutMs: flags.requestTimeoutMs,
      recoveryBoundMs: flags.recoveryBoundMs,
      outDir: flags.out,
      faultsListed: program.getOptionValueSource('faults') === 'cli',
      log,
    });
  } catch (err) {
    process.stderr.write(`fault run with seed ${seed} failed: ${(err as Error).stack ?? err}\n`);
    return 2;
  }

  if (result.violations.length > 0) {
    printViolations(result.violations);
    process.stdout.write(`seed: ${seed}\nfault schedule:\n`);
    for (const fault of result.faults) {
      process.stdout.write(
        `  at ${(fault.startedMs / 1000).toFixed(1)} s for ${fault.planned.holdMs} ms: ${fault.description}\n`,
      );
    }
    process.stdout.write(`history: ${result.historyFile}\n`);
    process.stdout.write(
      `replay the check: node --import tsx cluster/faults.ts --check ${result.historyFile}\n`,
    );
    if (result.keptClusterRoot !== null)
      process.stdout.write(`server folders and logs: ${result.keptClusterRoot}\n`);
  }
  process.stdout.write(
    `operations=${result.operations} faults=${result.faults.length} violations=${result.violations.length}\n`,
  );
  return result.violations.length > 0 ? 1 : 0;
}

/** Checks the linearizability of a history file alone; the run's other checks need the live cluster. */
async function checkFile(file: string): Promise<number> {
  const history = await readHistoryFile(file);
  const violations = judgeRun({ history, lostWrites: [], crashes: [], recoveryMs: 0, recoveryBoundMs: 0 });
  printViolations(violations);
  process.stdout.write(`operations=${history.operations.length} faults=0 violations=${violations.length}\n`);
  return violations.length > 0 ? 1 : 0;
}

function printViolations(violations: readonly RunViolation[]): void {
  for (const violation of violations) {
    for (const line of describeViolation(violation)) process.stdout.write(`${line}\n`);
  }
}

function parseFaultList(value: string): FaultKind[] {
  const kinds = value
    .split(',')
    .map((kind) => kind.trim())
    .filter((kind) => kind !== '');
  for (const kind of kinds) {
    if (!(FAULT_KINDS as readonly string[]).includes(kind)) {
      throw new InvalidArgumentError(
        `unknown fault kind ${JSON.stringify(kind)}; expected some of ${FAULT_KINDS.join(', ')}`,
      );
    }
  }
  return [...new Set(kinds)] as FaultKind[];
}
