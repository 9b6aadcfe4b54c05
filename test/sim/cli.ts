/**
 * `npm run sim`: runs seeds of the deterministic Raft simulation and reports violations.
 * The last line of the output sums all seeds:
 * `seeds=N violations=V elections=E commits=C dropped=D partitions=P crashes=K`.
 */
import { availableParallelism } from 'node:os';
import { Command, InvalidArgumentError } from 'commander';
import { DEFAULT_STEPS } from './plan.js';
import { replayCommand, runSeeds, type SeedJob, traceTail } from './runner.js';
import { permanentSeedJobs } from './seeds.js';
import type { SeedResult } from './simulation.js';

interface CliOptions {
  readonly start: number;
  readonly seeds: number;
  readonly servers: number;
  readonly steps: number;
  readonly verbose: boolean;
  readonly jobs: number;
  readonly permanent: boolean;
}

function integer(min: number): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isSafeInteger(parsed) || parsed < min) {
      throw new InvalidArgumentError(`expected an integer of at least ${min}, got "${value}"`);
    }
    return parsed;
  };
}

function serverCount(value: string): number {
  const parsed = Number(value);
  if (![1, 3, 5].includes(parsed))
    throw new InvalidArgumentError(`expected 1, 3 or 5 servers, got "${value}"`);
  return parsed;
}

/** Trace lines printed before each violation when the run was not verbose. */
const TRACE_TAIL_LINES = 25;

/** Failing seeds whose trace tail is printed. Later ones get only their summary. */
const TRACED_FAILURES = 10;

function describeViolation(result: SeedResult, tail: readonly string[]): string {
  const violation = result.violation!;
  return [
    `VIOLATION seed=${result.seed} servers=${result.servers}: ${violation.invariant} at step ${violation.step} (tick ${violation.time.toFixed(2)})`,
    `  ${violation.message}`,
    `  ${JSON.stringify(violation.details)}`,
    ...(tail.length === 0 ? [] : ['  last events:', ...tail.map((line) => `  | ${line}`)]),
    `  replay: ${replayCommand(result)}   (add --verbose for the full trace)`,
  ].join('\n');
}

async function main(): Promise<void> {
  const program = new Command()
    .name('npm run sim --')
    .usage('[options]')
    .argument('[unexpected...]')
    .description(
      'Run seeds of the deterministic Raft simulation: faults, client workload and invariant checks.',
    )
    .option('--start <seed>', 'first seed', integer(0), 1)
    .option('--seeds <count>', 'number of consecutive seeds to run', integer(1), 100)
    .option('--servers <count>', 'founding voters of each cluster: 1, 3 or 5', serverCount, 3)
    .option('--steps <count>', 'steps (events) of the fault phase of each seed', integer(1), DEFAULT_STEPS)
    .option(
      '--jobs <count>',
      'processes that run seeds in parallel',
      integer(1),
      Math.min(2, availableParallelism()),
    )
    .option('--permanent', 'run the permanent seeds of test/sim/seeds.ts instead of a range', false)
    .option('--verbose', 'print every event of every seed (runs in one process)', false)
    .parse();
  const options = program.opts<CliOptions>();
  const stray = program.args;
  if (stray.length > 0) {
    // npm consumes options written before `--`, which leaves their values here.
    program.error(
      `unexpected argument ${JSON.stringify(stray[0])}: put the options after --, as in npm run sim -- --servers 5`,
    );
  }

  const jobs: SeedJob[] = options.permanent
    ? permanentSeedJobs().map(({ seed, servers, steps }) => ({ seed, servers, steps }))
    : Array.from({ length: options.seeds }, (_, i) => ({
        seed: options.start + i,
        servers: options.servers,
        steps: options.steps,
      }));

  const totals = { seeds: 0, violations: 0, elections: 0, commits: 0, dropped: 0, partitions: 0, crashes: 0 };
  const failures: SeedResult[] = [];
  const started = performance.now();
  const trace = options.verbose ? (line: string) => console.log(line) : undefined;
  await runSeeds(
    jobs,
    options.verbose ? 1 : options.jobs,
    (result) => {
      totals.seeds++;
      totals.elections += result.stats.elections;
      totals.commits += result.stats.commits;
      totals.dropped += result.stats.dropped;
      totals.partitions += result.stats.partitions;
      totals.crashes += result.stats.crashes;
      if (result.violation !== null) {
        totals.violations++;
        failures.push(result);
      }
      if (options.verbose) console.log(`seed ${result.seed}: ${JSON.stringify(result.stats)}`);
    },
    trace,
  );

  failures.sort((a, b) => a.seed - b.seed || a.servers - b.servers);
  failures.forEach((failure, i) => {
    const tail = options.verbose || i >= TRACED_FAILURES ? [] : traceTail(failure, TRACE_TAIL_LINES);
    console.log(describeViolation(failure, tail));
  });
  const seconds = (performance.now() - started) / 1000;
  console.log(`ran ${totals.seeds} seed${totals.seeds === 1 ? '' : 's'} in ${seconds.toFixed(1)} s`);
  console.log(
    `seeds=${totals.seeds} violations=${totals.violations} elections=${totals.elections} commits=${totals.commits} dropped=${totals.dropped} partitions=${totals.partitions} crashes=${totals.crashes}`,
  );
  if (totals.violations > 0) process.exitCode = 1;
}

await main();
