import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Allocation } from '../../src/structs/allocation.js';
import type { Evaluation } from '../../src/structs/evaluation.js';
import type { Node } from '../../src/structs/node.js';
import { completeEvaluation, jobInput, registerNode, testNode } from './support/fixtures.js';
import { startTestServer, type TestServer, waitUntil } from './support/test-backend.js';

describe('allocation and evaluation endpoints', () => {
  let server: TestServer;
  let node: Node;
  let evaluation: Evaluation;
  let placed: Allocation[];
  before(async () => {
    server = await startTestServer();
    node = testNode();
    await registerNode(server.backend, node);
    await fetch(`${server.url}/v1/namespace/team-a`, {
      method: 'PUT',
      body: JSON.stringify({ Name: 'team-a' }),
    });
    const response = await fetch(`${server.url}/v1/jobs`, {
      method: 'PUT',
      body: JSON.stringify({ Job: jobInput('placed') }),
    });
    const { EvalID } = (await response.json()) as { EvalID: string };
    evaluation = server.backend.state.evaluation(EvalID)!;
    placed = await completeEvaluation(server.backend, evaluation, {
      node,
      allocCount: 2,
      queued: { app: 1 },
    });
  });
  after(async () => {
    await server.close();
  });

  test('list rows are allocation stubs', async () => {
    const response = await fetch(`${server.url}/v1/allocations`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-nomad-index'), String(server.backend.state.tableIndex('allocs')));
    const rows = (await response.json()) as Record<string, unknown>[];
    assert.deepEqual(rows.map((row) => row.ID).sort(), placed.map((alloc) => alloc.ID).sort());
    const row = rows[0]!;
    assert.equal(row.JobType, 'service');
    assert.equal(row.EvalID, evaluation.ID);
    assert.equal(Object.hasOwn(row, 'TaskResources'), false);
    assert.equal(Object.hasOwn(row, 'SignedIdentities'), false);
    for (const field of [
      'ClientStatus',
      'DesiredStatus',
      'NodeID',
      'TaskGroup',
      'CreateIndex',
      'ModifyIndex',
    ]) {
      assert.ok(Object.hasOwn(row, field), `missing ${field}`);
    }
  });

  test('list filters by namespace and prefix', async () => {
    const other = (await (await fetch(`${server.url}/v1/allocations?namespace=team-a`)).json()) as unknown[];
    assert.deepEqual(other, []);
    const all = (await (await fetch(`${server.url}/v1/allocations?namespace=*`)).json()) as unknown[];
    assert.equal(all.length, 2);
    const target = placed[0]!;
    const prefixed = (await (
      await fetch(`${server.url}/v1/allocations?prefix=${target.ID.slice(0, 8)}`)
    ).json()) as { ID: string }[];
    assert.deepEqual(
      prefixed.map((row) => row.ID),
      [target.ID],
    );
  });

  test('read returns the full allocation', async () => {
    const target = placed[0]!;
    const response = await fetch(`${server.url}/v1/allocation/${target.ID}`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as Allocation;
    assert.equal(body.ID, target.ID);
    assert.deepEqual(body.TaskResources, { server: { CPU: 100, MemoryMB: 64 } });
    assert.equal(Object.hasOwn(body, 'SignedIdentities'), false);
    assert.equal(response.headers.get('x-nomad-index'), String(body.ModifyIndex));
  });

  test('missing allocation is 404', async () => {
    const response = await fetch(`${server.url}/v1/allocation/00000000-0000-0000-0000-000000000000`);
    assert.equal(response.status, 404);
    assert.equal(await response.text(), 'alloc not found');
  });

  test('evaluation read and list', async () => {
    const response = await fetch(`${server.url}/v1/evaluation/${evaluation.ID}`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as Evaluation;
    assert.equal(body.Status, 'complete');
    assert.deepEqual(body.QueuedAllocations, { app: 1 });
    assert.equal(response.headers.get('x-nomad-index'), String(body.ModifyIndex));

    const list = (await (await fetch(`${server.url}/v1/evaluations`)).json()) as Evaluation[];
    assert.deepEqual(
      list.map((row) => row.ID),
      [evaluation.ID],
    );
    const missing = await fetch(`${server.url}/v1/evaluation/00000000-0000-0000-0000-000000000000`);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), 'eval not found');
  });

  test('evaluation allocations', async () => {
    const response = await fetch(`${server.url}/v1/evaluation/${evaluation.ID}/allocations`);
    assert.equal(response.status, 200);
    const rows = (await response.json()) as { ID: string }[];
    assert.deepEqual(rows.map((row) => row.ID).sort(), placed.map((alloc) => alloc.ID).sort());
  });

  test('blocking evaluation read wakes on its update', async () => {
    const response = await fetch(`${server.url}/v1/jobs`, {
      method: 'PUT',
      body: JSON.stringify({ Job: jobInput('later') }),
    });
    const { EvalID } = (await response.json()) as { EvalID: string };
    const pending = server.backend.state.evaluation(EvalID)!;
    const blocked = fetch(`${server.url}/v1/evaluation/${EvalID}?index=${pending.ModifyIndex}&wait=30s`);
    await waitUntil(() => server.backend.state.pendingWaits('evals') === 1, 'the query to block');

    await completeEvaluation(server.backend, pending);
    const woken = await blocked;
    const body = (await woken.json()) as Evaluation;
    assert.equal(body.Status, 'complete');
    assert.equal(Number(woken.headers.get('x-nomad-index')), body.ModifyIndex);
    assert.ok(body.ModifyIndex > pending.ModifyIndex);
  });
});
