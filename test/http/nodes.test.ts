import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Node } from '../../src/structs/node.js';
import { completeEvaluation, jobInput, registerNode, testNode } from './support/fixtures.js';
import { startTestServer, type TestServer, waitUntil } from './support/test-backend.js';

describe('node endpoints', () => {
  let server: TestServer;
  let node: Node;
  before(async () => {
    server = await startTestServer();
    node = testNode({ Name: 'client-a' });
    await registerNode(server.backend, node);
  });
  after(async () => {
    await server.close();
  });

  /** Fetches `path` and fails if the raw body mentions the node secret in any form. */
  async function fetchWithoutSecret(path: string): Promise<Response> {
    const response = await fetch(`${server.url}${path}`);
    const text = await response.clone().text();
    assert.ok(!text.includes('SecretID'), `${path} returned a SecretID field`);
    assert.ok(!text.includes(node.SecretID), `${path} returned the node secret`);
    return response;
  }

  test('list rows are node stubs', async () => {
    const response = await fetchWithoutSecret('/v1/nodes');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-nomad-index'), String(server.backend.state.tableIndex('nodes')));
    const rows = (await response.json()) as Record<string, unknown>[];
    assert.equal(rows.length, 1);
    assert.deepEqual(Object.keys(rows[0]!).sort(), [
      'CreateIndex',
      'Datacenter',
      'Drivers',
      'ID',
      'ModifyIndex',
      'Name',
      'NodeClass',
      'SchedulingEligibility',
      'Status',
      'StatusDescription',
    ]);
    assert.equal(rows[0]!.ID, node.ID);
    assert.deepEqual(rows[0]!.Drivers, { mock: { Detected: true, Healthy: true } });
  });

  test('read returns the node without its secret', async () => {
    const response = await fetchWithoutSecret(`/v1/node/${node.ID}`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.ID, node.ID);
    assert.equal(body.Name, 'client-a');
    assert.deepEqual(body.NodeResources, { CPU: 4000, MemoryMB: 8192 });
    assert.equal(Object.hasOwn(body, 'SecretID'), false);
    assert.equal(response.headers.get('x-nomad-index'), String(body.ModifyIndex));
  });

  test('missing node is 404', async () => {
    const response = await fetch(`${server.url}/v1/node/00000000-0000-0000-0000-000000000000`);
    assert.equal(response.status, 404);
    assert.equal(await response.text(), 'node not found');
  });

  test('prefix filters the list', async () => {
    const rows = (await (
      await fetchWithoutSecret(`/v1/nodes?prefix=${node.ID.slice(0, 6)}`)
    ).json()) as Node[];
    assert.deepEqual(
      rows.map((row) => row.ID),
      [node.ID],
    );
    const none = (await (await fetch(`${server.url}/v1/nodes?prefix=zz`)).json()) as Node[];
    assert.deepEqual(none, []);
  });

  test('node allocations list placed allocations', async () => {
    const registered = await fetch(`${server.url}/v1/jobs`, {
      method: 'PUT',
      body: JSON.stringify({ Job: jobInput('on-node') }),
    });
    const { EvalID } = (await registered.json()) as { EvalID: string };
    const evaluation = server.backend.state.evaluation(EvalID)!;
    const placed = await completeEvaluation(server.backend, evaluation, { node, allocCount: 2 });

    const response = await fetchWithoutSecret(`/v1/node/${node.ID}/allocations`);
    assert.equal(response.status, 200);
    const rows = (await response.json()) as { ID: string; NodeID: string }[];
    assert.deepEqual(rows.map((row) => row.ID).sort(), placed.map((alloc) => alloc.ID).sort());
  });

  test('blocking read wakes on a node write', async () => {
    const index = Number((await fetch(`${server.url}/v1/nodes`)).headers.get('x-nomad-index'));
    const blocked = fetch(`${server.url}/v1/nodes?index=${index}&wait=30s`);
    await waitUntil(() => server.backend.state.pendingWaits('nodes') === 1, 'the query to block');
    const second = testNode({ Name: 'client-b' });
    const writeIndex = await registerNode(server.backend, second);

    const response = await blocked;
    const text = await response.clone().text();
    assert.ok(!text.includes(second.SecretID));
    assert.equal(Number(response.headers.get('x-nomad-index')), writeIndex);
    assert.equal(((await response.json()) as Node[]).length, 2);
  });
});
