import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { allocClientStatus } from '../../src/client/alloc-client-status.js';
import type { ClientAllocation } from '../../src/client/client-allocation.js';
import { LocalStateStore } from '../../src/client/local-state.js';
import { clientPaths, loadOrCreateNodeIdentity } from '../../src/client/node-identity.js';
import type { TaskState } from '../../src/structs/allocation.js';

const ALLOC_ID = '8a1c1c36-3a0f-4d55-9a53-5b2f5c1e2a01';

function taskState(State: TaskState['State'], Failed = false): TaskState {
  return { State, Failed, Restarts: 0, StartedAt: '', FinishedAt: '', Events: [] };
}

function alloc(id = ALLOC_ID): ClientAllocation {
  return {
    ID: id,
    Namespace: 'default',
    EvalID: 'e0f6a8a2-6c57-4b8e-9a3b-0c1f6f1d2e3f',
    Name: 'web.group[0]',
    NodeID: '0d8f3c6e-1b2a-4c5d-8e9f-0a1b2c3d4e5f',
    NodeName: 'client-1',
    JobID: 'web',
    JobVersion: 5,
    TaskGroup: 'group',
    TaskResources: { main: { CPU: 100, MemoryMB: 64 } },
    DesiredStatus: 'run',
    DesiredDescription: '',
    ClientStatus: 'pending',
    ClientDescription: '',
    TaskStates: {},
    SignedIdentities: {},
    SigningKeyID: '',
    PreviousAllocation: '',
    CreateIndex: 6,
    ModifyIndex: 6,
    AllocModifyIndex: 6,
    CreateTime: 0,
    ModifyTime: 0,
    Job: null,
  };
}

describe('client state files', () => {
  let root = '';
  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'signet-client-state-'));
  });
  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  test('node identity is created owner-only and reused', async () => {
    const { nodeFile } = clientPaths(join(root, 'identity'));
    const first = await loadOrCreateNodeIdentity(nodeFile);
    assert.equal(first.created, true);
    assert.equal((await stat(nodeFile)).mode & 0o777, 0o600);
    assert.equal((await stat(dirname(nodeFile))).mode & 0o777, 0o700);
    const second = await loadOrCreateNodeIdentity(nodeFile);
    assert.equal(second.created, false);
    assert.deepEqual(second.identity, first.identity);
  });

  test('node identity permissions are narrowed', async () => {
    const { nodeFile } = clientPaths(join(root, 'narrowed'));
    await loadOrCreateNodeIdentity(nodeFile);
    await chmod(nodeFile, 0o644);
    await chmod(dirname(nodeFile), 0o755);
    await loadOrCreateNodeIdentity(nodeFile);
    assert.equal((await stat(nodeFile)).mode & 0o777, 0o600);
    assert.equal((await stat(dirname(nodeFile))).mode & 0o777, 0o700);
  });

  test('corrupt node identity is rejected', async () => {
    const { nodeFile } = clientPaths(join(root, 'corrupt'));
    await loadOrCreateNodeIdentity(nodeFile);
    await writeFile(nodeFile, '{"ID": "x", "SecretID": "y"}');
    await assert.rejects(loadOrCreateNodeIdentity(nodeFile), /ID must be a UUID/);
  });

  test('allocation records survive a reload', async () => {
    const dir = join(root, 'allocs');
    const store = new LocalStateStore(dir);
    const handle = { driver: 'raw_exec', version: 1, data: { pid: 1234 } };
    await store.save({ alloc: alloc(), tasks: { main: { state: taskState('pending'), handle: null } } });
    await store.save({ alloc: alloc(), tasks: { main: { state: taskState('running'), handle } } });
    const { records, unreadable } = await new LocalStateStore(dir).loadAll();
    assert.deepEqual(unreadable, []);
    assert.equal(records.length, 1);
    assert.equal(records[0]?.tasks.main?.state.State, 'running');
    assert.deepEqual(records[0]?.tasks.main?.handle, handle);
    assert.equal((await stat(join(dir, `${ALLOC_ID}.json`))).mode & 0o777, 0o600);

    await store.remove(ALLOC_ID);
    assert.deepEqual((await store.loadAll()).records, []);
  });

  test('unreadable record is listed, not dropped', async () => {
    const dir = join(root, 'unreadable');
    const store = new LocalStateStore(dir);
    await store.loadAll();
    await writeFile(join(dir, `${ALLOC_ID}.json`), '{"version": 1, "alloc": ');
    const { records, unreadable } = await store.loadAll();
    assert.deepEqual(records, []);
    assert.deepEqual(
      unreadable.map((item) => item.id),
      [ALLOC_ID],
    );
  });
});

describe('allocClientStatus', () => {
  const cases: [string, Record<string, TaskState>, string][] = [
    ['no tasks yet', {}, 'pending'],
    ['one pending', { a: taskState('pending'), b: taskState('running') }, 'running'],
    ['all pending', { a: taskState('pending') }, 'pending'],
    ['one failed wins', { a: taskState('dead', true), b: taskState('running') }, 'failed'],
    ['all dead ok', { a: taskState('dead'), b: taskState('dead') }, 'complete'],
  ];
  for (const [name, states, expected] of cases) {
    test(name, () => {
      assert.equal(allocClientStatus(states).status, expected);
    });
  }
});
