import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pino } from 'pino';
import { ClientAgent } from '../../src/client/agent.js';
import type { ClientAllocation } from '../../src/client/client-allocation.js';
import { LocalStateStore } from '../../src/client/local-state.js';
import { clientPaths } from '../../src/client/node-identity.js';
import { NOMAD_TOKEN_FILE } from '../../src/client/task-identity.js';
import { TaskEventType } from '../../src/client/task-runner.js';
import { resolveAgentConfig } from '../../src/server/agent-config.js';
import { RequestError } from '../../src/server/request-error.js';
import type { Allocation } from '../../src/structs/allocation.js';
import type { Job, Task } from '../../src/structs/job.js';
import { type ClientServer, startClientServer } from '../support/client-server.js';
import { makeAlloc, makeEval, makeJob, registration, T0 } from '../support/workload.js';
import { waitFor } from './driver-support.js';

// A client agent in this process, against one in-process server with a real StateStore. The
// allocation's tokens travel through Alloc.GetAllocs, reach the tasks as the identity block
// requests, are kept in the client's local state, and stay out of the logs and of other nodes' reach.

// Compact JWS shapes: the client neither verifies nor parses them.
const READER_TOKEN =
  'eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJub21hZF90YXNrIjoicmVhZGVyIn0.cmVhZGVyLXNpZ25hdHVyZQ';
const PLAIN_TOKEN = 'eyJhbGciOiJFZERTQSIsImtpZCI6ImsxIn0.eyJub21hZF90YXNrIjoicGxhaW4ifQ.cGxhaW4tc2lnbmF0dXJl';
const KEY_ID = '6f1b3c2e-8d4a-4e5f-9a0b-1c2d3e4f5a6b';

function rawExecTask(name: string, script: string, identity: Task['Identity']): Task {
  return {
    Name: name,
    Driver: 'raw_exec',
    Config: { command: '/bin/sh', args: ['-c', script] },
    Env: null,
    Resources: { CPU: 100, MemoryMB: 64 },
    Identity: identity,
    Identities: [],
    Templates: [],
    KillTimeout: 2_000_000_000,
  };
}

/** Shell that writes the task's NOMAD_TOKEN, or `unset` when it has none, to alloc/data/NAME. */
function printToken(name: string): string {
  return `printf %s "\${NOMAD_TOKEN-unset}" > "$NOMAD_ALLOC_DIR/data/${name}"`;
}

const fileAndEnv = { Name: 'default', Audience: ['nomadproject.io'], Env: true, File: true, TTL: 0 };

/**
 * `reader` requests the file and the variable and copies both into the shared data folder. `plain`
 * has no identity block and records which of them it gets.
 */
const identityJob: Job = makeJob({
  ID: 'ident',
  Name: 'ident',
  Type: 'batch',
  TaskGroups: [
    {
      Name: 'group',
      Count: 1,
      Tasks: [
        rawExecTask(
          'reader',
          `cat "$NOMAD_SECRETS_DIR/nomad_token" > "$NOMAD_ALLOC_DIR/data/reader.file"; ${printToken('reader.env')}`,
          fileAndEnv,
        ),
        rawExecTask(
          'plain',
          `${printToken('plain.env')}; ` +
            'if [ -e "$NOMAD_SECRETS_DIR/nomad_token" ]; then echo present; else echo absent; fi > "$NOMAD_ALLOC_DIR/data/plain.file"',
          null,
        ),
      ],
    },
  ],
});

/** One task that requests its token, placed without one. */
const unsignedJob: Job = makeJob({
  ID: 'unsigned',
  Name: 'unsigned',
  Type: 'batch',
  TaskGroups: [{ Name: 'group', Count: 1, Tasks: [rawExecTask('needs', 'true', fileAndEnv)] }],
});

type Body = Record<string, unknown>;

describe('workload identities on a client agent', { timeout: 60_000 }, () => {
  let root = '';
  let server: ClientServer;
  let agent: ClientAgent;
  const clientLog: string[] = [];
  let signed: Allocation;
  let unsigned: Allocation;
  let stoppedBeforeRun: Allocation;

  const call = (method: string, body: Body): Promise<Body> =>
    server.endpoints.handle(method, body, {
      remoteAddress: '127.0.0.1:50000',
      signal: new AbortController().signal,
    }) as Promise<Body>;

  async function waitForStatus(id: string, status: Allocation['ClientStatus']): Promise<Allocation> {
    await waitFor(
      `allocation ${id} ${status}`,
      () => server.state.allocation(id)?.ClientStatus === status,
      30_000,
    );
    return server.state.allocation(id)!;
  }

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'signet-client-identity-'));
    server = await startClientServer();
    const config = resolveAgentConfig([
      {
        name: 'client-1',
        data_dir: root,
        client: { enabled: true, servers: [server.address] },
        plugin: { raw_exec: { config: { enabled: true } } },
      },
    ]);
    const logger = pino({ level: 'debug' }, { write: (line: string) => void clientLog.push(line) });
    agent = await ClientAgent.start({ config, logger, rpc: { holdTimeMs: 2000 } });
    await waitFor('node registered', () => server.state.node(agent.identity.ID)?.Status === 'ready', 30_000);

    for (const job of [identityJob, unsignedJob]) {
      await server.apply({ type: 'job-register', v: 1, job, eval: makeEval({ JobID: job.ID }) });
    }
    // Placements must name a root key that the state has; the client never unwraps it.
    await server.apply({
      type: 'root-key-upsert',
      v: 1,
      key: { KeyID: KEY_ID, Algorithm: 'aes256-gcm', CreateTime: T0 },
      wrappedKey: randomBytes(60).toString('base64'),
      demoteTo: 'inactive',
    });
    const onNode = { NodeID: agent.identity.ID, NodeName: 'client-1', TaskGroup: 'group' };
    signed = makeAlloc({
      ...onNode,
      JobID: 'ident',
      Name: 'ident.group[0]',
      TaskResources: { reader: { CPU: 100, MemoryMB: 64 }, plain: { CPU: 100, MemoryMB: 64 } },
      SignedIdentities: { reader: READER_TOKEN, plain: PLAIN_TOKEN },
      SigningKeyID: KEY_ID,
    });
    unsigned = makeAlloc({
      ...onNode,
      JobID: 'unsigned',
      Name: 'unsigned.group[0]',
      TaskResources: { needs: { CPU: 100, MemoryMB: 64 } },
    });
    // Stopped before the client learned of it, as when a job is stopped right after it is placed.
    stoppedBeforeRun = makeAlloc({
      ...onNode,
      JobID: 'ident',
      Name: 'ident.group[1]',
      DesiredStatus: 'stop',
      TaskResources: { reader: { CPU: 100, MemoryMB: 64 }, plain: { CPU: 100, MemoryMB: 64 } },
      SignedIdentities: { reader: READER_TOKEN, plain: PLAIN_TOKEN },
      SigningKeyID: KEY_ID,
    });
    await server.apply({
      type: 'plan-apply',
      v: 2,
      place: [signed, unsigned, stoppedBeforeRun],
      stop: [],
      evals: [],
      time: T0,
    });
  });

  after(async () => {
    await agent?.close();
    await server?.close();
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  test('allocation stopped before it ran is reported complete', async () => {
    const done = await waitForStatus(stoppedBeforeRun.ID, 'complete');
    assert.equal(done.DesiredStatus, 'stop');
    await assert.rejects(stat(join(root, 'alloc', stoppedBeforeRun.ID)), { code: 'ENOENT' });
  });

  test('task reads its token from file and env', async () => {
    const done = await waitForStatus(signed.ID, 'complete');
    assert.equal(done.TaskStates.reader?.Failed, false);

    const allocDir = join(root, 'alloc', signed.ID);
    const tokenFile = join(allocDir, 'reader', 'secrets', NOMAD_TOKEN_FILE);
    assert.equal((await stat(tokenFile)).mode & 0o777, 0o600);
    assert.equal(await readFile(tokenFile, 'utf8'), READER_TOKEN);
    assert.equal(await readFile(join(allocDir, 'alloc', 'data', 'reader.file'), 'utf8'), READER_TOKEN);
    assert.equal(await readFile(join(allocDir, 'alloc', 'data', 'reader.env'), 'utf8'), READER_TOKEN);
  });

  test('task without identity block gets neither', async () => {
    const done = await waitForStatus(signed.ID, 'complete');
    assert.equal(done.TaskStates.plain?.Failed, false);

    const data = join(root, 'alloc', signed.ID, 'alloc', 'data');
    assert.equal(await readFile(join(data, 'plain.env'), 'utf8'), 'unset');
    assert.equal(await readFile(join(data, 'plain.file'), 'utf8'), 'absent\n');
  });

  test('missing token fails the task with an event', async () => {
    const failed = await waitForStatus(unsigned.ID, 'failed');
    const state = failed.TaskStates.needs;
    assert.equal(state?.State, 'dead');
    assert.equal(state?.Failed, true);
    assert.equal(state?.StartedAt, '');
    const last = state?.Events.at(-1);
    assert.equal(last?.Type, TaskEventType.SetupFailure);
    assert.match(last?.DisplayMessage ?? '', /^missing workload identity for task "needs"/);
  });

  test('local state keeps the tokens owner-only', async () => {
    await waitForStatus(signed.ID, 'complete');
    const { allocStateDir } = clientPaths(root);
    const file = join(allocStateDir, `${signed.ID}.json`);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const { records } = await new LocalStateStore(allocStateDir).loadAll();
    const record = records.find((candidate) => candidate.alloc.ID === signed.ID);
    assert.deepEqual(record?.alloc.SignedIdentities, { reader: READER_TOKEN, plain: PLAIN_TOKEN });
    assert.equal(record?.alloc.SigningKeyID, KEY_ID);
  });

  test('no log line contains a token', async () => {
    await waitForStatus(signed.ID, 'complete');
    await waitForStatus(unsigned.ID, 'failed');
    assert.ok(clientLog.length > 0, 'the client should have logged');
    for (const line of [...clientLog, ...server.logs.text]) {
      assert.equal(line.includes(READER_TOKEN), false, line.slice(0, 200));
      assert.equal(line.includes(PLAIN_TOKEN), false, line.slice(0, 200));
    }
  });

  test("another node cannot fetch this node's allocations", async () => {
    const other = registration({ Name: 'client-2' });
    await call('Node.Register', { Node: other });
    const otherAuth = { NodeID: other.ID as string, SecretID: other.SecretID as string };
    const ownAlloc = makeAlloc({
      NodeID: otherAuth.NodeID,
      NodeName: 'client-2',
      JobID: 'ident',
      Name: 'ident.group[1]',
      TaskGroup: 'group',
      TaskResources: { plain: { CPU: 100, MemoryMB: 64 } },
      SignedIdentities: { plain: PLAIN_TOKEN },
      SigningKeyID: KEY_ID,
    });
    await server.apply({ type: 'plan-apply', v: 2, place: [ownAlloc], stop: [], evals: [], time: T0 });

    const listed = await call('Node.GetClientAllocs', { ...otherAuth, MinQueryIndex: 0, MaxQueryTime: 10 });
    assert.deepEqual(Object.keys(listed.Allocs as Record<string, number>), [ownAlloc.ID]);

    const fetched = await call('Alloc.GetAllocs', {
      ...otherAuth,
      AllocIDs: [ownAlloc.ID],
      MinQueryIndex: 0,
    });
    assert.deepEqual(
      (fetched.Allocs as ClientAllocation[]).map((alloc) => alloc.SignedIdentities),
      [{ plain: PLAIN_TOKEN }],
    );

    const denied: [string, Body][] = [
      ['foreign IDs', { ...otherAuth, AllocIDs: [signed.ID, unsigned.ID], MinQueryIndex: 0 }],
      ['own and foreign IDs', { ...otherAuth, AllocIDs: [ownAlloc.ID, signed.ID], MinQueryIndex: 0 }],
      [
        "this node's ID with the other's secret",
        { NodeID: agent.identity.ID, SecretID: otherAuth.SecretID, AllocIDs: [signed.ID], MinQueryIndex: 0 },
      ],
    ];
    for (const [what, body] of denied) {
      await assert.rejects(call('Alloc.GetAllocs', body), (err: unknown) => {
        assert.ok(err instanceof RequestError, `${what}: ${String(err)}`);
        assert.equal(err.status, 403, what);
        return true;
      });
    }
    await assert.rejects(
      call('Node.GetClientAllocs', {
        NodeID: agent.identity.ID,
        SecretID: otherAuth.SecretID,
        MinQueryIndex: 0,
        MaxQueryTime: 10,
      }),
      (err: unknown) => err instanceof RequestError && err.status === 403,
    );
  });
});

describe('client local state with identities', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'signet-client-identity-state-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const alloc = (): ClientAllocation => ({
    ...makeAlloc({ NodeID: randomUUID(), SignedIdentities: { server: READER_TOKEN }, SigningKeyID: KEY_ID }),
    Job: null,
  });

  test('leftover temporary file does not widen the record', async () => {
    const record = alloc();
    const file = join(dir, `${record.ID}.json`);
    const store = new LocalStateStore(dir);
    await store.loadAll();
    await writeFile(`${file}.tmp`, 'partial', { mode: 0o644 });
    await store.save({ alloc: record, tasks: {} });
    assert.equal((await stat(file)).mode & 0o777, 0o600);
  });

  test('record without identity fields reads as unsigned', async () => {
    const { SignedIdentities: _signed, SigningKeyID: _key, ...older } = alloc();
    const file = join(dir, `${older.ID}.json`);
    await writeFile(file, JSON.stringify({ version: 1, alloc: older, tasks: {} }), { mode: 0o600 });
    const { records, unreadable } = await new LocalStateStore(dir).loadAll();
    assert.deepEqual(unreadable, []);
    const loaded = records.find((record) => record.alloc.ID === older.ID);
    assert.deepEqual(loaded?.alloc.SignedIdentities, {});
    assert.equal(loaded?.alloc.SigningKeyID, '');
  });
});
