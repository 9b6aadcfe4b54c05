import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  type JSONWebKeySet,
  jwtVerify,
  SignJWT,
} from 'jose';
import { restoredSnapshotIndexes } from '../../cluster/agent-log.js';
import { httpRequest, requestJson } from '../../cluster/http-client.js';
import type { Cluster, ServerHandle } from '../../cluster/launcher.js';
import { done, pending, waitFor } from '../../cluster/wait.js';
import type { Allocation } from '../../src/structs/allocation.js';
import type { Node } from '../../src/structs/node.js';
import { ClientProcess } from '../support/client-process.js';
import { filesUnder, readStoppedServerState, unwrapStoredKey } from '../support/stopped-server-state.js';
import { CLUSTER_TEST_TIMEOUT_MS, startTestCluster, type TestCluster, withServerLogs } from './fixture.js';

// Snapshots every few entries, so that a server that joins late catches up from a snapshot.
const TUNING = { raft_snapshot_threshold: 16, raft_trailing_logs: 4 };

/** Builds a service job whose task copies its token from secrets/ and NOMAD_TOKEN into the alloc folder. */
function identityJob(id: string) {
  return {
    Job: {
      ID: id,
      Type: 'service',
      TaskGroups: [
        {
          Name: 'g',
          Count: 1,
          Tasks: [
            {
              Name: 'reader',
              Driver: 'raw_exec',
              Config: {
                command: '/bin/sh',
                args: [
                  '-c',
                  'cp "$NOMAD_SECRETS_DIR/nomad_token" "$NOMAD_ALLOC_DIR/data/token"; ' +
                    'printf %s "$NOMAD_TOKEN" > "$NOMAD_ALLOC_DIR/data/env-token"; exec sleep 300',
                ],
              },
              Resources: { CPU: 100, MemoryMB: 32 },
              Identity: { Name: 'default', Env: true, File: true },
            },
          ],
        },
      ],
    },
  };
}

/** Status of GET /v1/agent/self on `server` with `token`: 200 when accepted, 403 when not. */
async function statusWithToken(server: ServerHandle, token: string): Promise<number> {
  const response = await httpRequest(server.httpAddr, 'GET', '/v1/agent/self', {
    headers: { 'X-Nomad-Token': token },
  });
  return response.status;
}

async function raftStats(server: ServerHandle): Promise<{ commit_index: string; applied_index: string }> {
  const self = await requestJson<{ stats: { raft: { commit_index: string; applied_index: string } } }>(
    server.httpAddr,
    'GET',
    '/v1/agent/self',
  );
  return self.stats.raft;
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

describe('workload identities on a three-server cluster', { timeout: CLUSTER_TEST_TIMEOUT_MS * 2 }, () => {
  let setup: TestCluster | undefined;
  let root = '';
  let client: ClientProcess | undefined;
  const cluster = (): Cluster => setup!.cluster;
  const servers = () => setup?.cluster.servers() ?? [];
  /** Tokens issued so far, by job id, each checked against every live server after each fault. */
  const tokens = new Map<string, string>();

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'signet-identity-'));
    setup = await startTestCluster(3, { tuning: TUNING });
    const leader = await setup.cluster.waitForLeader(60_000);
    client = new ClientProcess(join(root, 'client'), 'client-1');
    await client.writeConfig(setup.cluster.servers().map((server) => server.rpcAddr));
    client.start();
    await waitFor('a ready node', { timeoutMs: 60_000 }, async () => {
      const nodes = await requestJson<Node[]>(leader.httpAddr, 'GET', '/v1/nodes');
      return nodes.some((node) => node.Status === 'ready') ? done(true) : pending('no ready node');
    });
  });
  after(async () => {
    await client?.stop();
    await client?.killTasks();
    await setup?.cluster.stop();
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  /** Runs job `id` and returns its allocation and the token its task copied out of secrets/. */
  async function runJob(id: string): Promise<{ alloc: Allocation; token: string }> {
    const leader = await cluster().waitForLeader(30_000);
    await requestJson(leader.httpAddr, 'PUT', '/v1/jobs', { body: identityJob(id) });
    const alloc = await waitFor<Allocation>(`job ${id} running`, { timeoutMs: 60_000 }, async () => {
      const server = cluster().live()[0]!;
      const allocs = await requestJson<Allocation[]>(server.httpAddr, 'GET', `/v1/job/${id}/allocations`);
      const live = allocs.find((a) => a.ClientStatus === 'running');
      return live === undefined ? pending(`${allocs.length} allocations, none running`) : done(live);
    });
    const data = join(client!.dataDir, 'alloc', alloc.ID, 'alloc', 'data');
    // The task writes the file's copy first, then the variable's: wait for both.
    const [token, envToken] = await waitFor<[string, string]>(
      `the tokens of ${id}`,
      { timeoutMs: 30_000 },
      async () => {
        const file = await readFile(join(data, 'token'), 'utf8').catch(() => '');
        const env = await readFile(join(data, 'env-token'), 'utf8').catch(() => '');
        return file === '' || env === '' ? pending('not copied yet') : done([file, env]);
      },
    );
    assert.equal(envToken, token, 'NOMAD_TOKEN carries the same token');
    const secret = join(client!.dataDir, 'alloc', alloc.ID, 'reader', 'secrets', 'nomad_token');
    assert.equal((await stat(secret)).mode & 0o777, 0o600, 'secrets/nomad_token is owner-only');
    tokens.set(id, token);
    return { alloc, token };
  }

  /**
   * Waits until every live server accepts each of `accepted`, because a server may still be
   * applying their entries. Then checks once that each server rejects every one of `refused`: a
   * forged token must be rejected at its first try.
   */
  async function expectOnEveryServer(accepted: readonly string[], refused: readonly string[] = []) {
    for (const server of cluster().live()) {
      await waitFor(`${server.name} to accept the valid tokens`, { timeoutMs: 30_000 }, async () => {
        for (const token of accepted) {
          const status = await statusWithToken(server, token);
          if (status !== 200) return pending(`a valid token got ${status}`);
        }
        return done(true);
      });
      for (const [i, token] of refused.entries()) {
        assert.equal(await statusWithToken(server, token), 403, `${server.name} refuses forged token ${i}`);
      }
    }
  }

  async function keySet(server: ServerHandle): Promise<JSONWebKeySet> {
    return requestJson<JSONWebKeySet>(server.httpAddr, 'GET', '/.well-known/jwks.json');
  }

  test(
    'a task reads its own token, every server accepts it, and forgeries are refused everywhere',
    withServerLogs(servers, async () => {
      const { alloc, token } = await runJob('ident');
      const header = decodeProtectedHeader(token);
      assert.deepEqual({ alg: header.alg, typ: header.typ }, { alg: 'EdDSA', typ: 'JWT' });
      for (const server of cluster().live()) {
        const { payload } = await jwtVerify(token, createLocalJWKSet(await keySet(server)), {
          algorithms: ['EdDSA'],
          audience: 'nomadproject.io',
        });
        assert.equal(payload.nomad_namespace, 'default');
        assert.equal(payload.nomad_job_id, 'ident');
        assert.equal(payload.nomad_allocation_id, alloc.ID);
        assert.equal(payload.nomad_task, 'reader');
        assert.equal(payload.sub, 'global:default:ident:g:reader:default');
        assert.equal(payload.exp, undefined, 'the default identity has no TTL');
      }

      const [headerPart, payloadPart, signature] = token.split('.') as [string, string, string];
      const claims = decodeJwt(token);
      const tampered = `${headerPart}.${base64url({ ...claims, nomad_job_id: 'other' })}.${signature}`;
      const flipped = `${headerPart}.${payloadPart}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
      const none = `${base64url({ alg: 'none', typ: 'JWT', kid: header.kid })}.${payloadPart}.`;
      // The classic confusion: HMAC with the public key's bytes as the secret.
      const jwk = (await keySet(cluster().live()[0]!)).keys.find((key) => key.kid === header.kid)!;
      const hs256 = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', kid: header.kid!, typ: 'JWT' })
        .sign(Buffer.from(jwk.x!, 'base64url'));
      const stranger = generateKeyPairSync('ed25519');
      const unknownHeader = base64url({ alg: 'EdDSA', kid: randomUUID(), typ: 'JWT' });
      const unknownKid = `${unknownHeader}.${payloadPart}.${sign(null, Buffer.from(`${unknownHeader}.${payloadPart}`), stranger.privateKey).toString('base64url')}`;

      // An expired token signed with the real key: the test knows the cluster key, so it can
      // unwrap the root key from a stopped follower's log, as no API ever allows.
      const leader = await cluster().waitForLeader(30_000);
      const follower = cluster()
        .live()
        .find((server) => server !== leader)!;
      await follower.kill('SIGTERM');
      const stored = await readStoppedServerState(follower.dataDir);
      const key = unwrapStoredKey(stored, cluster().clusterKey, header.kid!);
      const expiredHeader = base64url({ alg: 'EdDSA', kid: header.kid, typ: 'JWT' });
      const now = Math.floor(Date.now() / 1000);
      const expiredPayload = base64url({ ...claims, iat: now - 600, nbf: now - 600, exp: now - 300 });
      const expired = `${expiredHeader}.${expiredPayload}.${sign(null, Buffer.from(`${expiredHeader}.${expiredPayload}`), key.signing.privateKey).toString('base64url')}`;
      // The same claims signed by the same key but not expired verify: the refusal is for `exp` alone.
      const freshPayload = base64url({ ...claims, iat: now, nbf: now, exp: now + 300 });
      const fresh = `${expiredHeader}.${freshPayload}.${sign(null, Buffer.from(`${expiredHeader}.${freshPayload}`), key.signing.privateKey).toString('base64url')}`;

      // No server keeps the plaintext material, or the Ed25519 seed derived from it, in any file:
      // the Raft log, its snapshots, the agent logs. The wrapped form is there (the control).
      const seed = key.signing.privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(-32);
      const secrets = [
        key.material,
        Buffer.from(key.material.toString('base64')),
        Buffer.from(key.material.toString('hex')),
        seed,
      ];
      let wrappedSeen = 0;
      for (const server of cluster().servers()) {
        for (const file of [
          ...(await filesUnder(server.dataDir)),
          { path: server.logPath, bytes: await readFile(server.logPath) },
        ]) {
          for (const secret of secrets)
            assert.equal(file.bytes.indexOf(secret), -1, `key material in ${file.path}`);
          if (
            file.bytes.indexOf(key.wrapped) !== -1 ||
            file.bytes.indexOf(Buffer.from(key.wrapped.toString('base64'))) !== -1
          )
            wrappedSeen++;
        }
      }
      assert.ok(
        wrappedSeen > 0,
        'the wrapped key is in some server file, so the search looked in the right places',
      );
      await follower.restart();

      await expectOnEveryServer([token, fresh], [tampered, flipped, none, hs256, unknownKid, expired]);

      // Once the allocation's client reports it finished, its token no longer verifies anywhere.
      await requestJson(leader.httpAddr, 'DELETE', '/v1/job/ident');
      await waitFor('the allocation to finish', { timeoutMs: 60_000 }, async () => {
        const now = await requestJson<Allocation>(
          cluster().live()[0]!.httpAddr,
          'GET',
          `/v1/allocation/${alloc.ID}`,
        );
        return now.ClientStatus === 'complete' ? done(true) : pending(now.ClientStatus);
      });
      tokens.delete('ident');
      for (const server of cluster().live()) {
        await waitFor(
          `${server.name} to refuse the finished allocation's token`,
          { timeoutMs: 30_000 },
          async () => {
            const status = await statusWithToken(server, token);
            return status === 403 ? done(true) : pending(`status ${status}`);
          },
        );
      }
    }),
  );

  test(
    'tokens survive leader failovers and a rotation; new tokens carry the active key',
    withServerLogs(servers, async () => {
      const first = await runJob('before-failover');
      const firstKid = decodeProtectedHeader(first.token).kid;

      const leader = await cluster().waitForLeader(30_000);
      await leader.kill('SIGKILL');
      await cluster().waitForLeader(60_000);
      const second = await runJob('after-failover');
      assert.equal(
        decodeProtectedHeader(second.token).kid,
        firstKid,
        'the new leader signs with the same active key',
      );
      await expectOnEveryServer([...tokens.values()]);
      await leader.restart();
      await expectOnEveryServer([...tokens.values()]);

      const current = await cluster().waitForLeader(30_000);
      const rotated = await requestJson<{ Key: { KeyID: string } }>(
        current.httpAddr,
        'PUT',
        '/v1/operator/keyring/rotate',
      );
      assert.notEqual(rotated.Key.KeyID, firstKid);
      await current.kill('SIGKILL');
      await cluster().waitForLeader(60_000);
      const third = await runJob('after-rotation');
      assert.equal(
        decodeProtectedHeader(third.token).kid,
        rotated.Key.KeyID,
        'new tokens carry the new key id',
      );
      await expectOnEveryServer([...tokens.values()]);
      await current.restart();
      await expectOnEveryServer([...tokens.values()]);
    }),
  );

  test(
    'a server that joins later verifies every existing token once it has caught up',
    withServerLogs(servers, async () => {
      assert.ok(tokens.size >= 3, 'the earlier tests issued tokens');
      const late = await cluster().addServer();
      await cluster().waitForVoter(late, 60_000);
      // Caught up: the late server has applied everything the leader had committed once it
      // became a voter. From then on, each token must be accepted at the first try.
      const leader = await cluster().waitForLeader(30_000);
      const commit = Number((await raftStats(leader)).commit_index);
      await waitFor(`${late.name} to apply index ${commit}`, { timeoutMs: 30_000 }, async () => {
        const applied = Number((await raftStats(late)).applied_index);
        return applied >= commit ? done(true) : pending(`applied ${applied}`);
      });
      for (const [id, token] of tokens) {
        assert.equal(await statusWithToken(late, token), 200, `${late.name} accepts the token of ${id}`);
      }
      // Its state came from the leader's snapshot: the log before it was compacted.
      assert.ok((await restoredSnapshotIndexes(late)).length > 0, `${late.name} restored a snapshot`);
    }),
  );
});
