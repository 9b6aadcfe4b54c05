import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ServerHandle } from '../../cluster/launcher.js';
import { done, pending, waitFor } from '../../cluster/wait.js';
import { CLUSTER_TEST_TIMEOUT_MS, startTestCluster, type TestCluster, withServerLogs } from './fixture.js';

describe('leadership transfer', { timeout: CLUSTER_TEST_TIMEOUT_MS }, () => {
  let setup: TestCluster | undefined;
  const servers = () => setup?.cluster.servers() ?? [];

  before(async () => {
    setup = await startTestCluster(3);
  });
  after(async () => {
    await setup?.cluster.stop();
  });

  /** Waits until every live server agrees that `expected` leads (or, when null, anyone but `previous`). */
  async function waitForLeadership(
    expected: ServerHandle | null,
    previous: ServerHandle,
  ): Promise<ServerHandle> {
    const { cluster } = setup!;
    return waitFor('leadership to move', { timeoutMs: 30_000, intervalMs: 50 }, async () => {
      const leader = await cluster.waitForLeader(10_000);
      const moved = expected === null ? leader !== previous : leader === expected;
      return moved ? done(leader) : pending(`leader is ${leader.name}`);
    });
  }

  test(
    'transfer with id moves the leader to that server',
    withServerLogs(servers, async () => {
      const { cluster } = setup!;
      const leader = await cluster.waitForLeader(60_000);
      const target = cluster.servers().find((server) => server !== leader)!;
      const targetId = await cluster.raftId(target);

      // Sent through the target, a follower, so the request is also forwarded to the leader.
      const response = await target.request('PUT', `/v1/operator/raft/transfer-leadership?id=${targetId}`);
      assert.equal(response.status, 200, response.body);
      assert.equal(await waitForLeadership(target, leader), target);

      const { Servers } = await cluster.raftConfiguration(target);
      assert.deepEqual(
        Servers.filter((server) => server.Leader).map((server) => server.ID),
        [targetId],
      );
    }),
  );

  test(
    'transfer without id moves the leader elsewhere',
    withServerLogs(servers, async () => {
      const { cluster } = setup!;
      const leader = await cluster.waitForLeader(30_000);

      const response = await leader.request('PUT', '/v1/operator/raft/transfer-leadership');
      assert.equal(response.status, 200, response.body);
      const next = await waitForLeadership(null, leader);
      assert.notEqual(next, leader);
      assert.deepEqual(setup!.crashes, []);
    }),
  );
});
