#!/usr/bin/env node
// Adds a server with an empty data folder while namespaces are written, waits until it is a voter
// and has every acknowledged write, then removes it and checks that the cluster keeps accepting
// writes without it.
import { restoredSnapshotIndexes } from '../agent-log.js';
import { integerAtLeast } from '../cli-args.js';
import { formatSummary, parseScenarioFlags, runScenario, waitForAcks, waitForWritesOn } from './common.js';

const flags = parseScenarioFlags<{ writesBefore: number }>(
  'add-remove-server',
  'Add a server that joins and catches up, then remove it; the cluster keeps accepting writes.',
  1,
  (program) => {
    program.option(
      '--writes-before <n>',
      'acknowledged writes before the new server starts (more than the snapshot threshold makes it catch up from a snapshot)',
      integerAtLeast(1),
      500,
    );
  },
);

await runScenario('add-remove-server', flags, async ({ cluster, ledger, log, check }) => {
  const voterMs: number[] = [];
  const catchUpMs: number[] = [];
  const removeMs: number[] = [];

  await waitForAcks(ledger, flags.writesBefore, 0, 600_000);
  for (let trial = 1; trial <= flags.trials; trial++) {
    await cluster.waitForLeader(60_000);
    const before = ledger.acked();

    const addedAt = performance.now();
    const added = await cluster.addServer();
    await cluster.waitForVoter(added, 60_000);
    voterMs.push(performance.now() - addedAt);
    await waitForWritesOn(added, before, 60_000);
    catchUpMs.push(performance.now() - addedAt);
    await cluster.waitForLeader(30_000);
    const snapshots = await restoredSnapshotIndexes(added);
    const source = snapshots.length > 0 ? `from a snapshot at index ${snapshots[0]}` : 'from the log alone';
    log(
      `trial ${trial}: ${added.name} joined as a voter after ${Math.round(voterMs.at(-1)!)} ms and had all ` +
        `${before.length} earlier writes after ${Math.round(catchUpMs.at(-1)!)} ms, ${source}`,
    );

    const removedAt = performance.now();
    await cluster.removeServer(added);
    removeMs.push(performance.now() - removedAt);
    const { Servers } = await cluster.raftConfiguration();
    check(
      !Servers.some((server) => server.Address === added.rpcAddr),
      `trial ${trial}: ${added.name} is still in the Raft configuration: ${JSON.stringify(Servers)}`,
    );
    check(
      Servers.length === cluster.servers().length,
      `trial ${trial}: the Raft configuration has ${Servers.length} servers, expected ${cluster.servers().length}`,
    );
    await waitForAcks(ledger, 20, performance.now());
    log(
      `trial ${trial}: removed ${added.name} in ${Math.round(removeMs.at(-1)!)} ms; writes continue on ` +
        `${cluster
          .servers()
          .map((server) => server.name)
          .join(', ')}`,
    );
  }

  log(formatSummary('time from start to voter', voterMs));
  log(formatSummary('time from start to having every earlier write', catchUpMs));
  log(formatSummary('time to remove the server from the configuration', removeMs));
});
