import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { requestJson } from '../../cluster/http-client.js';
import type { Cluster } from '../../cluster/launcher.js';
import { done, pending, waitFor } from '../../cluster/wait.js';
import type { Allocation } from '../../src/structs/allocation.js';
import type { Node } from '../../src/structs/node.js';
import { ClientProcess } from '../support/client-process.js';
import { CLUSTER_TEST_TIMEOUT_MS, startTestCluster, type TestCluster, withServerLogs } from './fixture.js';

/** Short heartbeats, so a dead client is noticed in seconds rather than Nomad's 20 s. */
const TUNING = { min_heartbeat_ttl: '1s', heartbeat_grace: '1s', failover_heartbeat_ttl: '4s' };
/** Long enough to cover several heartbeat TTLs plus the grace, during which no node may go down. */
const OBSERVE_MS = 6_000;

/** Builds a raw_exec service job whose allocations write their shell's pid, sleep, and need 1,000 MHz. */
function sleeperJob(id: string, count: number) {
  return {
    Job: {
      ID: id,
      Type: 'service',
      TaskGroups: [
        {
          Name: 'g',
          Count: count,
          Tasks: [
            {
              Name: 'sleep',
              Driver: 'raw_exec',
              Config: {
                command: '/bin/sh',
                args: ['-c', 'echo $$ > "$NOMAD_ALLOC_DIR/data/pid"; exec sleep 300'],
              },
              Resources: { CPU: 1000, MemoryMB: 64 },
            },
          ],
        },
      ],
    },
  };
}

/** Pids of the tasks that a client's data folder shows, read from the files the tasks wrote. */
async function taskPids(client: ClientProcess): Promise<number[]> {
  const pids: number[] = [];
  const allocs = join(client.dataDir, 'alloc');
  for (const id of await readdir(allocs).catch(() => [] as string[])) {
    const text = await readFile(join(allocs, id, 'alloc', 'data', 'pid'), 'utf8').catch(() => '');
    if (text.trim() !== '') pids.push(Number(text.trim()));
  }
  return pids;
}

function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('client nodes across server and client failures', { timeout: CLUSTER_TEST_TIMEOUT_MS }, () => {
  let setup: TestCluster | undefined;
  let root = '';
  const clients: ClientProcess[] = [];
  const cluster = (): Cluster => setup!.cluster;
  const servers = () => setup?.cluster.servers() ?? [];

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'signet-client-failover-'));
    setup = await startTestCluster(3, { tuning: TUNING });
    const leader = await setup.cluster.waitForLeader(60_000);
    const followers = setup.cluster.servers().filter((server) => server !== leader);
    // Client a is given only one follower: it must learn the others from that server to survive it.
    const a = new ClientProcess(join(root, 'a'), 'client-a');
    await a.writeConfig([followers[0]!.rpcAddr], 2500);
    const b = new ClientProcess(join(root, 'b'), 'client-b');
    await b.writeConfig(
      setup.cluster.servers().map((server) => server.rpcAddr),
      2500,
    );
    clients.push(a, b);
    for (const client of clients) client.start();
    await waitFor('two ready nodes', { timeoutMs: 60_000 }, async () => {
      const nodes = await requestJson<Node[]>(leader.httpAddr, 'GET', '/v1/nodes');
      const ready = nodes.filter((node) => node.Status === 'ready').length;
      return ready === 2 ? done(true) : pending(`${ready} ready`);
    });
  });
  after(async () => {
    for (const client of clients) await client.stop();
    for (const client of clients) {
      for (const pid of await taskPids(client)) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    await setup?.cluster.stop();
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  const liveAllocs = async (): Promise<Allocation[]> => {
    const server = cluster().live()[0]!;
    const allocs = await requestJson<Allocation[]>(server.httpAddr, 'GET', '/v1/job/sleepers/allocations');
    return allocs.filter((alloc) => alloc.DesiredStatus === 'run' && alloc.ClientStatus === 'running');
  };

  test(
    'a job with several groups and tasks runs as real processes on both clients',
    withServerLogs(servers, async () => {
      const leader = await cluster().waitForLeader(30_000);
      const task = (name: string) => ({
        Name: name,
        Driver: 'raw_exec',
        Config: { command: '/bin/sleep', args: ['300'] },
        Resources: { CPU: 300, MemoryMB: 32 },
      });
      const job = {
        Job: {
          ID: 'multi',
          Type: 'service',
          TaskGroups: [
            { Name: 'web', Count: 2, Tasks: [task('server'), task('sidecar')] },
            { Name: 'worker', Count: 1, Tasks: [task('loop')] },
          ],
        },
      };
      await requestJson(leader.httpAddr, 'PUT', '/v1/jobs', { body: job });
      // Each web allocation needs 600 MHz and a client has 2,500: both clients are used, none overfilled.
      const allocs = await waitFor<Allocation[]>(
        'three running allocations',
        { timeoutMs: 60_000 },
        async () => {
          const all = await requestJson<Allocation[]>(leader.httpAddr, 'GET', '/v1/job/multi/allocations');
          const runningAllocs = all.filter(
            (alloc) =>
              alloc.ClientStatus === 'running' &&
              Object.values(alloc.TaskStates).every((state) => state.State === 'running'),
          );
          return runningAllocs.length === 3
            ? done(runningAllocs)
            : pending(`${runningAllocs.length} running`);
        },
      );
      assert.deepEqual(allocs.map((alloc) => Object.keys(alloc.TaskStates).sort().join(',')).sort(), [
        'loop',
        'server,sidecar',
        'server,sidecar',
      ]);
      assert.equal(new Set(allocs.map((alloc) => alloc.NodeID)).size, 2, 'both clients run allocations');
      await requestJson(leader.httpAddr, 'DELETE', '/v1/job/multi?purge=true');
      await waitFor('the allocations to stop', { timeoutMs: 30_000 }, async () => {
        const all = await requestJson<Allocation[]>(leader.httpAddr, 'GET', '/v1/allocations');
        const live = all.filter((alloc) => alloc.JobID === 'multi' && alloc.ClientStatus === 'running');
        return live.length === 0 ? done(true) : pending(`${live.length} still running`);
      });
    }),
  );

  test(
    'the server a client uses dies: the client moves on, its task keeps running, its node stays ready',
    withServerLogs(servers, async () => {
      const leader = await cluster().waitForLeader(30_000);
      await requestJson(leader.httpAddr, 'PUT', '/v1/jobs', { body: sleeperJob('sleepers', 2) });
      await waitFor('two running allocations, one per client', { timeoutMs: 60_000 }, async () => {
        const live = await liveAllocs();
        return live.length === 2 && new Set(live.map((alloc) => alloc.NodeID)).size === 2
          ? done(true)
          : pending(`${live.length} running`);
      });
      const [pidBefore] = await taskPids(clients[0]!);
      assert.ok(pidBefore !== undefined, 'client a wrote the pid of its task');
      assert.ok(running(pidBefore), 'client a runs its task');

      const known = clients[0]!;
      const config = JSON.parse(await readFile(known.configPath, 'utf8')) as {
        client: { servers: string[] };
      };
      const only = cluster()
        .servers()
        .find((server) => server.rpcAddr === config.client.servers[0])!;
      await only.kill('SIGKILL');

      // A negative property needs a window: through several TTLs and graces, no node goes down.
      const until = performance.now() + OBSERVE_MS;
      while (performance.now() < until) {
        const server = cluster()
          .live()
          .find((candidate) => candidate !== only)!;
        const nodes = await requestJson<Node[]>(server.httpAddr, 'GET', '/v1/nodes?stale').catch(() => null);
        if (nodes !== null) {
          assert.ok(
            nodes.every((node) => node.Status === 'ready'),
            `a node was marked down after its server died: ${JSON.stringify(nodes.map((node) => [node.Name, node.Status]))}`,
          );
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.ok(running(pidBefore), 'the task of client a still runs');
      assert.deepEqual(await taskPids(known), [pidBefore], 'client a did not start its task again');
      await only.restart();
    }),
  );

  test(
    'a client dies: its allocation is marked lost and replaced on the other client',
    withServerLogs(servers, async () => {
      const leader = await cluster().waitForLeader(30_000);
      const b = clients[1]!;
      const nodeB = JSON.parse(await readFile(join(b.dataDir, 'client', 'node.json'), 'utf8')) as {
        ID: string;
      };
      await b.kill();

      await waitFor('node b down', { timeoutMs: 30_000 }, async () => {
        const node = await requestJson<Node>(leader.httpAddr, 'GET', `/v1/node/${nodeB.ID}`);
        return node.Status === 'down' ? done(true) : pending(node.Status);
      });
      await waitFor('the lost allocation replaced on client a', { timeoutMs: 30_000 }, async () => {
        const allocs = await requestJson<Allocation[]>(
          leader.httpAddr,
          'GET',
          '/v1/job/sleepers/allocations',
        );
        const lost = allocs.filter((alloc) => alloc.NodeID === nodeB.ID && alloc.ClientStatus === 'lost');
        const live = allocs.filter(
          (alloc) => alloc.DesiredStatus === 'run' && alloc.ClientStatus === 'running',
        );
        return lost.length === 1 && live.length === 2 && live.every((alloc) => alloc.NodeID !== nodeB.ID)
          ? done(true)
          : pending(
              JSON.stringify(
                allocs.map((alloc) => [alloc.NodeName, alloc.DesiredStatus, alloc.ClientStatus]),
              ),
            );
      });
    }),
  );
});
