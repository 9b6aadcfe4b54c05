#!/usr/bin/env node
// Stops a follower while namespaces are written, starts it again with its data, and measures how
// long it takes to have every write acknowledged while it was down.
import { Option } from 'commander';
import { integerAtLeast } from '../cli-args.js';
import {
  formatSummary,
  parseScenarioFlags,
  pickRandom,
  runScenario,
  waitForAcks,
  waitForWritesOn,
} from './common.js';

const flags = parseScenarioFlags<{ signal: 'SIGTERM' | 'SIGKILL'; writesWhileDown: number }>(
  'restart-server',
  'Stop a follower while writes run, restart it, and measure how long it takes to catch up.',
  5,
  (program) => {
    program
      .addOption(
        new Option('--signal <signal>', 'signal that stops the follower')
          .choices(['SIGTERM', 'SIGKILL'])
          .default('SIGTERM'),
      )
      .option(
        '--writes-while-down <n>',
        'acknowledged writes to wait for while the follower is down',
        integerAtLeast(1),
        200,
      );
  },
);

await runScenario('restart-server', flags, async ({ cluster, ledger, log, check }) => {
  const startMs: number[] = [];
  const catchUpMs: number[] = [];

  for (let trial = 1; trial <= flags.trials; trial++) {
    const leader = await cluster.waitForLeader(60_000);
    const follower = pickRandom(cluster.live().filter((server) => server !== leader));
    await waitForAcks(ledger, 20, performance.now());

    const exit = await follower.kill(flags.signal);
    if (flags.signal === 'SIGTERM') {
      check(
        exit.code === 0,
        `trial ${trial}: ${follower.name} exited with code ${exit.code} on SIGTERM, expected 0`,
      );
    }
    await waitForAcks(ledger, flags.writesWhileDown, performance.now(), 60_000);
    const missed = ledger.acked();

    const restartedAt = performance.now();
    await follower.restart();
    startMs.push(performance.now() - restartedAt);
    await waitForWritesOn(follower, missed, 60_000);
    catchUpMs.push(performance.now() - restartedAt);
    const after = await cluster.waitForLeader(30_000);
    check(
      after === leader,
      `trial ${trial}: leadership moved from ${leader.name} to ${after.name} when ${follower.name} restarted`,
    );

    log(
      `trial ${trial}: stopped follower ${follower.name} with ${flags.signal}; restarted, HTTP up in ` +
        `${Math.round(startMs.at(-1)!)} ms, all ${missed.length} acknowledged writes in ${Math.round(catchUpMs.at(-1)!)} ms`,
    );
  }

  log(formatSummary('time from restart to the HTTP API answering', startMs));
  log(formatSummary('time from restart to having every acknowledged write', catchUpMs));
});
