import assert from 'node:assert/strict';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { httpRequest, requestJson } from '../../cluster/http-client.js';
import type { ServerHandle } from '../../cluster/launcher.js';
import { done, pending, waitFor } from '../../cluster/wait.js';
import { readArchiveFile } from '../../src/server/snapshot/archive-file.js';
import { parseKeyValues, signet } from '../cli/support/run-signet.js';
import { CLUSTER_TEST_TIMEOUT_MS, startTestCluster, type TestCluster, withServerLogs } from './fixture.js';

const WRITES_BEFORE = 20;

async function putNamespace(server: ServerHandle, name: string): Promise<void> {
  await requestJson(server.httpAddr, 'PUT', `/v1/namespace/${name}`, {
    body: { Name: name, Description: '' },
    timeoutMs: 10_000,
  });
}

/** Returns the namespace names on `server`; with `stale`, read from that server's own state. */
async function namespaceNames(server: ServerHandle, stale: boolean): Promise<string[]> {
  const rows = await requestJson<{ Name: string }[]>(
    server.httpAddr,
    'GET',
    `/v1/namespaces${stale ? '?stale' : ''}`,
    {
      timeoutMs: 10_000,
    },
  );
  return rows.map((row) => row.Name).sort();
}

/** Waits until `server`'s own state lists every name in `names`. */
async function waitForNamespaces(server: ServerHandle, names: readonly string[]): Promise<void> {
  await waitFor(
    `${server.name} to hold ${names.length} namespaces`,
    { timeoutMs: 30_000, intervalMs: 100 },
    async () => {
      const held = new Set(await namespaceNames(server, true));
      const missing = names.filter((name) => !held.has(name));
      return missing.length === 0 ? done(undefined) : pending(`missing ${missing.join(', ')}`);
    },
  );
}

describe('lost quorum', { timeout: CLUSTER_TEST_TIMEOUT_MS }, () => {
  let setup: TestCluster | undefined;
  const servers = () => setup?.cluster.servers() ?? [];

  before(async () => {
    setup = await startTestCluster(3);
  });
  after(async () => {
    await setup?.cluster.stop();
  });

  test(
    'last server recovers and grows again',
    withServerLogs(servers, async () => {
      const { cluster, crashes } = setup!;
      const leader = await cluster.waitForLeader(60_000);
      const before = Array.from({ length: WRITES_BEFORE }, (_, i) => `before-${i}`);
      for (const name of before) await putNamespace(leader, name);

      const [first, second, survivor] = cluster.servers() as [ServerHandle, ServerHandle, ServerHandle];
      await waitForNamespaces(survivor, before);

      // Two of three servers are lost for good: killed, and their data gone.
      for (const lost of [first, second]) {
        await lost.kill('SIGKILL');
        await rm(lost.dataDir, { recursive: true, force: true });
      }
      const stuck = await httpRequest(survivor.httpAddr, 'PUT', '/v1/namespace/stuck', {
        body: { Name: 'stuck' },
        timeoutMs: 15_000,
      });
      assert.equal(stuck.status, 500, `a write without quorum fails: ${stuck.body}`);

      const refused = await signet(['operator', 'raft', 'recover', '-data-dir', survivor.dataDir]);
      assert.equal(refused.code, 1, 'recover refuses a running server');
      assert.match(refused.stderr, /^Error: \[SERVER_RUNNING\] /);

      // The runbook picks the survivor by stats.raft's last log term, then index; the dry run
      // prints the same pair from the stopped server's folder.
      const self = await requestJson<{ stats: { raft: Record<string, string> } }>(
        survivor.httpAddr,
        'GET',
        '/v1/agent/self',
        { timeoutMs: 10_000 },
      );
      const raftStats = self.stats.raft;
      assert.match(raftStats.last_log_term ?? '', /^[1-9][0-9]*$/);
      await survivor.stop();
      const dryRun = await signet(['operator', 'raft', 'recover', '-data-dir', survivor.dataDir, '-dry-run']);
      assert.equal(dryRun.code, 0, dryRun.stderr);
      const folder = parseKeyValues(dryRun.stdout);
      assert.equal(folder.get('Last log term'), raftStats.last_log_term);
      assert.equal(folder.get('Last log index'), raftStats.last_log_index);

      const recovered = await signet(['operator', 'raft', 'recover', '-data-dir', survivor.dataDir]);
      assert.equal(recovered.code, 0, recovered.stderr);
      assert.match(recovered.stdout, /this server is now the only voter of a new configuration/);

      await survivor.start();
      assert.equal(await cluster.waitForLeader(60_000), survivor);
      const afterRecovery = await namespaceNames(survivor, false);
      for (const name of before) assert.ok(afterRecovery.includes(name), `${name} survived the recovery`);
      const voters = (await cluster.raftConfiguration(survivor)).Servers;
      assert.deepEqual(
        voters.map((server) => server.Address),
        [survivor.rpcAddr],
        'the survivor is the only member',
      );

      await putNamespace(survivor, 'after-recovery');
      assert.ok((await namespaceNames(survivor, false)).includes('after-recovery'));

      const joined = await cluster.addServer();
      await cluster.waitForVoter(joined, 60_000);
      await waitForNamespaces(joined, [...before, 'after-recovery']);
      const members = (await cluster.raftConfiguration(survivor)).Servers;
      assert.equal(members.length, 2);
      assert.ok(members.every((server) => server.Voter));
      await putNamespace(joined, 'after-join');
      await waitForNamespaces(survivor, ['after-join']);
      assert.deepEqual(crashes, []);
    }),
  );
});

describe('restore into a fresh data folder', { timeout: CLUSTER_TEST_TIMEOUT_MS }, () => {
  let setup: TestCluster | undefined;
  const servers = () => setup?.cluster.servers() ?? [];

  before(async () => {
    setup = await startTestCluster(1);
  });
  after(async () => {
    await setup?.cluster.stop();
  });

  test(
    'state matches the snapshot',
    withServerLogs(servers, async () => {
      const { cluster, crashes } = setup!;
      const server = await cluster.waitForLeader(60_000);
      for (const name of ['web', 'batch']) await putNamespace(server, name);
      await requestJson(server.httpAddr, 'PUT', '/v1/var/shared/db?namespace=web', {
        body: { Items: { user: 'admin', password: 's3cret' } },
        timeoutMs: 10_000,
      });
      const saved = await namespaceNames(server, false);
      const oldId = (await cluster.raftConfiguration(server)).Servers[0]!.ID;

      const file = join(cluster.root, 'backup.snap');
      const save = await signet(['operator', 'snapshot', 'save', `-address=${server.httpAddr}`, file]);
      assert.equal(save.code, 0, save.stderr);
      const checked = await readArchiveFile(file);
      assert.equal(checked.summary.rows.variables, 1);
      assert.equal(checked.summary.rows.namespaces, saved.length);

      // A write after the snapshot must not come back with the restore.
      await putNamespace(server, 'after-snapshot');
      await server.stop();
      await rm(server.dataDir, { recursive: true, force: true });
      await mkdir(server.dataDir);

      const restore = await signet([
        'operator',
        'raft',
        'recover',
        '-data-dir',
        server.dataDir,
        '-snapshot',
        file,
      ]);
      assert.equal(restore.code, 0, restore.stderr);
      await server.start();
      assert.equal(await cluster.waitForLeader(60_000), server);

      assert.deepEqual(await namespaceNames(server, false), saved);
      const variable = await requestJson<{ Items: Record<string, string> }>(
        server.httpAddr,
        'GET',
        '/v1/var/shared/db?namespace=web',
      );
      assert.deepEqual(
        variable.Items,
        { user: 'admin', password: 's3cret' },
        'the same cluster key decrypts it',
      );
      const newId = (await cluster.raftConfiguration(server)).Servers[0]!.ID;
      assert.notEqual(newId, oldId, 'a fresh folder gets a new server id');

      await putNamespace(server, 'after-restore');
      assert.ok((await namespaceNames(server, false)).includes('after-restore'));
      assert.deepEqual(crashes, []);
    }),
  );
});
