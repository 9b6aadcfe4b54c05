import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { requestJson } from '../../cluster/http-client.js';
import type { ServerHandle } from '../../cluster/launcher.js';
import {
  collectLostWrites,
  NamespaceWriter,
  WriteLedger,
  waitForAcks,
} from '../../cluster/scenarios/common.js';
import {
  CLUSTER_TEST_TIMEOUT_MS,
  raftTerm,
  startTestCluster,
  type TestCluster,
  withServerLogs,
} from './fixture.js';

describe('server removal', { timeout: CLUSTER_TEST_TIMEOUT_MS }, () => {
  let setup: TestCluster | undefined;
  let removed: ServerHandle | undefined;
  const servers = () => [...(setup?.cluster.servers() ?? []), ...(removed === undefined ? [] : [removed])];

  before(async () => {
    setup = await startTestCluster(3);
  });
  after(async () => {
    await setup?.cluster.stop();
  });

  test(
    'removed follower leaves and writes continue',
    withServerLogs(servers, async () => {
      const { cluster } = setup!;
      const leader = await cluster.waitForLeader(60_000);
      const follower = cluster.servers().find((server) => server !== leader)!;
      const followerId = await cluster.raftId(follower);

      await cluster.removeServer(follower);
      removed = follower;
      assert.equal(follower.state, 'stopped');
      assert.deepEqual(
        cluster.servers().map((server) => server.name),
        ['s1', 's2', 's3'].filter((name) => name !== follower.name),
      );
      for (const server of cluster.servers()) {
        const { Servers } = await cluster.raftConfiguration(server);
        assert.ok(!Servers.some((s) => s.ID === followerId), `${server.name} still lists ${followerId}`);
        assert.equal(Servers.length, 2, `configuration on ${server.name}: ${JSON.stringify(Servers)}`);
        const peers = await requestJson<string[]>(server.httpAddr, 'GET', '/v1/status/peers');
        assert.ok(!peers.includes(follower.rpcAddr), `peers on ${server.name}: ${peers}`);
      }

      const ledger = new WriteLedger();
      const writer = new NamespaceWriter(() => cluster.live(), ledger, {
        workers: 2,
        ratePerSecond: 40,
        prefix: 'after-remove',
        requestTimeoutMs: 5_000,
      });
      writer.start();
      try {
        await waitForAcks(ledger, 20, 0, 30_000);
      } finally {
        await writer.stop();
      }
      const lost = await collectLostWrites(cluster.servers(), ledger.acked());
      for (const server of cluster.servers())
        assert.deepEqual(lost.get(server.name), [], `missing on ${server.name}`);
      assert.equal(await cluster.waitForLeader(30_000), leader);
    }),
  );

  test(
    'removed server restarted does not disturb the cluster',
    withServerLogs(servers, async () => {
      const { cluster } = setup!;
      assert.ok(removed !== undefined, 'the previous test removed a server');
      const leader = await cluster.waitForLeader(30_000);
      const before = await cluster.raftConfiguration(leader);

      const termBefore = await raftTerm(leader);
      await removed.restart();
      // The cluster keeps committing for a few election timeouts (about 3 s at this rate) while
      // the removed server runs, which gives it time to campaign if it wrongly would.
      const ledger = new WriteLedger();
      const writer = new NamespaceWriter(() => cluster.live(), ledger, {
        workers: 2,
        ratePerSecond: 50,
        prefix: 'removed-back',
        requestTimeoutMs: 5_000,
      });
      writer.start();
      try {
        await waitForAcks(ledger, 150, 0, 60_000);
      } finally {
        await writer.stop();
      }

      assert.equal(removed.state, 'running');
      assert.equal(await cluster.waitForLeader(30_000), leader);
      assert.equal(await raftTerm(leader), termBefore, 'the leader term changed');
      const after = await cluster.raftConfiguration(leader);
      assert.deepEqual(after.Servers.map((s) => s.ID).sort(), before.Servers.map((s) => s.ID).sort());
      assert.deepEqual(setup!.crashes, []);
    }),
  );
});
