import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { requestJson } from '../../cluster/http-client.js';
import type { Cluster } from '../../cluster/launcher.js';
import { done, pending, waitFor } from '../../cluster/wait.js';
import type { Allocation } from '../../src/structs/allocation.js';
import type { Node } from '../../src/structs/node.js';
import { SimulatedFleet } from '../support/simulated-nodes.js';
import { CLUSTER_TEST_TIMEOUT_MS, startTestCluster, type TestCluster, withServerLogs } from './fixture.js';

/** Builds a job body in Nomad's API shape: one group per entry of `groups`, of mock tasks. */
function jobBody(id: string, groups: Record<string, number>, cpu = 500) {
  return {
    Job: {
      ID: id,
      Type: 'service',
      TaskGroups: Object.entries(groups).map(([name, count]) => ({
        Name: name,
        Count: count,
        Tasks: [{ Name: 'main', Driver: 'mock', Config: {}, Resources: { CPU: cpu, MemoryMB: 128 } }],
      })),
    },
  };
}

describe('scheduling on a three-server cluster with client nodes', {
  timeout: CLUSTER_TEST_TIMEOUT_MS,
}, () => {
  let setup: TestCluster | undefined;
  let fleet: SimulatedFleet | undefined;
  const cluster = (): Cluster => setup!.cluster;
  const servers = () => setup?.cluster.servers() ?? [];

  before(async () => {
    setup = await startTestCluster(3);
    await setup.cluster.waitForLeader(60_000);
    fleet = await SimulatedFleet.start({
      count: 3,
      servers: setup.cluster.servers().map((server) => server.rpcAddr),
      logger: pino({ level: 'silent' }),
      resources: { CPU: 2000, MemoryMB: 4096 },
    });
  });
  after(async () => {
    await fleet?.stop();
    await setup?.cluster.stop();
  });

  const allocsOf = (jobId: string) =>
    requestJson<Allocation[]>(cluster().servers()[0]!.httpAddr, 'GET', `/v1/job/${jobId}/allocations`);

  test(
    'a job with several groups is placed within capacity and its tasks run',
    withServerLogs(servers, async () => {
      const leader = await cluster().waitForLeader(30_000);
      const nodes = await requestJson<Node[]>(leader.httpAddr, 'GET', '/v1/nodes');
      assert.equal(nodes.length, 3);
      assert.ok(
        nodes.every((node) => node.Status === 'ready'),
        JSON.stringify(nodes.map((node) => node.Status)),
      );

      // 6 × 500 MHz fits 3 nodes of 2,000 MHz: at most 4 per node, and the scheduler spreads them.
      await requestJson(leader.httpAddr, 'PUT', '/v1/jobs', { body: jobBody('web', { cache: 4, api: 2 }) });
      const running = await waitFor<Allocation[]>(
        'six running allocations',
        { timeoutMs: 30_000 },
        async () => {
          const allocs = await allocsOf('web');
          const live = allocs.filter((alloc) => alloc.ClientStatus === 'running');
          return live.length === 6 ? done(live) : pending(`${live.length} running of ${allocs.length}`);
        },
      );
      const perNode = new Map<string, number>();
      for (const alloc of running) perNode.set(alloc.NodeID, (perNode.get(alloc.NodeID) ?? 0) + 1);
      assert.ok(
        [...perNode.values()].every((count) => count <= 4),
        JSON.stringify([...perNode]),
      );
      assert.equal(perNode.size, 3, 'the allocations are spread over every node');
    }),
  );

  test(
    'a job that does not fit waits and is placed when capacity frees up',
    withServerLogs(servers, async () => {
      const leader = await cluster().waitForLeader(30_000);
      // 3 nodes × 2,000 MHz = 6,000; the first job uses 3,000, so a 4,000 MHz job fits only after it stops.
      await requestJson(leader.httpAddr, 'PUT', '/v1/jobs', { body: jobBody('large', { g: 4 }, 1000) });
      await waitFor('a blocked evaluation', { timeoutMs: 30_000 }, async () => {
        const evals = await requestJson<{ Status: string }[]>(
          leader.httpAddr,
          'GET',
          '/v1/job/large/evaluations',
        );
        return evals.some((evaluation) => evaluation.Status === 'blocked')
          ? done(true)
          : pending(JSON.stringify(evals));
      });
      await requestJson(leader.httpAddr, 'DELETE', '/v1/job/web');
      await waitFor('four allocations of the large job', { timeoutMs: 30_000 }, async () => {
        const live = (await allocsOf('large')).filter((alloc) => alloc.DesiredStatus === 'run');
        return live.length === 4 ? done(true) : pending(`${live.length} placed`);
      });
      await requestJson(leader.httpAddr, 'DELETE', '/v1/job/large?purge=true');
    }),
  );

  test(
    'leader killed during a burst of registrations: every job placed exactly once',
    withServerLogs(servers, async () => {
      const leader = await cluster().waitForLeader(30_000);
      const ids = Array.from({ length: 30 }, (_, i) => `burst-${i}`);
      const registered = new Set<string>();
      const register = async (id: string) => {
        for (let attempt = 0; attempt < 40; attempt++) {
          const target = cluster()
            .live()
            .filter((server) => server !== leader || leader.state === 'running');
          const server = target[attempt % target.length]!;
          try {
            await requestJson(server.httpAddr, 'PUT', '/v1/jobs', {
              body: jobBody(id, { g: 1 }, 50),
              timeoutMs: 10_000,
            });
            registered.add(id);
            return;
          } catch {
            // Registration is idempotent for the same job: retry until one attempt is acknowledged.
            await new Promise((resolve) => setTimeout(resolve, 200));
          }
        }
      };
      const burst = Promise.all(ids.map((id) => register(id)));
      await leader.kill('SIGKILL');
      await burst;
      assert.equal(registered.size, ids.length, 'every registration was acknowledged');
      const next = await cluster().waitForLeader(30_000);
      assert.notEqual(next, leader);

      await waitFor('every job placed', { timeoutMs: 60_000 }, async () => {
        const allocs = await requestJson<Allocation[]>(next.httpAddr, 'GET', '/v1/allocations');
        const placed = new Set(
          allocs.filter((alloc) => alloc.JobID.startsWith('burst-')).map((alloc) => alloc.JobID),
        );
        return placed.size === ids.length
          ? done(true)
          : pending(`${placed.size} of ${ids.length} jobs placed`);
      });
      const allocs = await requestJson<Allocation[]>(next.httpAddr, 'GET', '/v1/allocations');
      for (const id of ids) {
        const mine = allocs.filter((alloc) => alloc.JobID === id);
        assert.equal(mine.length, 1, `${id} has ${mine.length} allocations`);
      }
      const nodes = await requestJson<Node[]>(next.httpAddr, 'GET', '/v1/nodes');
      assert.ok(
        nodes.every((node) => node.Status === 'ready'),
        `no node is marked down across the failover: ${JSON.stringify(nodes.map((node) => node.Status))}`,
      );
    }),
  );
});
