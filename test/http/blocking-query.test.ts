import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer, waitUntil } from './support/test-backend.js';

describe('blocking queries', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  async function putNamespace(name: string, description = ''): Promise<number> {
    const response = await fetch(`${server.url}/v1/namespace/${name}`, {
      method: 'PUT',
      body: JSON.stringify({ Name: name, Description: description }),
    });
    assert.equal(response.status, 200, await response.clone().text());
    return Number(response.headers.get('x-nomad-index'));
  }

  test('list wakes up on a change', async () => {
    const first = await fetch(`${server.url}/v1/namespaces`);
    const index = Number(first.headers.get('x-nomad-index'));
    assert.ok(index >= 1);

    const started = Date.now();
    const blocked = fetch(`${server.url}/v1/namespaces?index=${index}&wait=30s`);
    await waitUntil(() => server.backend.state.pendingWaits('namespaces') === 1, 'the query to block');
    const writeIndex = await putNamespace('wake-list');

    const response = await blocked;
    assert.equal(response.status, 200);
    assert.equal(Number(response.headers.get('x-nomad-index')), writeIndex);
    assert.ok(writeIndex > index);
    const names = ((await response.json()) as { Name: string }[]).map((namespace) => namespace.Name);
    assert.ok(names.includes('wake-list'));
    assert.ok(Date.now() - started < 10_000, 'returned on the change, not on the wait');
  });

  test('times out with the current result', async () => {
    const first = await fetch(`${server.url}/v1/namespaces`);
    const index = Number(first.headers.get('x-nomad-index'));
    const started = Date.now();
    const response = await fetch(`${server.url}/v1/namespaces?index=${index}&wait=200ms`);
    const elapsed = Date.now() - started;
    assert.equal(response.status, 200);
    assert.equal(Number(response.headers.get('x-nomad-index')), index);
    // 200 ms plus at most 200/16 ms of jitter; the upper bound leaves room for a slow machine.
    assert.ok(elapsed >= 195, `returned after ${elapsed} ms`);
    assert.ok(elapsed < 5000, `returned after ${elapsed} ms`);
    assert.equal(server.backend.state.pendingWaits('namespaces'), 0);
  });

  test('index below the current one returns at once', async () => {
    const response = await fetch(`${server.url}/v1/namespaces?index=1&wait=30s`);
    assert.equal(response.status, 200);
    assert.ok(Number(response.headers.get('x-nomad-index')) > 1);
  });

  test('single namespace wakes only on its own change', async () => {
    const ownIndex = await putNamespace('watched');
    const blocked = fetch(`${server.url}/v1/namespace/watched?index=${ownIndex}&wait=30s`);
    await waitUntil(() => server.backend.state.pendingWaits('namespaces') === 1, 'the query to block');

    await putNamespace('unrelated');
    // The unrelated write moves the table index; the query must go back to waiting.
    await waitUntil(() => server.backend.state.pendingWaits('namespaces') === 1, 'the query to block again');

    const changeIndex = await putNamespace('watched', 'changed');
    const response = await blocked;
    assert.equal(Number(response.headers.get('x-nomad-index')), changeIndex);
    assert.equal(((await response.json()) as { Description: string }).Description, 'changed');
  });

  test('client disconnect ends the wait', async () => {
    const index = Number((await fetch(`${server.url}/v1/namespaces`)).headers.get('x-nomad-index'));
    const req = request({
      host: '127.0.0.1',
      port: server.http.port,
      path: `/v1/namespaces?index=${index}&wait=5m`,
    });
    req.on('error', () => undefined);
    req.end();
    await waitUntil(() => server.backend.state.pendingWaits('namespaces') === 1, 'the query to block');
    req.destroy();
    await waitUntil(() => server.backend.state.pendingWaits('namespaces') === 0, 'the wait to end');
  });

  test('server close ends open blocking queries', async () => {
    const other = await startTestServer();
    const index = other.backend.state.tableIndex('namespaces');
    const blocked = fetch(`${other.url}/v1/namespaces?index=${index}&wait=5m`).then(
      () => 'answered',
      () => 'connection closed',
    );
    await waitUntil(() => other.backend.state.pendingWaits('namespaces') === 1, 'the query to block');
    await other.close();
    assert.equal(await blocked, 'connection closed');
    assert.equal(other.backend.state.pendingWaits('namespaces'), 0);
  });

  test('invalid index and wait are 400', async () => {
    for (const [query, message] of [
      ['index=abc', /^Invalid index/],
      ['index=-1', /^Invalid index/],
      ['index=1.5', /^Invalid index/],
      ['index=99999999999999999999', /^Invalid index/],
      ['index=1&wait=10', /^Invalid wait time/],
      ['index=1&wait=soon', /^Invalid wait time/],
      ['index=1&wait=5x', /^Invalid wait time/],
      ['stale=maybe', /^Invalid stale value/],
    ] as const) {
      const response = await fetch(`${server.url}/v1/namespaces?${query}`);
      assert.equal(response.status, 400, query);
      assert.match(await response.text(), message, query);
    }
  });

  test('stale skips the consistent read', async () => {
    const before = server.backend.consistentReads;
    await fetch(`${server.url}/v1/namespaces?stale`);
    await fetch(`${server.url}/v1/namespaces?stale=true`);
    await fetch(`${server.url}/v1/operator/raft/configuration?stale`);
    assert.equal(server.backend.consistentReads, before);

    await fetch(`${server.url}/v1/namespaces`);
    await fetch(`${server.url}/v1/namespaces?stale=false`);
    await fetch(`${server.url}/v1/operator/raft/configuration`);
    assert.equal(server.backend.consistentReads, before + 3);
  });
});
