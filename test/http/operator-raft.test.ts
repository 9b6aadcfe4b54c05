import assert from 'node:assert/strict';
import { after, beforeEach, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './support/test-backend.js';

describe('operator raft endpoints', () => {
  let server: TestServer;
  beforeEach(async () => {
    if (server !== undefined) await server.close();
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  test('configuration in Nomad shape with index header', async () => {
    const response = await fetch(`${server.url}/v1/operator/raft/configuration`);
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-nomad-index'), '7');
    assert.equal(response.headers.get('x-nomad-knownleader'), 'true');
    const body = (await response.json()) as { Index: number; Servers: Record<string, unknown>[] };
    assert.equal(body.Index, 7);
    assert.deepEqual(body.Servers[0], {
      ID: '101',
      Node: 'test-1',
      Address: '127.0.0.1:4647',
      Leader: true,
      Voter: true,
      RaftProtocol: '3',
    });
  });

  test('remove peer by id', async () => {
    const response = await fetch(`${server.url}/v1/operator/raft/peer?id=102`, { method: 'DELETE' });
    assert.equal(response.status, 200);
    assert.deepEqual(server.backend.removedPeers, ['102']);
  });

  test('remove peer by address maps to its id', async () => {
    const response = await fetch(`${server.url}/v1/operator/raft/peer?address=127.0.0.1:6647`, {
      method: 'DELETE',
    });
    assert.equal(response.status, 200);
    assert.deepEqual(server.backend.removedPeers, ['103']);
  });

  test('remove peer argument errors', async () => {
    for (const [query, status, message] of [
      ['', 400, /^Missing peer/],
      ['?id=102&address=127.0.0.1:5647', 400, /not both/],
      ['?id=', 400, /empty/],
      ['?address=10.0.0.9:4647', 404, /no server with address 10\.0\.0\.9:4647/],
      ['?id=999', 404, /no server with ID 999/],
    ] as const) {
      const response = await fetch(`${server.url}/v1/operator/raft/peer${query}`, { method: 'DELETE' });
      assert.equal(response.status, status, query);
      assert.match(await response.text(), message, query);
    }
    assert.deepEqual(server.backend.removedPeers, []);
  });

  test('transfer leadership with and without a target', async () => {
    assert.equal(
      (await fetch(`${server.url}/v1/operator/raft/transfer-leadership?id=102`, { method: 'PUT' })).status,
      200,
    );
    assert.equal(
      (await fetch(`${server.url}/v1/operator/raft/transfer-leadership`, { method: 'POST' })).status,
      200,
    );
    assert.equal(
      (
        await fetch(`${server.url}/v1/operator/raft/transfer-leadership?address=127.0.0.1:6647`, {
          method: 'PUT',
        })
      ).status,
      200,
    );
    assert.deepEqual(server.backend.transfers, ['102', null, '103']);
  });
});
