import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { httpRequest } from '../../cluster/http-client.js';
import type { Cluster, ServerHandle } from '../../cluster/launcher.js';
import { done, pending, waitFor } from '../../cluster/wait.js';
import type { Allocation } from '../../src/structs/allocation.js';
import type { Node } from '../../src/structs/node.js';
import { ClientProcess } from '../support/client-process.js';
import { CLUSTER_TEST_TIMEOUT_MS, startTestCluster, type TestCluster, withServerLogs } from './fixture.js';

/** Builds a task that copies its workload identity into the allocation folder, then sleeps. */
function tokenTask(name: string) {
  return {
    Name: name,
    Driver: 'raw_exec',
    Config: {
      command: '/bin/sh',
      args: [
        '-c',
        `cp "$NOMAD_SECRETS_DIR/nomad_token" "$NOMAD_ALLOC_DIR/data/${name}-token"; exec sleep 300`,
      ],
    },
    Resources: { CPU: 100, MemoryMB: 32 },
    Identity: { Name: 'default', File: true },
  };
}

/** Nomad's walk-through job: group `cache` with tasks `redis` and `other`, group `web` with `app`. */
const EXAMPLE_JOB = {
  Job: {
    ID: 'example',
    Type: 'service',
    TaskGroups: [
      { Name: 'cache', Count: 1, Tasks: [tokenTask('redis'), tokenTask('other')] },
      { Name: 'web', Count: 1, Tasks: [tokenTask('app')] },
    ],
  },
};

const SHARED_READ =
  'namespace "shared" {\n  variables {\n    path "*" {\n      capabilities = ["read", "list"]\n    }\n  }\n}\n';

describe('ACL policies tied to a job, a group and a task', { timeout: CLUSTER_TEST_TIMEOUT_MS * 2 }, () => {
  let setup: TestCluster | undefined;
  let root = '';
  let client: ClientProcess | undefined;
  let management = '';
  const tokens = new Map<string, string>();
  const cluster = (): Cluster => setup!.cluster;
  const servers = () => setup?.cluster.servers() ?? [];

  async function call(server: ServerHandle, method: string, path: string, token: string, body?: unknown) {
    return httpRequest(server.httpAddr, method, path, {
      headers: { 'X-Nomad-Token': token },
      ...(body === undefined ? {} : { body }),
    });
  }

  async function asManagement(method: string, path: string, body?: unknown): Promise<string> {
    const leader = await cluster().waitForLeader(30_000);
    const response = await call(leader, method, path, management, body);
    assert.ok(response.status < 300, `${method} ${path}: ${response.status} ${response.body}`);
    return response.body;
  }

  /** Status of reading shared/db on `server` with the token of `task`; `stale` reads the local state. */
  async function readShared(server: ServerHandle, task: string, stale = false): Promise<number> {
    const path = `/v1/var/shared/db?namespace=shared${stale ? '&stale' : ''}`;
    const response = await call(server, 'GET', path, tokens.get(task)!);
    if (response.status === 200) {
      const variable = JSON.parse(response.body) as { Items: Record<string, string> };
      assert.deepEqual(variable.Items, { user: 'app', password: 'hunter2' });
    }
    return response.status;
  }

  /** Waits until every live server gives each task the expected status for shared/db. */
  async function expectReads(expected: Record<string, number>): Promise<void> {
    for (const server of cluster().live()) {
      await waitFor(`${server.name} to apply the policy change`, { timeoutMs: 30_000 }, async () => {
        for (const [task, status] of Object.entries(expected)) {
          const got = await readShared(server, task);
          if (got !== status) return pending(`${task} got ${got}, expected ${status}`);
        }
        return done(true);
      });
    }
  }

  async function applyPolicy(jobAcl: Record<string, string>): Promise<void> {
    await asManagement('PUT', '/v1/acl/policy/shared-read', {
      Name: 'shared-read',
      Description: 'read the shared variables',
      Rules: SHARED_READ,
      JobACL: jobAcl,
    });
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'signet-acl-'));
    // With acl: true the launcher bootstraps the ACLs itself.
    setup = await startTestCluster(3, { acl: true });
    management = setup.cluster.managementToken!;

    client = new ClientProcess(join(root, 'client'), 'client-1');
    await client.writeConfig(setup.cluster.servers().map((server) => server.rpcAddr));
    client.start();
    await waitFor('a ready node', { timeoutMs: 60_000 }, async () => {
      const nodes = JSON.parse(await asManagement('GET', '/v1/nodes')) as Node[];
      return nodes.some((node) => node.Status === 'ready') ? done(true) : pending('no ready node');
    });

    await asManagement('PUT', '/v1/namespace/shared', { Name: 'shared', Description: 'shared data' });
    await asManagement('PUT', '/v1/var/shared/db?namespace=shared', {
      Namespace: 'shared',
      Path: 'shared/db',
      Items: { user: 'app', password: 'hunter2' },
    });
    await asManagement('PUT', '/v1/var/nomad/jobs/example', {
      Namespace: 'default',
      Path: 'nomad/jobs/example',
      Items: { greeting: 'hello' },
    });
    await asManagement('PUT', '/v1/jobs', EXAMPLE_JOB);
    const allocs = await waitFor<Allocation[]>('two running allocations', { timeoutMs: 60_000 }, async () => {
      const all = JSON.parse(await asManagement('GET', '/v1/job/example/allocations')) as Allocation[];
      const running = all.filter((alloc) => alloc.ClientStatus === 'running');
      return running.length === 2 ? done(running) : pending(`${running.length} running`);
    });
    for (const alloc of allocs) {
      const data = join(client.dataDir, 'alloc', alloc.ID, 'alloc', 'data');
      const tasks = alloc.TaskGroup === 'cache' ? ['redis', 'other'] : ['app'];
      for (const task of tasks) {
        const token = await waitFor<string>(`the token of ${task}`, { timeoutMs: 30_000 }, async () => {
          const text = await readFile(join(data, `${task}-token`), 'utf8').catch(() => '');
          return text === '' ? pending('not copied yet') : done(text);
        });
        tokens.set(task, token);
      }
    }
  });
  after(async () => {
    await client?.stop();
    await client?.killTasks();
    await setup?.cluster.stop();
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  test(
    'task, group and job policies reach exactly their workloads on every server, across a leader kill',
    withServerLogs(servers, async () => {
      // No policy yet: every workload is denied, and its own job's path is readable implicitly.
      await expectReads({ redis: 403, other: 403, app: 403 });
      for (const server of cluster().live()) {
        const own = await call(server, 'GET', '/v1/var/nomad/jobs/example', tokens.get('other')!);
        assert.equal(own.status, 200, `${server.name}: implicit read of nomad/jobs/example`);
        const write = await call(server, 'PUT', '/v1/var/nomad/jobs/example', tokens.get('other')!, {
          Items: { greeting: 'changed' },
        });
        assert.equal(write.status, 403, `${server.name}: implicit access never writes`);
      }

      await applyPolicy({ Namespace: 'default', JobID: 'example', Group: 'cache', Task: 'redis' });
      await expectReads({ redis: 200, other: 403, app: 403 });

      await applyPolicy({ Namespace: 'default', JobID: 'example', Group: 'cache' });
      await expectReads({ redis: 200, other: 200, app: 403 });

      // The followers resolve from their own state: right after the leader dies, before any new
      // election, local (stale) reads give the same outcomes at the first try.
      const leader = await cluster().waitForLeader(30_000);
      await leader.kill('SIGKILL');
      for (const server of cluster().live()) {
        for (const [task, status] of Object.entries({ redis: 200, other: 200, app: 403 })) {
          assert.equal(await readShared(server, task, true), status, `${server.name}, ${task}, no leader`);
        }
      }
      await expectReads({ redis: 200, other: 200, app: 403 });
      await cluster().waitForLeader(60_000);

      await applyPolicy({ Namespace: 'default', JobID: 'example' });
      await expectReads({ redis: 200, other: 200, app: 200 });
      await leader.restart();
      await expectReads({ redis: 200, other: 200, app: 200 });
    }),
  );

  test(
    'a task renders shared variables through a template only when a policy reaches it',
    withServerLogs(servers, async () => {
      await asManagement('PUT', '/v1/acl/policy/templated-read', {
        Name: 'templated-read',
        Description: '',
        Rules: SHARED_READ,
        JobACL: { Namespace: 'default', JobID: 'templated', Group: 'cache', Task: 'redis' },
      });
      const templatedTask = (name: string) => ({
        Name: name,
        Driver: 'raw_exec',
        Config: { command: '/bin/sleep', args: ['300'] },
        Resources: { CPU: 100, MemoryMB: 32 },
        Templates: [
          {
            DestPath: 'local/db.txt',
            EmbeddedTmpl: '{{ with nomadVar "shared/db@shared" }}user={{ .user }}{{ end }}\n',
            ChangeMode: 'noop',
          },
        ],
      });
      await asManagement('PUT', '/v1/jobs', {
        Job: {
          ID: 'templated',
          Type: 'service',
          TaskGroups: [{ Name: 'cache', Count: 1, Tasks: [templatedTask('redis'), templatedTask('other')] }],
        },
      });
      const alloc = await waitFor<Allocation>('both tasks to settle', { timeoutMs: 60_000 }, async () => {
        const [first] = JSON.parse(
          await asManagement('GET', '/v1/job/templated/allocations'),
        ) as Allocation[];
        const states = first === undefined ? [] : Object.values(first.TaskStates);
        return states.length === 2 && states.every((state) => state.State !== 'pending')
          ? done(first!)
          : pending(`${states.length} task states`);
      });
      const rendered = await readFile(
        join(client!.dataDir, 'alloc', alloc.ID, 'redis', 'local', 'db.txt'),
        'utf8',
      );
      assert.equal(rendered, 'user=app\n');
      const other = JSON.parse(await asManagement('GET', `/v1/allocation/${alloc.ID}`)) as Allocation;
      const events = other.TaskStates.other!.Events.map((event) => event.DisplayMessage).join(' | ');
      assert.equal(other.TaskStates.other!.Failed, true, events);
      assert.match(events, /permission denied/i);
      await asManagement('DELETE', '/v1/job/templated?purge=true');
    }),
  );

  test(
    'an exact deny beats implicit access, and unknown or forged tokens are refused',
    withServerLogs(servers, async () => {
      await asManagement('PUT', '/v1/acl/policy/deny-own', {
        Name: 'deny-own',
        Description: '',
        Rules:
          'namespace "default" {\n  variables {\n    path "nomad/jobs/example" {\n      capabilities = ["deny"]\n    }\n  }\n}\n',
        JobACL: { Namespace: 'default', JobID: 'example' },
      });
      for (const server of cluster().live()) {
        await waitFor(`${server.name} to deny the job's own path`, { timeoutMs: 30_000 }, async () => {
          const own = await call(server, 'GET', '/v1/var/nomad/jobs/example', tokens.get('app')!);
          return own.status === 403 ? done(true) : pending(`status ${own.status}`);
        });
        assert.equal(
          (await call(server, 'GET', '/v1/var/shared/db?namespace=shared', randomUUID())).status,
          403,
        );
        const forged = `${tokens.get('app')!.slice(0, -4)}AAAA`;
        assert.equal((await call(server, 'GET', '/v1/var/shared/db?namespace=shared', forged)).status, 403);
        assert.equal(
          (await httpRequest(server.httpAddr, 'GET', '/v1/var/shared/db?namespace=shared')).status,
          403,
        );
      }
      await asManagement('DELETE', '/v1/acl/policy/deny-own');
    }),
  );

  test(
    'of two writes with the same check-and-set index, exactly one wins',
    withServerLogs(servers, async () => {
      const [first, second] = cluster().live();
      const current = JSON.parse(await asManagement('GET', '/v1/var/shared/db?namespace=shared')) as {
        ModifyIndex: number;
      };
      const put = (server: ServerHandle, value: string) =>
        call(server, 'PUT', `/v1/var/shared/db?namespace=shared&cas=${current.ModifyIndex}`, management, {
          Namespace: 'shared',
          Path: 'shared/db',
          Items: { user: 'app', password: value },
        });
      const results = await Promise.all([put(first!, 'one'), put(second!, 'two')]);
      assert.deepEqual(
        results.map((response) => response.status).sort(),
        [200, 409],
        results.map((response) => response.body).join(' | '),
      );
      const after = JSON.parse(await asManagement('GET', '/v1/var/shared/db?namespace=shared')) as {
        Items: Record<string, string>;
      };
      const winner = results[0]!.status === 200 ? 'one' : 'two';
      assert.equal(after.Items.password, winner);
    }),
  );
});
