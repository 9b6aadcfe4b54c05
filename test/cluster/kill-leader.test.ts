import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  collectLostWrites,
  NamespaceWriter,
  WriteLedger,
  waitForAcks,
} from '../../cluster/scenarios/common.js';
import { CLUSTER_TEST_TIMEOUT_MS, startTestCluster, type TestCluster, withServerLogs } from './fixture.js';

describe('leader killed with SIGKILL', { timeout: CLUSTER_TEST_TIMEOUT_MS }, () => {
  let setup: TestCluster | undefined;
  const servers = () => setup?.cluster.servers() ?? [];

  before(async () => {
    setup = await startTestCluster(3);
  });
  after(async () => {
    await setup?.cluster.stop();
  });

  test(
    'acknowledged writes survive on every server',
    withServerLogs(servers, async () => {
      const { cluster } = setup!;
      const ledger = new WriteLedger();
      const writer = new NamespaceWriter(() => cluster.live(), ledger, {
        workers: 3,
        ratePerSecond: 60,
        prefix: 'kill-leader',
        requestTimeoutMs: 5_000,
      });
      const leader = await cluster.waitForLeader(60_000);
      writer.start();
      try {
        await waitForAcks(ledger, 30, 0, 60_000);
        await leader.kill('SIGKILL');

        const successor = await cluster.waitForLeader(30_000);
        assert.notEqual(successor.name, leader.name);
        // Writes must go on under the new leader, not only the ones before the kill.
        await waitForAcks(ledger, 30, performance.now(), 30_000);
      } finally {
        await writer.stop();
      }

      const writes = ledger.acked();
      const survivors = cluster.live();
      assert.equal(survivors.length, 2);
      const lostOnSurvivors = await collectLostWrites(survivors, writes);
      for (const survivor of survivors) {
        assert.deepEqual(
          lostOnSurvivors.get(survivor.name),
          [],
          `writes missing on survivor ${survivor.name}`,
        );
      }

      await leader.restart();
      const lostOnOldLeader = await collectLostWrites([leader], writes, 60_000);
      assert.deepEqual(
        lostOnOldLeader.get(leader.name),
        [],
        `writes missing on the restarted ${leader.name}`,
      );
      await cluster.waitForLeader(30_000);
      assert.deepEqual(setup!.crashes, []);
    }),
  );
});
