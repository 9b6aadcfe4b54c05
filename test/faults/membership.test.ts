import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { restoredSnapshotIndexes } from '../../cluster/agent-log.js';
import { createMembershipFault } from '../../cluster/faults/faults/membership.js';
import { httpRequest, requestJson } from '../../cluster/http-client.js';
import type { ServerHandle } from '../../cluster/launcher.js';
import { done, pending, waitFor } from '../../cluster/wait.js';
import {
  CLUSTER_TEST_TIMEOUT_MS,
  startTestCluster,
  type TestCluster,
  waitForRootKey,
  withServerLogs,
} from '../cluster/fixture.js';
import { Prng } from '../sim/prng.js';

/** Small, so that the leader compacts its log and a rejoined server catches up from a snapshot. */
const TUNING = { raft_snapshot_threshold: 16, raft_trailing_logs: 4 };
/** Writes before each removal: more than a snapshot's worth, so the log no longer starts at index 1. */
const WRITES_BEFORE = 40;

interface Variable {
  readonly Items: Record<string, string>;
  readonly ModifyIndex: number;
}

describe('membership fault', { timeout: CLUSTER_TEST_TIMEOUT_MS }, () => {
  let setup: TestCluster | undefined;
  const servers = () => setup?.cluster.servers() ?? [];

  before(async () => {
    setup = await startTestCluster(3, { acl: true, tuning: TUNING });
    await waitForRootKey(setup.cluster);
  });
  after(async () => {
    await setup?.cluster.stop();
  });

  /** Writes `count` variables under `prefix` through the leader and returns the last one's path and index. */
  async function writeVariables(prefix: string, count: number): Promise<{ path: string; index: number }> {
    const { cluster } = setup!;
    let last = { path: '', index: 0 };
    for (let i = 0; i < count; i++) {
      const leader = await cluster.waitForLeader(30_000);
      const path = `${prefix}/${i}`;
      const written = await requestJson<Variable>(leader.httpAddr, 'PUT', `/v1/var/${path}`, {
        headers: cluster.authHeaders(),
        body: { Items: { value: `${prefix}-${i}` } },
      });
      last = { path, index: written.ModifyIndex };
    }
    return last;
  }

  /** Reads `path` from `server`'s own state (stale=true), so the read proves what that server holds. */
  async function localVariable(server: ServerHandle, path: string): Promise<Variable | null> {
    const response = await httpRequest(server.httpAddr, 'GET', `/v1/var/${path}?stale=true`, {
      headers: setup!.cluster.authHeaders(),
    });
    if (response.status === 404) return null;
    assert.equal(response.status, 200, `GET ${path} on ${server.name}: ${response.body}`);
    return JSON.parse(response.body) as Variable;
  }

  /** Injects the fault with `leaderShare`, checks the removal, heals it and checks the rejoined server. */
  async function removeAndRejoin(leaderShare: number, prefix: string): Promise<void> {
    const { cluster } = setup!;
    const written = await writeVariables(prefix, WRITES_BEFORE);
    const leaderBefore = await cluster.waitForLeader(30_000);
    const idsBefore = new Map<string, string>();
    for (const server of cluster.servers())
      idsBefore.set(server.name, await cluster.raftId(server, leaderBefore));

    const fault = createMembershipFault(leaderShare);
    const active = await fault.inject({ cluster, random: new Prng(1), network: null });
    const stopped = cluster.servers().filter((server) => server.state === 'stopped');
    assert.equal(stopped.length, 1, `one server stopped after ${active.description}`);
    const removed = stopped[0]!;
    assert.equal(removed === leaderBefore, leaderShare === 1, active.description);
    const oldId = idsBefore.get(removed.name)!;
    const { Servers: during } = await cluster.raftConfiguration(cluster.live()[0]);
    assert.equal(during.length, 2, `configuration while removed: ${JSON.stringify(during)}`);
    assert.ok(
      !during.some((entry) => entry.ID === oldId),
      `${oldId} still listed: ${JSON.stringify(during)}`,
    );

    await active.heal();
    assert.equal(removed.state, 'running');
    const leader = await cluster.waitForLeader(30_000);
    const { Servers: after } = await cluster.raftConfiguration(leader);
    assert.equal(after.length, 3, `configuration after the heal: ${JSON.stringify(after)}`);
    assert.ok(
      after.every((entry) => entry.Voter),
      `every server a voter: ${JSON.stringify(after)}`,
    );
    const newId = await cluster.raftId(removed, leader);
    assert.notEqual(newId, oldId, 'the rejoined server kept its removed Raft id');
    assert.equal(removed.rpcAddr, after.find((entry) => entry.ID === newId)?.Address);

    // The rejoined server follows the cluster's leader, so it founded no cluster of its own.
    const followed = await requestJson<string>(removed.httpAddr, 'GET', '/v1/status/leader');
    assert.equal(followed, leader.rpcAddr);
    // It contains the writes from before its removal, from a snapshot or the log.
    await waitFor(
      `${removed.name} to hold ${written.path}`,
      { timeoutMs: 30_000, intervalMs: 100 },
      async () => {
        const variable = await localVariable(removed, written.path);
        return variable?.ModifyIndex === written.index ? done(undefined) : pending(JSON.stringify(variable));
      },
    );
    const restored = await restoredSnapshotIndexes(removed);
    assert.ok(restored.length > 0, `${removed.name} logged no 'restored a snapshot' line`);
    // And the root keys, which reach it only through the replicated state.
    const jwks = async (server: ServerHandle) =>
      requestJson<unknown>(server.httpAddr, 'GET', '/.well-known/jwks.json', {
        headers: cluster.authHeaders(),
      });
    assert.deepEqual(await jwks(removed), await jwks(leader));
    // A write through the rejoined server commits.
    const response = await httpRequest(removed.httpAddr, 'PUT', `/v1/var/${prefix}/after`, {
      headers: cluster.authHeaders(),
      body: { Items: { value: 'after' } },
    });
    assert.equal(response.status, 200, response.body);
    assert.deepEqual(setup!.crashes, []);
  }

  test('leader share outside 0-1 is rejected', () => {
    assert.throws(() => createMembershipFault(1.5), /invalid leader share 1.5/);
    assert.throws(() => createMembershipFault(Number.NaN), /invalid leader share NaN/);
  });

  test(
    'rejoin of an unremoved voter is rejected',
    withServerLogs(servers, async () => {
      const { cluster } = setup!;
      const leader = await cluster.waitForLeader(30_000);
      const follower = cluster.servers().find((server) => server !== leader)!;
      const id = await cluster.raftId(follower, leader);
      await follower.stop();
      let emptied = false;
      await assert.rejects(
        cluster.rejoinServer(follower, {
          beforeEmpty: async () => {
            emptied = true;
          },
        }),
        new RegExp(
          `cannot rejoin ${follower.name}: its folder has no removed marker, so it may still be a voter`,
        ),
      );
      assert.equal(emptied, false);

      // Its data is intact, so it comes back under its old id.
      await follower.restart();
      await cluster.waitForVoter(follower, 30_000);
      assert.equal(await cluster.raftId(follower, await cluster.waitForLeader(30_000)), id);
    }),
  );

  test(
    'removed follower rejoins as new member',
    withServerLogs(servers, () => removeAndRejoin(0, 'membership/follower')),
  );

  test(
    'removed leader rejoins as new member',
    withServerLogs(servers, () => removeAndRejoin(1, 'membership/leader')),
  );
});
