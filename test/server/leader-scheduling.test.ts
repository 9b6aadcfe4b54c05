import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { newEvaluation, nowNanos } from '../../src/server/scheduling/evaluations.js';
import { isTerminal } from '../../src/structs/allocation.js';
import { waitFor } from '../raft/driver/harness.js';
import { makeGroup, makeJob, makeNode, makeTask } from '../scheduler/fixtures.js';
import { startLeaderServer } from '../support/leader-server.js';

const small = { CPU: 500, MemoryMB: 256 };

describe('leader scheduling', () => {
  test('places a registered job within node capacity', async (t) => {
    const server = await startLeaderServer(t);
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

  test('signs each placed task with the active key', async (t) => {
    const server = await startLeaderServer(t);
    await server.addNode(makeNode('n1', { NodeResources: { CPU: 4000, MemoryMB: 4096 } }));
    await server.register(
      makeJob('web', [makeGroup('cache', 2, [makeTask('redis', small), makeTask('proxy', small)])]),
    );
    const allocs = await waitFor(
      () => {
        const live = server.liveAllocs('web');
        return live.length === 2 ? live : undefined;
      },
      10_000,
      'two allocations',
    );
    const active = server.keyring.active();
    assert.ok(active !== null);
    // jose verifies independently of Signet's own verifier, from the public key set alone.
    const keySet = createLocalJWKSet(server.keyring.publicKeys() as never);
    for (const alloc of allocs) {
      assert.equal(alloc.SigningKeyID, active.meta.KeyID);
      assert.deepEqual(Object.keys(alloc.SignedIdentities).sort(), ['proxy', 'redis']);
      for (const [task, token] of Object.entries(alloc.SignedIdentities)) {
        const { payload, protectedHeader } = await jwtVerify(token, keySet, { algorithms: ['EdDSA'] });
        assert.equal(protectedHeader.kid, active.meta.KeyID);
        assert.equal(payload.nomad_allocation_id, alloc.ID);
        assert.equal(payload.nomad_job_id, 'web');
        assert.equal(payload.nomad_namespace, 'default');
        assert.equal(payload.nomad_task, task);
        assert.equal(payload.sub, `global:default:web:cache:${task}:default`);
      }
    }
  });

  test('blocked job placed after node joins', async (t) => {
    const server = await startLeaderServer(t);
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
    const server = await startLeaderServer(t);
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
    const server = await startLeaderServer(t);
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
    const server = await startLeaderServer(t);
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
