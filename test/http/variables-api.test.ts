import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import type { VariableDecrypted, VariableMetadata } from '../../src/server/variables/variable-shapes.js';
import { call, callJson, callText } from './support/acl-api.js';
import { startTestServer, type TestServer } from './support/test-backend.js';

const SECRET_VALUE = 'hunter2-correct-horse-battery';

describe('variable endpoints', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startTestServer();
    await server.backend.rotateRootKey(false);
  });
  afterEach(async () => {
    await server.close();
  });

  function put(path: string, items: Record<string, string>, query = ''): Promise<Response> {
    return call(server, 'PUT', `/v1/var/${path}${query}`, null, { Items: items });
  }

  async function putOk(path: string, items: Record<string, string>, query = ''): Promise<VariableDecrypted> {
    return callJson<VariableDecrypted>(server, 'PUT', `/v1/var/${path}${query}`, null, 200, { Items: items });
  }

  test('put, get, list and delete', async () => {
    const response = await put('app/db', { user: 'admin', password: SECRET_VALUE });
    assert.equal(response.status, 200);
    const written = (await response.json()) as VariableDecrypted;
    assert.equal(written.Namespace, 'default');
    assert.equal(written.Path, 'app/db');
    assert.deepEqual(written.Items, { user: 'admin', password: SECRET_VALUE });
    assert.equal(written.CreateIndex, written.ModifyIndex);
    assert.ok(written.CreateTime > 0);
    assert.equal(response.headers.get('x-nomad-index'), String(written.ModifyIndex));

    const read = await call(server, 'GET', '/v1/var/app/db', null);
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('x-nomad-index'), String(written.ModifyIndex));
    assert.deepEqual((await read.json()) as VariableDecrypted, written);

    await putOk('app/cache', { url: 'redis://cache' });
    await putOk('other/thing', { a: 'b' });
    const listed = await callJson<VariableMetadata[]>(server, 'GET', '/v1/vars?prefix=app/', null, 200);
    assert.deepEqual(
      listed.map((entry) => entry.Path),
      ['app/cache', 'app/db'],
    );
    assert.equal('Items' in listed[0]!, false);
    assert.deepEqual(Object.keys(listed[1]!).sort(), [
      'CreateIndex',
      'CreateTime',
      'ModifyIndex',
      'ModifyTime',
      'Namespace',
      'Path',
    ]);

    const deleted = await call(server, 'DELETE', '/v1/var/app/db', null);
    assert.equal(deleted.status, 204);
    assert.ok(Number(deleted.headers.get('x-nomad-index')) > written.ModifyIndex);
    assert.equal(await callText(server, 'GET', '/v1/var/app/db', null, 404), 'variable not found');
    // Deleting a variable that does not exist succeeds, as in Nomad.
    await callText(server, 'DELETE', '/v1/var/app/db', null, 204);
  });

  test('namespaces and the wildcard list', async () => {
    await callText(server, 'PUT', '/v1/namespace/prod', null, 200, { Name: 'prod' });
    await putOk('app/db', { a: '1' });
    const prod = await putOk('app/db', { a: '2' }, '?namespace=prod');
    assert.equal(prod.Namespace, 'prod');

    const inProd = await callJson<VariableDecrypted>(
      server,
      'GET',
      '/v1/var/app/db?namespace=prod',
      null,
      200,
    );
    assert.deepEqual(inProd.Items, { a: '2' });
    const all = await callJson<VariableMetadata[]>(server, 'GET', '/v1/vars?namespace=*', null, 200);
    assert.deepEqual(
      all.map((entry) => `${entry.Namespace}/${entry.Path}`),
      ['default/app/db', 'prod/app/db'],
    );

    // The namespace may come from the body when the query leaves it out.
    await callJson(server, 'PUT', '/v1/var/from-body', null, 200, { Namespace: 'prod', Items: { a: 'b' } });
    assert.ok(server.backend.state.variable('prod', 'from-body') !== null);
    const mismatch = await callText(server, 'PUT', '/v1/var/x?namespace=default', null, 400, {
      Namespace: 'prod',
      Items: { a: 'b' },
    });
    assert.match(mismatch, /does not match/);
  });

  test('item named __proto__ is kept', async () => {
    // JSON.parse makes `__proto__` an own property, and the writer and reader must keep it as an item.
    const body = '{"Items": {"__proto__": "x", "user": "admin"}}';
    const written = await callJson<VariableDecrypted>(server, 'PUT', '/v1/var/app/proto', null, 200, body);
    const read = await call(server, 'GET', '/v1/var/app/proto', null);
    const text = await read.text();
    for (const items of [written.Items, (JSON.parse(text) as VariableDecrypted).Items]) {
      assert.deepEqual(Object.keys(items).sort(), ['__proto__', 'user']);
      assert.equal(Object.getOwnPropertyDescriptor(items, '__proto__')?.value, 'x');
    }
    const stored = await server.backend.variables.decrypt(
      server.backend.state.variable('default', 'app/proto')!,
    );
    assert.equal(Object.getOwnPropertyDescriptor(stored.Items, '__proto__')?.value, 'x');

    // The same items again are unchanged, so the second write commits nothing.
    const applies = server.backend.variableApplies;
    await callJson<VariableDecrypted>(server, 'PUT', '/v1/var/app/proto', null, 200, body);
    assert.equal(server.backend.variableApplies, applies);
  });

  test('unchanged set commits nothing', async () => {
    const first = await putOk('app/db', { user: 'admin', password: SECRET_VALUE });
    const applies = server.backend.variableApplies;
    const again = await putOk('app/db', { password: SECRET_VALUE, user: 'admin' });
    assert.equal(server.backend.variableApplies, applies);
    assert.equal(again.ModifyIndex, first.ModifyIndex);
    assert.deepEqual(again.Items, first.Items);

    const changed = await putOk('app/db', { user: 'admin', password: 'new' });
    assert.equal(server.backend.variableApplies, applies + 1);
    assert.ok(changed.ModifyIndex > first.ModifyIndex);
    assert.equal(changed.CreateIndex, first.CreateIndex);
  });

  test('only a write that looks unchanged waits for a consistent read', async () => {
    await putOk('app/db', { v: '1' });
    const reads = server.backend.consistentReads;
    await putOk('app/db', { v: '2' });
    assert.equal(server.backend.consistentReads, reads, 'a changed write needs no read round');

    // This copy lags: the newest value is 3, so writing 2 again is a change and must commit.
    server.backend.catchUp = async () => {
      await putOk('app/db', { v: '3' });
    };
    const applies = server.backend.variableApplies;
    const written = await putOk('app/db', { v: '2' });
    assert.equal(server.backend.catchUp, null, 'the consistent read ran');
    assert.equal(server.backend.variableApplies, applies + 2);
    assert.deepEqual(written.Items, { v: '2' });
    const read = await callJson<VariableDecrypted>(server, 'GET', '/v1/var/app/db', null, 200);
    assert.deepEqual(read.Items, { v: '2' });
  });

  test('check-and-set on write', async () => {
    const created = await putOk('app/db', { v: '1' }, '?cas=0');

    const exists = await call(server, 'PUT', '/v1/var/app/db?cas=0', null, { Items: { v: '2' } });
    assert.equal(exists.status, 409);
    const conflict = (await exists.json()) as VariableDecrypted;
    assert.equal(conflict.ModifyIndex, created.ModifyIndex);
    assert.deepEqual(conflict.Items, { v: '1' });
    assert.equal(exists.headers.get('x-nomad-index'), String(created.ModifyIndex));

    const stale = await call(server, 'PUT', `/v1/var/app/db?cas=${created.ModifyIndex + 100}`, null, {
      Items: { v: '2' },
    });
    assert.equal(stale.status, 409);
    assert.equal(((await stale.json()) as VariableDecrypted).ModifyIndex, created.ModifyIndex);

    const updated = await putOk('app/db', { v: '2' }, `?cas=${created.ModifyIndex}`);
    assert.ok(updated.ModifyIndex > created.ModifyIndex);
    assert.deepEqual(server.backend.state.variable('default', 'app/db')?.ModifyIndex, updated.ModifyIndex);

    const absent = await call(server, 'PUT', '/v1/var/missing?cas=5', null, { Items: { v: '1' } });
    assert.equal(absent.status, 409);
    assert.deepEqual((await absent.json()) as VariableMetadata, {
      Namespace: 'default',
      Path: 'missing',
      CreateIndex: 0,
      CreateTime: 0,
      ModifyIndex: 0,
      ModifyTime: 0,
    });
    assert.equal(server.backend.state.variable('default', 'missing'), null);
  });

  test('check-and-set on delete', async () => {
    const created = await putOk('app/db', { v: '1' });
    const stale = await call(server, 'DELETE', `/v1/var/app/db?cas=${created.ModifyIndex - 1}`, null);
    assert.equal(stale.status, 409);
    assert.equal(((await stale.json()) as VariableDecrypted).ModifyIndex, created.ModifyIndex);
    assert.ok(server.backend.state.variable('default', 'app/db') !== null);

    await callText(server, 'DELETE', `/v1/var/app/db?cas=${created.ModifyIndex}`, null, 204);
    assert.equal(server.backend.state.variable('default', 'app/db'), null);
  });

  test('write racing a check-and-set', async () => {
    const created = await putOk('app/db', { v: '0' });
    // Both writers read index N; exactly one of them wins, the other gets the winner's value.
    const results = await Promise.all(
      ['1', '2'].map((v) => put('app/db', { v }, `?cas=${created.ModifyIndex}`)),
    );
    const statuses = results.map((response) => response.status).sort();
    assert.deepEqual(statuses, [200, 409]);
    const winner = (await results.find((response) => response.status === 200)!.json()) as VariableDecrypted;
    const loser = (await results.find((response) => response.status === 409)!.json()) as VariableDecrypted;
    assert.equal(loser.ModifyIndex, winner.ModifyIndex);
    assert.deepEqual(loser.Items, winner.Items);
  });

  test('size limit of 64 KiB', async () => {
    const atLimit = { k: 'x'.repeat(64 * 1024 - 1) };
    await putOk('big', atLimit);
    const message = await callText(server, 'PUT', '/v1/var/big2', null, 400, {
      Items: { k: 'x'.repeat(64 * 1024) },
    });
    assert.match(message, /^variables are limited to 64KiB in total size/);
    assert.match(message, /65537 bytes/);
    assert.equal(server.backend.state.variable('default', 'big2'), null);
  });

  test('invalid writes are rejected', async () => {
    const cases: [string, unknown, RegExp][] = [
      ['/v1/var/app', {}, /^variable missing required Items object$/],
      ['/v1/var/app', { Items: {} }, /^variable missing required Items object$/],
      ['/v1/var/app', { Items: { a: 1 } }, /every value in Items must be a string/],
      ['/v1/var/app', { Items: ['a'] }, /Items must be a JSON object/],
      ['/v1/var/what.ever', { Items: { a: 'b' } }, /^Invalid variable path/],
      ['/v1/var/nomad', { Items: { a: 'b' } }, /reserved/],
      ['/v1/var/app?namespace=*', { Items: { a: 'b' } }, /^Invalid namespace "\*"/],
      ['/v1/var/app?namespace=nowhere', { Items: { a: 'b' } }, /nonexistent namespace/],
      ['/v1/var/app?cas=-1', { Items: { a: 'b' } }, /^Invalid cas value/],
      ['/v1/var/app?lock-acquire', { Items: { a: 'b' } }, /does not support variable locks/],
      ['/v1/var/app', { Items: { a: 'b' }, Path: 'other' }, /does not match the request path/],
    ];
    for (const [path, body, pattern] of cases) {
      const message = await callText(server, 'PUT', path, null, 400, body);
      assert.match(message, pattern, `${path} ${JSON.stringify(body)}`);
    }
    assert.equal(server.backend.state.variables('*').length, 0);
  });

  test('blocking read wakes on a write', async () => {
    const created = await putOk('app/db', { v: '1' });
    const pending = call(server, 'GET', `/v1/var/app/db?index=${created.ModifyIndex}&wait=5s`, null);
    await putOk('app/other', { v: 'x' });
    const updated = await putOk('app/db', { v: '2' });
    const response = await pending;
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('x-nomad-index'), String(updated.ModifyIndex));
    assert.deepEqual(((await response.json()) as VariableDecrypted).Items, { v: '2' });
  });

  test('raw state holds no plaintext', async () => {
    await putOk('app/db', { 'db-password-key': SECRET_VALUE });
    await putOk('app/db', { 'db-password-key': SECRET_VALUE, more: SECRET_VALUE }, '');
    const snapshot = Buffer.from(server.backend.state.snapshot());
    assert.equal(snapshot.indexOf(SECRET_VALUE), -1, 'the snapshot contains an item value');
    assert.equal(snapshot.indexOf('db-password-key'), -1, 'the snapshot contains an item key');
    assert.equal(JSON.stringify(server.backend.state.variables('*')).includes(SECRET_VALUE), false);
    const log = JSON.stringify([...server.logLines, ...server.backend.operationLogLines]);
    assert.equal(log.includes(SECRET_VALUE), false);
  });

  test('read with a removed key fails', async () => {
    await putOk('app/db', { v: '1' });
    const row = server.backend.state.variable('default', 'app/db')!;
    await server.backend.rotateRootKey(false);
    await callText(server, 'DELETE', `/v1/operator/keyring/key/${row.KeyID}?force=true`, null, 200);
    const message = await callText(server, 'GET', '/v1/var/app/db', null, 500);
    assert.match(message, /root key .* is not available on this server/);
  });
});
