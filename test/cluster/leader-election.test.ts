import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { requestJson } from '../../cluster/http-client.js';
import type { Cluster } from '../../cluster/launcher.js';
import { done, pending, waitFor } from '../../cluster/wait.js';
import { CLUSTER_TEST_TIMEOUT_MS, startTestCluster, type TestCluster, withServerLogs } from './fixture.js';

interface NamespaceJson {
  readonly Name: string;
  readonly Description: string;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
}

describe('three-server cluster', { timeout: CLUSTER_TEST_TIMEOUT_MS }, () => {
  let setup: TestCluster | undefined;
  const cluster = (): Cluster => setup!.cluster;
  const servers = () => setup?.cluster.servers() ?? [];

  before(async () => {
    setup = await startTestCluster(3);
  });
  after(async () => {
    await setup?.cluster.stop();
  });

  test(
    'servers elect one leader',
    withServerLogs(servers, async () => {
      const leader = await cluster().waitForLeader(60_000);
      const { Servers } = await cluster().raftConfiguration(leader);

      assert.deepEqual(
        Servers.map((server) => server.Address).sort(),
        cluster()
          .servers()
          .map((server) => server.rpcAddr)
          .sort(),
      );
      assert.deepEqual(
        Servers.filter((server) => server.Leader).map((server) => server.Address),
        [leader.rpcAddr],
      );
      assert.ok(
        Servers.every((server) => server.Voter),
        `every founder is a voter: ${JSON.stringify(Servers)}`,
      );
      assert.deepEqual(Servers.map((server) => server.Node).sort(), ['s1', 's2', 's3']);
      for (const server of cluster().servers()) {
        const peers = await requestJson<string[]>(server.httpAddr, 'GET', '/v1/status/peers');
        assert.deepEqual([...peers].sort(), Servers.map((s) => s.Address).sort(), `peers on ${server.name}`);
      }
      assert.deepEqual(setup!.crashes, []);
    }),
  );

  test(
    'namespace written through a follower is readable everywhere',
    withServerLogs(servers, async () => {
      const leader = await cluster().waitForLeader(60_000);
      const follower = cluster()
        .servers()
        .find((server) => server !== leader)!;
      const written = await follower.request('PUT', '/v1/namespace/through-follower', {
        body: { Name: 'through-follower', Description: `written through ${follower.name}` },
      });
      assert.equal(written.status, 200, written.body);

      for (const server of cluster().servers()) {
        // A default read is consistent: it reflects every write acknowledged before it.
        const read = await server.request('GET', '/v1/namespace/through-follower');
        assert.equal(read.status, 200, `consistent read on ${server.name}: ${read.body}`);
        const namespace = JSON.parse(read.body) as NamespaceJson;
        assert.equal(namespace.Name, 'through-follower');
        assert.equal(namespace.Description, `written through ${follower.name}`);
        assert.ok(namespace.CreateIndex > 0, `CreateIndex on ${server.name} is ${namespace.CreateIndex}`);
        assert.equal(read.headers['x-nomad-knownleader'], 'true', `X-Nomad-KnownLeader on ${server.name}`);
        assert.ok(
          Number(read.headers['x-nomad-index']) >= namespace.ModifyIndex,
          `X-Nomad-Index ${read.headers['x-nomad-index']} on ${server.name} is below ModifyIndex ${namespace.ModifyIndex}`,
        );

        // A stale read shows the server's own copy, which has the write once it has applied it.
        const names = await waitFor<string[]>(
          `${server.name} to apply the write`,
          { timeoutMs: 10_000 },
          async () => {
            const list = await requestJson<NamespaceJson[]>(
              server.httpAddr,
              'GET',
              '/v1/namespaces?stale=true',
            );
            const found = list.map((ns) => ns.Name);
            return found.includes('through-follower') ? done(found) : pending(found.join(','));
          },
        );
        assert.deepEqual(names.sort(), ['default', 'through-follower']);
      }
      assert.deepEqual(setup!.crashes, []);
    }),
  );

  test(
    'blocking query on a follower wakes on a write elsewhere',
    withServerLogs(servers, async () => {
      const leader = await cluster().waitForLeader(60_000);
      const [first, second] = cluster()
        .servers()
        .filter((server) => server !== leader);
      const before = await first!.request('GET', '/v1/namespaces');
      const index = Number(before.headers['x-nomad-index']);
      assert.ok(index > 0, `X-Nomad-Index is ${before.headers['x-nomad-index']}`);

      // The query parks on one follower until a write through the other one reaches it; a wait of
      // 60 s cannot pass unnoticed in a test that finishes in seconds.
      const blocked = first!.request('GET', `/v1/namespaces?index=${index}&wait=60s`);
      const written = await second!.request('PUT', '/v1/namespace/wakes-blocking', { body: {} });
      assert.equal(written.status, 200, written.body);
      const woken = await blocked;
      assert.equal(woken.status, 200, woken.body);
      assert.ok(
        Number(woken.headers['x-nomad-index']) > index,
        `index after the write: ${woken.headers['x-nomad-index']}`,
      );
      const names = (JSON.parse(woken.body) as NamespaceJson[]).map((namespace) => namespace.Name);
      assert.ok(names.includes('wakes-blocking'), `namespaces after the wake-up: ${names}`);
    }),
  );
});
