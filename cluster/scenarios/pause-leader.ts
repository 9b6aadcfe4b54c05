#!/usr/bin/env node
// Freezes the leader with SIGSTOP for longer than the election timeout while namespaces are
// written, resumes it with SIGCONT, and checks that it steps down without disturbing the new
// leader and catches up on the writes it missed.
import { setTimeout as delay } from 'node:timers/promises';
import { integerAtLeast } from '../cli-args.js';
import { requestJson } from '../http-client.js';
import { done, pending, waitFor } from '../wait.js';
import { formatSummary, parseScenarioFlags, runScenario, waitForAcks, waitForWritesOn } from './common.js';

/** Writes acknowledged in each trial before the pause and again under the new leader. */
const WRITES_PER_PHASE = 20;

const flags = parseScenarioFlags<{ pauseMs: number }>(
  'pause-leader',
  'SIGSTOP the leader for longer than the election timeout, SIGCONT it, check that it steps down and catches up.',
  5,
  (program) => {
    program.option(
      '--pause-ms <ms>',
      'minimum time the leader stays stopped; the election timeout is at most 2 s at raft_multiplier 1',
      integerAtLeast(1),
      3_000,
    );
  },
);

await runScenario('pause-leader', flags, async ({ cluster, ledger, log, check }) => {
  const newLeaderMs: number[] = [];
  const stepDownMs: number[] = [];
  const catchUpMs: number[] = [];

  for (let trial = 1; trial <= flags.trials; trial++) {
    const leader = await cluster.waitForLeader(60_000);
    await waitForAcks(ledger, WRITES_PER_PHASE, performance.now());

    const pausedAt = performance.now();
    leader.pause();
    const successor = await cluster.waitForLeader(30_000, 10);
    newLeaderMs.push(performance.now() - pausedAt);
    await waitForAcks(ledger, WRITES_PER_PHASE, performance.now());
    // The pause lasts at least pauseMs; waiting out the rest of it is the point of the scenario.
    const left = flags.pauseMs - (performance.now() - pausedAt);
    if (left > 0) await delay(left);
    const missed = ledger.acked();

    const resumedAt = performance.now();
    leader.resume();
    await waitFor(
      `${leader.name} to follow ${successor.name}`,
      { timeoutMs: 30_000, intervalMs: 10 },
      async () => {
        const seen = await requestJson<string>(leader.httpAddr, 'GET', '/v1/status/leader', {
          timeoutMs: 1_000,
        });
        return seen === successor.rpcAddr
          ? done(undefined)
          : pending(`reports leader ${JSON.stringify(seen)}`);
      },
    );
    stepDownMs.push(performance.now() - resumedAt);
    await waitForWritesOn(leader, missed, 30_000);
    catchUpMs.push(performance.now() - resumedAt);

    const after = await cluster.waitForLeader(30_000);
    check(
      after === successor,
      `trial ${trial}: leadership moved from ${successor.name} to ${after.name} after ${leader.name} resumed`,
    );
    log(
      `trial ${trial}: paused leader ${leader.name} for ${Math.round(resumedAt - pausedAt)} ms; ` +
        `${successor.name} led after ${Math.round(newLeaderMs.at(-1)!)} ms; after SIGCONT ${leader.name} ` +
        `followed it in ${Math.round(stepDownMs.at(-1)!)} ms and had all ${missed.length} acknowledged writes in ` +
        `${Math.round(catchUpMs.at(-1)!)} ms`,
    );
  }

  log(formatSummary('time from SIGSTOP to a new leader agreed by the others', newLeaderMs));
  log(formatSummary('time from SIGCONT until the old leader reports the new one', stepDownMs));
  log(formatSummary('time from SIGCONT until the old leader has every acknowledged write', catchUpMs));
});
