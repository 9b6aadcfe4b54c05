import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { requestJson } from '../../cluster/http-client.js';
import type { ServerHandle } from '../../cluster/launcher.js';
import { done, pending, waitFor } from '../../cluster/wait.js';
import type { Allocation } from '../../src/structs/allocation.js';
import type { Node } from '../../src/structs/node.js';
import { CLUSTER_TEST_TIMEOUT_MS, startTestCluster, type TestCluster } from '../cluster/fixture.js';
import { ClientProcess } from '../support/client-process.js';

function rawExecJob(id: string, type: 'service' | 'batch', command: string, args: string[]) {
  return {
    Job: {
      ID: id,
      Type: type,
      TaskGroups: [
        {
          Name: 'group',
          Count: 1,
          Tasks: [
            {
              Name: 'main',
              Driver: 'raw_exec',
              Config: { command, args },
              Env: { GREETING: 'hello' },
              Resources: { CPU: 100, MemoryMB: 64 },
              KillTimeout: 2_000_000_000,
            },
          ],
        },
      ],
    },
  };
}

/** True while a process with this pid exists and is not a zombie. */
async function processRuns(pid: number): Promise<boolean> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function startTime(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe('client agent with raw_exec', { timeout: CLUSTER_TEST_TIMEOUT_MS }, () => {
  let setup: TestCluster | undefined;
  let root = '';
  let client: ClientProcess | undefined;
  /** Task processes started by the tests, killed in `after` in case a test failed before it stopped them. */
  const taskPids = new Set<number>();
  const server = (): ServerHandle => setup!.cluster.servers()[0]!;
  const allocsOf = (jobId: string) =>
    requestJson<Allocation[]>(server().httpAddr, 'GET', `/v1/job/${jobId}/allocations`);

  async function waitForAlloc(jobId: string, status: Allocation['ClientStatus']): Promise<Allocation> {
    return waitFor(`allocation of ${jobId} ${status}`, { timeoutMs: 30_000, intervalMs: 20 }, async () => {
      const allocs = await allocsOf(jobId);
      const match = allocs.find((alloc) => alloc.ClientStatus === status);
      return match === undefined
        ? pending(JSON.stringify(allocs.map((alloc) => alloc.ClientStatus)))
        : done(match);
    });
  }

  async function waitForNodeReady(nodeId: string): Promise<Node> {
    return waitFor('client node ready', { timeoutMs: 60_000, intervalMs: 20 }, async () => {
      const node = await requestJson<Node>(server().httpAddr, 'GET', `/v1/node/${nodeId}`, {
        timeoutMs: 1000,
      });
      return node.Status === 'ready' ? done(node) : pending(node.Status);
    });
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'signet-client-'));
    setup = await startTestCluster(1);
    await setup.cluster.waitForLeader(60_000);
    client = new ClientProcess(root);
    await client.writeConfig([server().rpcAddr]);
    const startedAt = performance.now();
    client.start();
    const nodeId = await waitFor('node identity file', { timeoutMs: 60_000, intervalMs: 20 }, async () =>
      done(await client!.nodeId()),
    );
    await waitForNodeReady(nodeId);
    // Process start (tsx included) to a ready node in the servers' state.
    console.log(`client start to node ready: ${Math.round(performance.now() - startedAt)} ms`);
  });

  after(async () => {
    await client?.stop();
    for (const pid of taskPids) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await setup?.cluster.stop();
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  /** Wraps a test body so that a failure prints the end of the client's log. */
  const withClientLog =
    (body: () => Promise<void>) =>
    async (t: { diagnostic(message: string): void }): Promise<void> => {
      try {
        await body();
      } catch (err) {
        for (const line of (await client!.logTail(40)).split('\n')) t.diagnostic(`client ${line}`);
        throw err;
      }
    };

  test('node registers with raw_exec', async () => {
    const node = await requestJson<Node>(server().httpAddr, 'GET', `/v1/node/${await client!.nodeId()}`);
    assert.equal(node.Name, 'client-1');
    assert.equal(node.Datacenter, 'dc1');
    assert.deepEqual(node.Drivers.raw_exec, { Detected: true, Healthy: true });
    assert.equal(node.Drivers.mock, undefined, 'mock is off unless the configuration enables it');
    assert.deepEqual(node.NodeResources, { CPU: 4000, MemoryMB: 4096 });
    assert.equal(node.Attributes['driver.raw_exec'], '1');
  });

  test(
    'service task runs with its env and folders',
    withClientLog(async () => {
      const script =
        'echo $NOMAD_ALLOC_ID > $NOMAD_ALLOC_DIR/data/id; env > $NOMAD_ALLOC_DIR/data/env; echo $$ > $NOMAD_ALLOC_DIR/data/pid; exec sleep 300';
      await requestJson(server().httpAddr, 'PUT', '/v1/jobs', {
        body: rawExecJob('sleeper', 'service', '/bin/sh', ['-c', script]),
      });
      const alloc = await waitForAlloc('sleeper', 'running');
      assert.equal(alloc.NodeID, await client!.nodeId());
      assert.equal(alloc.TaskStates.main?.State, 'running');

      const dataDir = join(client!.dataDir, 'alloc', alloc.ID, 'alloc', 'data');
      const pid = await waitFor<number>('pid file', { timeoutMs: 10_000 }, async () => {
        const text = (await readFile(join(dataDir, 'pid'), 'utf8')).trim();
        return text === '' ? pending('empty') : done(Number(text));
      });
      taskPids.add(pid);
      assert.equal((await readFile(join(dataDir, 'id'), 'utf8')).trim(), alloc.ID);
      const env = new Map(
        (await readFile(join(dataDir, 'env'), 'utf8'))
          .split('\n')
          .filter((line) => line.includes('='))
          .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
      );
      const allocDir = join(client!.dataDir, 'alloc', alloc.ID);
      assert.equal(env.get('NOMAD_ALLOC_ID'), alloc.ID);
      assert.equal(env.get('NOMAD_JOB_ID'), 'sleeper');
      assert.equal(env.get('NOMAD_JOB_NAME'), 'sleeper');
      assert.equal(env.get('NOMAD_NAMESPACE'), 'default');
      assert.equal(env.get('NOMAD_GROUP_NAME'), 'group');
      assert.equal(env.get('NOMAD_TASK_NAME'), 'main');
      assert.equal(env.get('NOMAD_ALLOC_DIR'), join(allocDir, 'alloc'));
      assert.equal(env.get('NOMAD_TASK_DIR'), join(allocDir, 'main', 'local'));
      assert.equal(env.get('NOMAD_SECRETS_DIR'), join(allocDir, 'main', 'secrets'));
      assert.equal(env.get('GREETING'), 'hello');
      assert.equal(await processRuns(pid), true);
    }),
  );

  test(
    'client restart re-attaches to the running task',
    withClientLog(async () => {
      const before = await allocsOf('sleeper');
      assert.equal(before.length, 1);
      const alloc = before[0]!;
      const pid = Number(
        (await readFile(join(client!.dataDir, 'alloc', alloc.ID, 'alloc', 'data', 'pid'), 'utf8')).trim(),
      );
      const started = await startTime(pid);
      const nodeId = await client!.nodeId();

      assert.equal(await client!.stop(), 0);
      assert.equal(await processRuns(pid), true, 'the task outlives the client');
      client!.start();
      await waitFor(
        'the restarted client to log its restore',
        { timeoutMs: 60_000, intervalMs: 50 },
        async () =>
          (await readFile(client!.logPath, 'utf8')).includes('restored allocation')
            ? done(true)
            : pending('not yet'),
      );
      await waitForNodeReady(nodeId);

      assert.equal(await client!.nodeId(), nodeId, 'same node after the restart');
      assert.equal(await processRuns(pid), true);
      assert.equal(await startTime(pid), started, 'the same process, not a new one with the same pid');
      const afterRestart = await allocsOf('sleeper');
      assert.deepEqual(
        afterRestart.map((item) => item.ID),
        [alloc.ID],
        'no second allocation',
      );
      assert.equal(afterRestart[0]!.ClientStatus, 'running');
      assert.equal(afterRestart[0]!.TaskStates.main?.Failed, false);
      const pids = (
        await readFile(join(client!.dataDir, 'alloc', alloc.ID, 'alloc', 'data', 'pid'), 'utf8')
      ).trim();
      assert.equal(Number(pids), pid, 'the task was not started a second time');
    }),
  );

  test(
    'stopping the job stops the process',
    withClientLog(async () => {
      const [alloc] = await allocsOf('sleeper');
      const pid = Number(
        (await readFile(join(client!.dataDir, 'alloc', alloc!.ID, 'alloc', 'data', 'pid'), 'utf8')).trim(),
      );
      await requestJson(server().httpAddr, 'DELETE', '/v1/job/sleeper');
      const stopped = await waitForAlloc('sleeper', 'complete');
      assert.equal(stopped.DesiredStatus, 'stop');
      const events = stopped.TaskStates.main?.Events.map((event) => event.Type) ?? [];
      assert.ok(events.includes('Killing'), JSON.stringify(events));
      assert.ok(events.includes('Killed'), JSON.stringify(events));
      await waitFor('the task process to exit', { timeoutMs: 10_000 }, async () =>
        (await processRuns(pid)) ? pending(`pid ${pid} runs`) : done(true),
      );
      taskPids.delete(pid);
    }),
  );

  test(
    'batch job with /bin/true completes',
    withClientLog(async () => {
      await requestJson(server().httpAddr, 'PUT', '/v1/jobs', {
        body: rawExecJob('once', 'batch', '/bin/true', []),
      });
      const alloc = await waitForAlloc('once', 'complete');
      const state = alloc.TaskStates.main;
      assert.equal(state?.State, 'dead');
      assert.equal(state?.Failed, false);
      const terminated = state?.Events.find((event) => event.Type === 'Terminated');
      assert.equal(terminated?.ExitCode, 0);
    }),
  );

  test(
    'failing command fails the allocation',
    withClientLog(async () => {
      await requestJson(server().httpAddr, 'PUT', '/v1/jobs', {
        body: rawExecJob('broken', 'batch', '/bin/sh', ['-c', 'exit 3']),
      });
      const alloc = await waitForAlloc('broken', 'failed');
      assert.equal(alloc.TaskStates.main?.Failed, true);
      const terminated = alloc.TaskStates.main?.Events.find((event) => event.Type === 'Terminated');
      assert.equal(terminated?.ExitCode, 3);
      await requestJson(server().httpAddr, 'DELETE', '/v1/job/broken?purge=true');
    }),
  );

  test(
    'job register to task running, five runs',
    withClientLog(async () => {
      const started: number[] = [];
      const reported: number[] = [];
      for (let run = 0; run < 5; run++) {
        const id = `timed-${run}`;
        const registeredAt = Date.now();
        await requestJson(server().httpAddr, 'PUT', '/v1/jobs', {
          body: rawExecJob(id, 'service', '/bin/sleep', ['300']),
        });
        const alloc = await waitForAlloc(id, 'running');
        reported.push(Date.now() - registeredAt);
        const startedEvent = alloc.TaskStates.main?.Events.find((event) => event.Type === 'Started');
        assert.ok(startedEvent !== undefined);
        started.push(startedEvent.Time / 1_000_000 - registeredAt);
        await requestJson(server().httpAddr, 'DELETE', `/v1/job/${id}?purge=true`);
        await waitFor(`${id} stopped`, { timeoutMs: 30_000 }, async () => {
          const allocs = await allocsOf(id);
          return allocs.every((item) => item.ClientStatus !== 'running') ? done(true) : pending('running');
        });
      }
      // Started: the task's Started event. Reported: ClientStatus running seen over HTTP (20 ms
      // polls), which includes the client's 200 ms batching of status updates.
      console.log(
        `job register to task started (ms): ${started.map(Math.round).join(', ')}; median ${Math.round(median(started))}`,
      );
      console.log(
        `job register to running reported (ms): ${reported.join(', ')}; median ${median(reported)}`,
      );
      assert.equal(started.length, 5);
    }),
  );
});
