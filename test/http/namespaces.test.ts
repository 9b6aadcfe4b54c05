import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './support/test-backend.js';

describe('namespace endpoints', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  function put(path: string, body: unknown, method = 'PUT'): Promise<Response> {
    return fetch(`${server.url}${path}`, { method, body: JSON.stringify(body) });
  }

  test('default namespace exists', async () => {
    const response = await fetch(`${server.url}/v1/namespace/default`);
    assert.equal(response.status, 200);
    const body = (await response.json()) as Record<string, unknown>;
    assert.equal(body.Name, 'default');
    assert.deepEqual(Object.keys(body).sort(), [
      'Capabilities',
      'CreateIndex',
      'Description',
      'Meta',
      'ModifyIndex',
      'Name',
      'Quota',
    ]);
    assert.equal(response.headers.get('x-nomad-index'), String(body.ModifyIndex));
  });

  test('write, read, list and delete', async () => {
    const written = await put('/v1/namespace/team-a', {
      Name: 'team-a',
      Description: 'Team A',
      Meta: { owner: 'ops' },
      Quota: '',
      Capabilities: null,
    });
    assert.equal(written.status, 200);
    assert.equal(await written.text(), '');
    const writeIndex = Number(written.headers.get('x-nomad-index'));
    assert.ok(writeIndex > 1);

    const read = await fetch(`${server.url}/v1/namespace/team-a`);
    const namespace = (await read.json()) as Record<string, unknown>;
    assert.equal(namespace.Description, 'Team A');
    assert.deepEqual(namespace.Meta, { owner: 'ops' });
    assert.equal(namespace.CreateIndex, writeIndex);
    assert.equal(namespace.ModifyIndex, writeIndex);

    const list = await fetch(`${server.url}/v1/namespaces`);
    assert.equal(list.headers.get('x-nomad-index'), String(writeIndex));
    const names = ((await list.json()) as { Name: string }[]).map((entry) => entry.Name);
    assert.deepEqual(names, ['default', 'team-a']);

    const prefixed = await fetch(`${server.url}/v1/namespaces?prefix=team`);
    assert.deepEqual(
      ((await prefixed.json()) as { Name: string }[]).map((entry) => entry.Name),
      ['team-a'],
    );

    const deleted = await fetch(`${server.url}/v1/namespace/team-a`, { method: 'DELETE' });
    assert.equal(deleted.status, 200);
    assert.ok(Number(deleted.headers.get('x-nomad-index')) > writeIndex);

    const missing = await fetch(`${server.url}/v1/namespace/team-a`);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), 'Namespace not found');
    assert.equal(missing.headers.get('x-nomad-index'), deleted.headers.get('x-nomad-index'));
  });

  test('POST to /v1/namespace takes the name from the body', async () => {
    const response = await put('/v1/namespace', { Name: 'from-body' }, 'POST');
    assert.equal(response.status, 200);
    assert.equal((await fetch(`${server.url}/v1/namespace/from-body`)).status, 200);
  });

  test('name in the path fills a missing body Name', async () => {
    const response = await put('/v1/namespace/from-path', { Description: 'd' });
    assert.equal(response.status, 200);
    assert.equal((await fetch(`${server.url}/v1/namespace/from-path`)).status, 200);
  });

  test('rejected bodies are 400 naming the field', async () => {
    for (const [path, body, message] of [
      ['/v1/namespace/one', { Name: 'two' }, /^Namespace name does not match request path/],
      ['/v1/namespace', { Description: 'x' }, /^Missing namespace name/],
      ['/v1/namespace/one', [], /must be a JSON object/],
      ['/v1/namespace/one', 'text', /must be a JSON object/],
      ['/v1/namespace/one', { Name: 5 }, /Name must be a string/],
      ['/v1/namespace/bad_name', {}, /^Invalid namespace: Name must match/],
      [
        '/v1/namespace/one',
        { Description: 'x'.repeat(300) },
        /^Invalid namespace: Description must be at most 256 bytes/,
      ],
      ['/v1/namespace/one', { Meta: { a: 1 } }, /^Invalid namespace: Meta\.a must be a string/],
      ['/v1/namespace/one', { Meta: [] }, /^Invalid namespace: Meta must be a map/],
      ['/v1/namespace/one', { Quota: 'gold' }, /Quota is not supported/],
      [
        '/v1/namespace/one',
        { Capabilities: { EnabledTaskDrivers: ['exec'] } },
        /Capabilities are not supported/,
      ],
    ] as const) {
      const response = await put(path, body);
      assert.equal(response.status, 400, JSON.stringify(body));
      assert.match(await response.text(), message, JSON.stringify(body));
    }
    assert.equal((await fetch(`${server.url}/v1/namespace/one`)).status, 404);
  });

  test('a name longer than 128 characters is 400, not 404', async () => {
    const response = await put(`/v1/namespace/${'a'.repeat(129)}`, {});
    assert.equal(response.status, 400);
  });

  test('deleting default or a missing namespace fails with the state status', async () => {
    const defaultDelete = await fetch(`${server.url}/v1/namespace/default`, { method: 'DELETE' });
    assert.equal(defaultDelete.status, 400);
    assert.match(await defaultDelete.text(), /default namespace/);

    const missingDelete = await fetch(`${server.url}/v1/namespace/nope`, { method: 'DELETE' });
    assert.equal(missingDelete.status, 404);
  });
});
