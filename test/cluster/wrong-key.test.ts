import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { requestJson } from '../../cluster/http-client.js';
import type { ServerHandle } from '../../cluster/launcher.js';
import { done, pending, waitFor } from '../../cluster/wait.js';
import { generateClusterKey } from '../../src/rpc/cluster-key.js';
import type { AgentMember } from '../../src/server/backend.js';
import {
  CLUSTER_TEST_TIMEOUT_MS,
  parseLogLines,
  raftTerm,
  startTestCluster,
  type TestCluster,
  withServerLogs,
} from './fixture.js';

/**
 * True when `server`'s log shows a server connection closed for `reason`: `handshake-failed` on
 * the side that checked a proof and found it wrong, `handshake-rejected` on the side whose proof
 * was turned down.
 */
async function loggedHandshakeClose(
  server: ServerHandle,
  reason: 'handshake-failed' | 'handshake-rejected',
): Promise<boolean> {
  return parseLogLines(await server.readLog()).some(
    (line) => line.msg === 'closing server connection' && line.reason === reason,
  );
}

describe('server with another cluster key', { timeout: CLUSTER_TEST_TIMEOUT_MS }, () => {
  let setup: TestCluster | undefined;
  let intruder: ServerHandle | undefined;
  const servers = () => [...(setup?.cluster.servers() ?? []), ...(intruder === undefined ? [] : [intruder])];

  before(async () => {
    setup = await startTestCluster(3);
  });
  after(async () => {
    await setup?.cluster.stop();
  });

  test(
    'cannot join the cluster',
    withServerLogs(servers, async () => {
      const { cluster } = setup!;
      const leader = await cluster.waitForLeader(60_000);
      const term = await raftTerm(leader);
      const before = await cluster.raftConfiguration(leader);

      intruder = await cluster.addServer({ clusterKey: generateClusterKey() });
      assert.ok(
        !cluster.servers().includes(intruder),
        'a server with another key is not counted as a member',
      );
      // The intruder dials every member through retry_join; once each member has rejected it, it
      // had every chance to get in.
      await waitFor(
        'every member to reject the intruder',
        { timeoutMs: 30_000, intervalMs: 200 },
        async () => {
          const rejected = await Promise.all(
            cluster.servers().map((server) => loggedHandshakeClose(server, 'handshake-failed')),
          );
          return rejected.every(Boolean) ? done(undefined) : pending(`rejections: ${rejected}`);
        },
      );
      // The intruder's own log line may be written a moment after the members' lines.
      const intruderLogged = await waitFor(
        'the intruder to log that the members rejected it',
        { timeoutMs: 30_000, intervalMs: 200 },
        async () =>
          (await loggedHandshakeClose(intruder!, 'handshake-rejected')) ? done(true) : pending('no line yet'),
      );
      assert.ok(intruderLogged, 'the intruder logged that the members rejected it');

      for (const server of cluster.servers()) {
        const { Servers } = await cluster.raftConfiguration(server);
        assert.deepEqual(
          Servers.map((s) => s.ID).sort(),
          before.Servers.map((s) => s.ID).sort(),
          `configuration on ${server.name}`,
        );
        assert.ok(!Servers.some((s) => s.Address === intruder!.rpcAddr || s.Node === intruder!.name));
        const { Members: members } = await requestJson<{ Members: AgentMember[] }>(
          server.httpAddr,
          'GET',
          '/v1/agent/members',
        );
        assert.ok(
          !members.some((member) => member.Name === intruder!.name),
          `members on ${server.name}: ${JSON.stringify(members)}`,
        );
      }
      assert.equal(await requestJson<string>(intruder.httpAddr, 'GET', '/v1/status/leader'), '');
      assert.equal(await cluster.waitForLeader(30_000), leader, 'the leader changed');
      assert.equal(await raftTerm(leader), term, 'the term changed');

      const written = await leader.request('PUT', '/v1/namespace/after-intruder', {
        body: { Name: 'after-intruder', Description: '' },
      });
      assert.equal(written.status, 200, written.body);
      assert.equal(intruder.state, 'running');
      assert.deepEqual(setup!.crashes, []);
    }),
  );
});
