import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, beforeEach, describe, test } from 'node:test';
import type { RootKeyListEntry } from '../../src/http/routes/keyring.js';
import type { RootKeyMeta } from '../../src/keyring/index.js';
import { placeAllocationSignedWith } from './support/keyring-fixtures.js';
import { startTestServer, type TestServer, waitUntil } from './support/test-backend.js';

interface RotateReply {
  Key: RootKeyMeta;
  Index: number;
}

describe('keyring endpoints', () => {
  let server: TestServer;
  beforeEach(async () => {
    if (server !== undefined) await server.close();
    server = await startTestServer();
  });
  after(async () => {
    await server.close();
  });

  async function rotate(query = '', method = 'PUT'): Promise<RotateReply> {
    const response = await fetch(`${server.url}/v1/operator/keyring/rotate${query}`, { method });
    assert.equal(response.status, 200, await response.clone().text());
    const body = (await response.json()) as RotateReply;
    assert.equal(response.headers.get('x-nomad-index'), String(body.Index));
    return body;
  }

  async function listKeys(query = ''): Promise<{ response: Response; keys: RootKeyListEntry[] }> {
    const response = await fetch(`${server.url}/v1/operator/keyring/keys${query}`);
    assert.equal(response.status, 200);
    return { response, keys: (await response.json()) as RootKeyListEntry[] };
  }

  test('list starts empty with read headers', async () => {
    const before = server.backend.consistentReads;
    const { response, keys } = await listKeys();
    assert.deepEqual(keys, []);
    assert.equal(response.headers.get('x-nomad-index'), String(server.backend.state.tableIndex('rootKeys')));
    assert.equal(response.headers.get('x-nomad-knownleader'), 'true');
    assert.equal(server.backend.consistentReads, before + 1);
  });

  test('list with stale skips the consistent read', async () => {
    const before = server.backend.consistentReads;
    await listKeys('?stale');
    assert.equal(server.backend.consistentReads, before);
  });

  test('list rejects an invalid stale value', async () => {
    const response = await fetch(`${server.url}/v1/operator/keyring/keys?stale=maybe`);
    assert.equal(response.status, 400);
    assert.match(await response.text(), /"maybe"/);
  });

  test('rotate creates the active key', async () => {
    const first = await rotate();
    assert.equal(first.Key.State, 'active');
    assert.equal(first.Key.Algorithm, 'aes256-gcm');
    assert.equal(first.Key.CreateIndex, first.Index);
    assert.equal(first.Key.ModifyIndex, first.Index);
    assert.match(first.Key.KeyID, /^[0-9a-f-]{36}$/);
    assert.ok(first.Key.CreateTime > 0);

    const { response, keys } = await listKeys();
    // The list adds Signet's EncryptedVariables to the metadata that the rotation returned.
    assert.deepEqual(keys, [{ ...first.Key, EncryptedVariables: 0 }]);
    assert.equal(response.headers.get('x-nomad-index'), String(first.Index));
  });

  test('rotate demotes the old key to inactive', async () => {
    const first = await rotate();
    const second = await rotate('', 'POST');
    const { keys } = await listKeys();
    const states = new Map(keys.map((key) => [key.KeyID, key.State]));
    assert.equal(states.get(first.Key.KeyID), 'inactive');
    assert.equal(states.get(second.Key.KeyID), 'active');
  });

  test('full rotation marks the old key rekeying', async () => {
    for (const query of ['?full=true', '?full']) {
      const old = await rotate();
      await rotate(query);
      const { keys } = await listKeys();
      const demoted = keys.find((key) => key.KeyID === old.Key.KeyID);
      assert.equal(demoted?.State, 'rekeying', query);
    }
  });

  test('full=false is a plain rotation', async () => {
    const old = await rotate();
    await rotate('?full=false');
    const { keys } = await listKeys();
    assert.equal(keys.find((key) => key.KeyID === old.Key.KeyID)?.State, 'inactive');
  });

  test('rotate rejects bad query values', async () => {
    const cases: [string, RegExp][] = [
      ['?full=yes', /Invalid full value "yes"/],
      ['?algo=rsa', /Invalid algo value "rsa"/],
      ['?publish_time=1700000000000000000', /publish_time/],
    ];
    for (const [query, message] of cases) {
      const response = await fetch(`${server.url}/v1/operator/keyring/rotate${query}`, { method: 'PUT' });
      assert.equal(response.status, 400, query);
      assert.match(await response.text(), message, query);
    }
    const { keys } = await listKeys();
    assert.deepEqual(keys, [], 'no rejected request made a key');
  });

  test('rotate accepts the one algorithm by name', async () => {
    const result = await rotate('?algo=aes256-gcm');
    assert.equal(result.Key.Algorithm, 'aes256-gcm');
  });

  test('wrong methods get 405', async () => {
    const rotateGet = await fetch(`${server.url}/v1/operator/keyring/rotate`);
    assert.equal(rotateGet.status, 405);
    const keysPut = await fetch(`${server.url}/v1/operator/keyring/keys`, { method: 'PUT' });
    assert.equal(keysPut.status, 405);
  });

  test('list blocks until a rotation', async () => {
    const { response } = await listKeys();
    const index = response.headers.get('x-nomad-index')!;
    const blocked = fetch(`${server.url}/v1/operator/keyring/keys?index=${index}&wait=10s`);
    await waitUntil(() => server.backend.state.pendingWaits('rootKeys') > 0, 'the list to block');
    const created = await rotate();
    const reply = await blocked;
    assert.equal(reply.status, 200);
    assert.equal(reply.headers.get('x-nomad-index'), String(created.Index));
    assert.deepEqual(
      ((await reply.json()) as RootKeyMeta[]).map((key) => key.KeyID),
      [created.Key.KeyID],
    );
  });

  test('remove an inactive key', async () => {
    const old = await rotate();
    const current = await rotate();
    const response = await fetch(`${server.url}/v1/operator/keyring/key/${old.Key.KeyID}`, {
      method: 'DELETE',
    });
    assert.equal(response.status, 200);
    const body = (await response.json()) as { Index: number };
    assert.ok(body.Index > current.Index);
    assert.equal(response.headers.get('x-nomad-index'), String(body.Index));
    const { keys } = await listKeys();
    assert.deepEqual(
      keys.map((key) => key.KeyID),
      [current.Key.KeyID],
    );
  });

  test('remove the active key is rejected', async () => {
    const active = await rotate();
    const response = await fetch(`${server.url}/v1/operator/keyring/key/${active.Key.KeyID}`, {
      method: 'DELETE',
    });
    assert.equal(response.status, 400);
    assert.match(await response.text(), new RegExp(active.Key.KeyID));
    assert.equal((await listKeys()).keys.length, 1);
  });

  test('remove an unknown key is 404', async () => {
    const response = await fetch(`${server.url}/v1/operator/keyring/key/${randomUUID()}`, {
      method: 'DELETE',
    });
    assert.equal(response.status, 404);
  });

  test('remove rejects a malformed id and force value', async () => {
    const malformed = await fetch(`${server.url}/v1/operator/keyring/key/not-a-key`, { method: 'DELETE' });
    assert.equal(malformed.status, 400);
    assert.match(await malformed.text(), /Invalid key ID "not-a-key"/);

    const badForce = await fetch(`${server.url}/v1/operator/keyring/key/${randomUUID()}?force=sure`, {
      method: 'DELETE',
    });
    assert.equal(badForce.status, 400);
    assert.match(await badForce.text(), /Invalid force value "sure"/);
  });

  test('remove a key in use needs force', async () => {
    const old = await rotate();
    await rotate();
    await placeAllocationSignedWith(server.backend, server.url, old.Key.KeyID);
    const path = `${server.url}/v1/operator/keyring/key/${old.Key.KeyID}`;

    const rejected = await fetch(path, { method: 'DELETE' });
    assert.equal(rejected.status, 400);
    assert.equal((await listKeys()).keys.length, 2);

    const forced = await fetch(`${path}?force=true`, { method: 'DELETE' });
    assert.equal(forced.status, 200);
    assert.equal((await listKeys()).keys.length, 1);
  });

  test('responses carry no key material', async () => {
    await rotate();
    await rotate('?full');
    const { keys } = await listKeys();
    for (const key of keys) {
      assert.deepEqual(Object.keys(key).sort(), [
        'Algorithm',
        'CreateIndex',
        'CreateTime',
        'EncryptedVariables',
        'KeyID',
        'ModifyIndex',
        'State',
      ]);
    }
  });

  test('list counts the variables under each key', async () => {
    const old = await rotate();
    for (const path of ['app/a', 'app/b']) {
      const written = await server.backend.variables.write(
        { namespace: 'default', path, casIndex: null, items: { value: 'x' } },
        false,
      );
      assert.ok(written.ok);
    }
    const current = await rotate('?full');
    const { keys } = await listKeys();
    const counts = Object.fromEntries(keys.map((key) => [key.KeyID, key.EncryptedVariables]));
    assert.deepEqual(counts, { [old.Key.KeyID]: 2, [current.Key.KeyID]: 0 });
  });
});
