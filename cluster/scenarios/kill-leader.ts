#!/usr/bin/env node
// SIGKILLs the leader while namespaces are written, measures the time until the survivors agree
// on a new leader, restarts the old leader, and repeats. At the end every acknowledged write must
// be on every server.
import { formatSummary, parseScenarioFlags, runScenario, waitForAcks } from './common.js';

/** Writes acknowledged in each trial before the kill, so that the leader is busy when it dies. */
const WRITES_BEFORE_KILL = 20;

const flags = parseScenarioFlags(
  'kill-leader',
  'SIGKILL the leader while writes run; measure the time to a new leader; restart the old leader; repeat.',
  20,
);

await runScenario('kill-leader', flags, async ({ cluster, ledger, log, check }) => {
  const newLeaderMs: number[] = [];
  const writesResumedMs: number[] = [];
  const rejoinMs: number[] = [];

  for (let trial = 1; trial <= flags.trials; trial++) {
    const leader = await cluster.waitForLeader(60_000);
    await waitForAcks(ledger, WRITES_BEFORE_KILL, performance.now());

    const killedAt = performance.now();
    await leader.kill('SIGKILL');
    const successor = await cluster.waitForLeader(30_000, 10);
    const electedMs = performance.now() - killedAt;
    newLeaderMs.push(electedMs);
    check(
      successor !== leader,
      `trial ${trial}: the killed server ${leader.name} is still reported as leader`,
    );

    const firstWrite = await waitForAcks(ledger, 1, killedAt);
    writesResumedMs.push(firstWrite.ackedAtMs - killedAt);

    const restartedAt = performance.now();
    await leader.restart();
    // All live servers, the restarted one included, agree on the leader once it has rejoined.
    await cluster.waitForLeader(60_000, 20);
    rejoinMs.push(performance.now() - restartedAt);

    log(
      `trial ${trial}: killed leader ${leader.name}; ${successor.name} leads after ${Math.round(electedMs)} ms; ` +
        `writes resumed after ${Math.round(firstWrite.ackedAtMs - killedAt)} ms; ` +
        `${leader.name} restarted and rejoined in ${Math.round(performance.now() - restartedAt)} ms`,
    );
  }

  log(formatSummary('time from SIGKILL to a new leader agreed by the survivors', newLeaderMs));
  log(formatSummary('time from SIGKILL to the first acknowledged write sent after it', writesResumedMs));
  log(formatSummary('time for the restarted server to start and rejoin', rejoinMs));
});
