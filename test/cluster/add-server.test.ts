import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { restoredSnapshotIndexes } from '../../cluster/agent-log.js';
import {
  collectLostWrites,
  NamespaceWriter,
  WriteLedger,
  waitForAcks,
} from '../../cluster/scenarios/common.js';
import { CLUSTER_TEST_TIMEOUT_MS, startTestCluster, type TestCluster, withServerLogs } from './fixture.js';

/** Small, so that the leader snapshots and compacts its log many times during the test. */
const SNAPSHOT_THRESHOLD = 64;
/** Entries kept below each snapshot; small, so that few writes push index 1 out of the log. */
const TRAILING_LOGS = 16;
/**
 * Enough writes that the leader's log no longer starts at index 1 even with the entries it keeps
 * below each snapshot, so a new server can only catch up from a snapshot.
 */
const WRITES_BEFORE_JOIN = TRAILING_LOGS + 3 * SNAPSHOT_THRESHOLD;

describe('fourth server', { timeout: CLUSTER_TEST_TIMEOUT_MS }, () => {
  let setup: TestCluster | undefined;
  const servers = () => setup?.cluster.servers() ?? [];

  before(async () => {
    setup = await startTestCluster(3, {
      tuning: { raft_snapshot_threshold: SNAPSHOT_THRESHOLD, raft_trailing_logs: TRAILING_LOGS },
    });
  });
  after(async () => {
    await setup?.cluster.stop();
  });

  test(
    'joins and catches up from a snapshot',
    withServerLogs(servers, async () => {
      const { cluster } = setup!;
      await cluster.waitForLeader(60_000);
      const ledger = new WriteLedger();
      const fast = new NamespaceWriter(() => cluster.live(), ledger, {
        workers: 8,
        ratePerSecond: 2_000,
        prefix: 'before-join',
        requestTimeoutMs: 10_000,
      });
      fast.start();
      try {
        await waitForAcks(ledger, WRITES_BEFORE_JOIN, 0, 120_000);
      } finally {
        await fast.stop();
      }

      // Writes keep coming while the new server joins, so it must catch up on a moving target.
      const slow = new NamespaceWriter(() => cluster.live(), ledger, {
        workers: 2,
        ratePerSecond: 20,
        prefix: 'during-join',
        requestTimeoutMs: 5_000,
      });
      slow.start();
      let added: Awaited<ReturnType<typeof cluster.addServer>>;
      try {
        added = await cluster.addServer();
        await cluster.waitForVoter(added, 60_000);
        await waitForAcks(ledger, 10, performance.now(), 30_000);
      } finally {
        await slow.stop();
      }

      const writes = ledger.acked();
      const lost = await collectLostWrites(cluster.servers(), writes, 60_000);
      for (const server of cluster.servers()) {
        assert.deepEqual(lost.get(server.name), [], `writes missing on ${server.name}`);
      }
      const { Servers } = await cluster.raftConfiguration();
      assert.equal(Servers.length, 4);
      assert.ok(
        Servers.every((server) => server.Voter),
        `all four are voters: ${JSON.stringify(Servers)}`,
      );
      assert.equal((await cluster.waitForLeader(30_000)).state, 'running');

      const restored = await restoredSnapshotIndexes(added);
      assert.ok(restored.length > 0, `${added.name} logged no 'restored a snapshot' line`);
      assert.ok(restored[0]! > 0, `restored snapshot index ${restored[0]}`);
      assert.deepEqual(setup!.crashes, []);
    }),
  );
});
