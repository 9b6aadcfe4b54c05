import assert from 'node:assert/strict';
import { randomInt, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { bootstrapState } from '../../src/raft/bootstrap.js';
import { RaftDriver } from '../../src/raft/driver.js';
import { LevelStorage } from '../../src/raft/storage/level.js';
import { ReplicatedState } from '../../src/server/replicated-state.js';
import { newEvaluation, nowNanos } from '../../src/server/scheduling/evaluations.js';
import { LeaderScheduling } from '../../src/server/scheduling/leader-scheduling.js';
import { type Command, encodeCommand } from '../../src/state/commands.js';
import type { ApplyResult } from '../../src/state/store.js';
import { StateStore } from '../../src/state/store.js';
import { isTerminal } from '../../src/structs/allocation.js';
import type { Job } from '../../src/structs/job.js';
import type { Node } from '../../src/structs/node.js';
import { waitFor } from '../raft/driver/harness.js';
import { makeGroup, makeJob, makeNode, makeTask } from '../scheduler/fixtures.js';

/** Starts one server on LevelDB with the real state store and the leader's scheduling services. */
async function startServer(t: { after(fn: () => Promise<void>): void }) {
  const root = await mkdtemp(join(tmpdir(), 'signet-leader-scheduling-'));
  const storage = await LevelStorage.open(root);
  const state = bootstrapState([1]);
  await storage.save({
    snapshot: null,
    truncateFrom: null,
    compactTo: null,
    entries: state.entries,
    hardState: state.hardState,
  });
  const store = new StateStore();
  const driver = new RaftDriver({
    raft: { id: 1, random: (bound) => randomInt(bound) },
    storage,
    durable: state,
    sender: { send: () => false },
    stateMachine: new ReplicatedState(store),
    tickMs: 10,
    snapshotThresholdEntries: 1_000_000,
    snapshotThresholdBytes: 1024 ** 3,
    logger: pino({ level: 'silent' }),
    onFatal: () => undefined,
  });
  driver.start();
  await waitFor(() => driver.status().role === 'leader', 10_000, 'the server to lead');
  const scheduling = new LeaderScheduling({ state: store, driver, logger: pino({ level: 'silent' }) });
  await scheduling.start();
  t.after(async () => {
    await scheduling.stop();
    await driver.stop();
    await storage.close();
    await rm(root, { recursive: true, force: true });
  });
  const commit = async (command: Command): Promise<number> => {
    const { index, result } = await driver.propose(encodeCommand(command));
    const outcome = result as ApplyResult;
    assert.ok(outcome.ok, `${command.type}: ${outcome.ok ? '' : outcome.message}`);
    return index;
  };
  const register = (job: Job) =>
    commit({
      type: 'job-register',
      v: 1,
      job,
      eval: newEvaluation({
        id: randomUUID(),
        namespace: job.Namespace,
        jobId: job.ID,
        job,
        trigger: 'job-register',
        now: nowNanos(),
      }),
    });
  const addNode = (node: Node) => commit({ type: 'node-register', v: 1, node });
  const liveAllocs = (jobId: string) =>
    store.allocationsByJob('default', jobId).filter((alloc) => !isTerminal(alloc));
  return { store, driver, scheduling, commit, register, addNode, liveAllocs };
}

const small = { CPU: 500, MemoryMB: 256 };

describe('leader scheduling', () => {
  test('places a registered job within node capacity', async (t) => {
    const server = await startServer(t);
    for (const id of ['n1', 'n2'])
      await server.addNode(makeNode(id, { NodeResources: { CPU: 1000, MemoryMB: 1024 } }));
    await server.register(
      makeJob('web', [
        makeGroup('cache', 3, [makeTask('redis', small)]),
        makeGroup('api', 1, [makeTask('app', small)]),
      ]),
    );

    const allocs = await waitFor(
      () => {
        const live = server.liveAllocs('web');
        return live.length === 4 ? live : undefined;
      },
      10_000,
      'four allocations',
    );
    const perNode = new Map<string, number>();
    for (const alloc of allocs) perNode.set(alloc.NodeID, (perNode.get(alloc.NodeID) ?? 0) + 1);
    assert.deepEqual([...perNode.values()].sort(), [2, 2], 'two 500-MHz allocations fit each 1000-MHz node');
    const evaluation = await waitFor(
      () => server.store.evaluationsByJob('default', 'web').find((e) => e.Status === 'complete'),
      10_000,
      'the evaluation to complete',
    );
    assert.equal(evaluation.BlockedEval, '');
  });

  test('blocked job placed after node joins', async (t) => {
    const server = await startServer(t);
    await server.addNode(makeNode('n1', { NodeResources: { CPU: 1000, MemoryMB: 1024 } }));
    await server.register(makeJob('big', [makeGroup('g', 3, [makeTask('t', small)])]));

    const blocked = await waitFor(
      () => server.store.evaluationsByJob('default', 'big').find((e) => e.Status === 'blocked'),
      10_000,
      'a blocked evaluation',
    );
    assert.deepEqual(blocked.QueuedAllocations, { g: 1 });
    assert.equal(server.liveAllocs('big').length, 2);

    await server.addNode(makeNode('n2', { NodeResources: { CPU: 1000, MemoryMB: 1024 } }));
    await waitFor(
      () => server.liveAllocs('big').length === 3,
      10_000,
      'the third allocation after a node joined',
    );
    await waitFor(
      () => server.store.evaluation(blocked.ID)?.Status === 'complete',
      10_000,
      'the blocked evaluation to complete',
    );
  });

  test('deregistering a job stops its allocations', async (t) => {
    const server = await startServer(t);
    await server.addNode(makeNode('n1'));
    const job = makeJob('gone', [makeGroup('g', 2, [makeTask('t', small)])]);
    await server.register(job);
    await waitFor(() => server.liveAllocs('gone').length === 2, 10_000, 'two allocations');
    await server.commit({
      type: 'job-deregister',
      v: 1,
      namespace: 'default',
      jobId: 'gone',
      purge: false,
      eval: newEvaluation({
        id: randomUUID(),
        namespace: 'default',
        jobId: 'gone',
        job,
        trigger: 'job-deregister',
        now: nowNanos(),
      }),
      time: nowNanos(),
    });
    await waitFor(() => server.liveAllocs('gone').length === 0, 10_000, 'the allocations to stop');
  });

  test('a plan larger than one Raft entry commits in several', async (t) => {
    const server = await startServer(t);
    for (let i = 0; i < 10; i++) {
      await server.addNode(makeNode(`n${i}`, { NodeResources: { CPU: 100_000, MemoryMB: 100_000 } }));
    }
    // About 750 bytes per allocation: 2,500 of them are far above the 1 MiB entry limit.
    await server.register(
      makeJob('wide', [makeGroup('g', 2500, [makeTask('t', { CPU: 10, MemoryMB: 10 })])]),
    );
    await waitFor(() => server.liveAllocs('wide').length === 2500, 30_000, '2,500 allocations');
  });

  test('many registrations at once: every job placed exactly once, no node over capacity', async (t) => {
    const server = await startServer(t);
    for (let i = 0; i < 4; i++)
      await server.addNode(makeNode(`n${i}`, { NodeResources: { CPU: 2000, MemoryMB: 4096 } }));
    const ids = Array.from({ length: 20 }, (_, i) => `job-${i}`);
    await Promise.all(
      ids.map((id) =>
        server.register(makeJob(id, [makeGroup('g', 1, [makeTask('t', { CPU: 100, MemoryMB: 64 })])])),
      ),
    );
    await waitFor(() => ids.every((id) => server.liveAllocs(id).length === 1), 20_000, 'every job placed');
    for (const id of ids)
      assert.equal(server.store.allocationsByJob('default', id).length, 1, `allocations of ${id}`);
    for (const node of server.store.nodes()) {
      const cpu = server.store
        .allocationsByNode(node.ID)
        .filter((alloc) => !isTerminal(alloc))
        .reduce((sum, alloc) => sum + Object.values(alloc.TaskResources).reduce((s, r) => s + r.CPU, 0), 0);
      assert.ok(
        cpu <= node.NodeResources.CPU,
        `node ${node.ID} uses ${cpu} MHz of ${node.NodeResources.CPU}`,
      );
    }
  });
});
