import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Command, encodeCommand } from '../../src/state/commands.js';
import { type Namespace, StateStore } from '../../src/state/store.js';

function upsertNamespace(
  Name: string,
  Description = '',
  Meta: Record<string, string> | null = null,
): Uint8Array {
  return encodeCommand({ type: 'namespace-upsert', v: 1, namespace: { Name, Description, Meta } });
}

function deleteNamespace(name: string): Uint8Array {
  return encodeCommand({ type: 'namespace-delete', v: 1, name });
}

const server1 = { id: 183274923, name: 's1', rpcAddr: '127.0.0.1:4647', httpAddr: '127.0.0.1:4646' };

function upsertServer(server: Extract<Command, { type: 'server-upsert' }>['server']): Uint8Array {
  return encodeCommand({ type: 'server-upsert', v: 1, server });
}

/** Returns a store past the bootstrap configuration entry at index 1, as the Raft driver leaves it. */
function bootstrappedStore(): StateStore {
  const store = new StateStore();
  store.advanceTo(1);
  return store;
}

describe('state store', () => {
  test('default namespace exists from the start', () => {
    const store = new StateStore();
    assert.equal(store.latestIndex, 0);
    assert.equal(store.tableIndex('namespaces'), 1);
    assert.equal(store.tableIndex('servers'), 1);
    assert.equal(
      JSON.stringify(store.namespace('default')),
      '{"Name":"default","Description":"Default shared namespace","Quota":"","Meta":null,' +
        '"Capabilities":null,"CreateIndex":1,"ModifyIndex":1}',
    );
    assert.deepEqual(
      store.namespaces().map((ns) => ns.Name),
      ['default'],
    );
    assert.deepEqual(store.servers(), []);
  });

  test('upsert creates a namespace at the entry index', () => {
    const store = bootstrappedStore();
    assert.deepEqual(store.apply(5, upsertNamespace('web', 'frontends', { team: 'a' })), { ok: true });
    assert.deepEqual(store.namespace('web'), {
      Name: 'web',
      Description: 'frontends',
      Quota: '',
      Meta: { team: 'a' },
      Capabilities: null,
      CreateIndex: 5,
      ModifyIndex: 5,
    });
    assert.equal(store.tableIndex('namespaces'), 5);
    assert.equal(store.tableIndex('servers'), 1);
    assert.equal(store.latestIndex, 5);
  });

  test('upsert of an existing namespace keeps CreateIndex', () => {
    const store = bootstrappedStore();
    store.apply(2, upsertNamespace('web', 'first', { a: '1' }));
    store.apply(3, upsertNamespace('web', 'second', null));
    const web = store.namespace('web')!;
    assert.equal(web.CreateIndex, 2);
    assert.equal(web.ModifyIndex, 3);
    assert.equal(web.Description, 'second');
    assert.equal(web.Meta, null);
  });

  test('upsert may change the default description', () => {
    const store = bootstrappedStore();
    assert.equal(store.apply(2, upsertNamespace('default', 'shared')).ok, true);
    const ns = store.namespace('default')!;
    assert.equal(ns.Description, 'shared');
    assert.equal(ns.CreateIndex, 1);
    assert.equal(ns.ModifyIndex, 2);
  });

  test('namespaces are listed by name', () => {
    const store = bootstrappedStore();
    let index = 2;
    for (const name of ['web', 'A', 'db', 'z-1', '0']) store.apply(index++, upsertNamespace(name));
    assert.deepEqual(
      store.namespaces().map((ns) => ns.Name),
      ['0', 'A', 'db', 'default', 'web', 'z-1'],
    );
  });

  test('delete removes a namespace', () => {
    const store = bootstrappedStore();
    store.apply(2, upsertNamespace('web'));
    assert.deepEqual(store.apply(3, deleteNamespace('web')), { ok: true });
    assert.equal(store.namespace('web'), null);
    assert.equal(store.tableIndex('namespaces'), 3);
  });

  test('deleting default is rejected with 400', () => {
    const store = bootstrappedStore();
    const result = store.apply(2, deleteNamespace('default'));
    assert.equal(result.ok, false);
    assert.equal(result.ok === false && result.reason, 'rejected');
    assert.equal(result.ok === false && result.status, 400);
    assert.equal(result.ok === false && result.message, 'can not delete default namespace');
    assert.notEqual(store.namespace('default'), null);
  });

  test('deleting a missing namespace is rejected with 404', () => {
    const store = bootstrappedStore();
    const result = store.apply(2, deleteNamespace('nope'));
    assert.equal(result.ok === false && result.status, 404);
    assert.equal(result.ok === false && result.message, 'namespace not found');
  });

  test('rejected command moves only latestIndex', () => {
    const store = bootstrappedStore();
    store.apply(2, upsertNamespace('web'));
    const before = store.snapshot();
    store.apply(3, deleteNamespace('nope'));
    assert.equal(store.latestIndex, 3);
    assert.equal(store.tableIndex('namespaces'), 2);
    const after = new StateStore();
    after.restore(before);
    assert.deepEqual(store.namespaces(), after.namespaces());
  });

  test('undecodable entry returns 500 and moves latestIndex', () => {
    const store = bootstrappedStore();
    const result = store.apply(2, new Uint8Array([0xc1]));
    assert.equal(result.ok, false);
    assert.equal(result.ok === false && result.reason, 'undecodable');
    assert.equal(result.ok === false && result.status, 500);
    assert.equal(store.latestIndex, 2);
    assert.equal(store.tableIndex('namespaces'), 1);
  });

  test('entry of a newer version is undecodable', () => {
    const store = bootstrappedStore();
    const newer = encodeCommand({ type: 'namespace-delete', v: 1, name: 'a' });
    // Rewrite the version 1 into 2: the fixint byte that follows the key "v".
    const position = Buffer.from(newer).indexOf(Buffer.from([0xa1, 0x76, 0x01]));
    assert.ok(position >= 0);
    const bytes = Buffer.from(newer);
    bytes[position + 2] = 0x02;
    const result = store.apply(2, bytes);
    assert.equal(result.ok === false && result.reason, 'undecodable');
    assert.match(result.ok === false ? result.message : '', /version/);
  });

  test('index at or below latestIndex throws', () => {
    const store = bootstrappedStore();
    store.apply(4, upsertNamespace('web'));
    assert.throws(() => store.apply(4, upsertNamespace('db')), { name: 'Error' });
    assert.throws(() => store.apply(3, upsertNamespace('db')), { name: 'Error' });
    assert.throws(() => store.advanceTo(4), { name: 'Error' });
    assert.throws(() => store.apply(Number.NaN, upsertNamespace('db')), { name: 'Error' });
    assert.throws(() => store.apply(5.5, upsertNamespace('db')), { name: 'Error' });
    assert.equal(store.namespace('db'), null);
    assert.equal(store.latestIndex, 4);
  });

  test('advanceTo moves only latestIndex', () => {
    const store = bootstrappedStore();
    store.advanceTo(10);
    assert.equal(store.latestIndex, 10);
    assert.equal(store.tableIndex('namespaces'), 1);
    store.apply(11, upsertNamespace('web'));
    assert.equal(store.namespace('web')!.CreateIndex, 11);
  });

  test('servers are upserted, listed by id and deleted', () => {
    const store = bootstrappedStore();
    const server2 = { id: 7, name: 's2', rpcAddr: 'host-2:4647', httpAddr: 'host-2:4646' };
    assert.deepEqual(store.apply(2, upsertServer(server1)), { ok: true });
    store.apply(3, upsertServer(server2));
    assert.deepEqual(store.servers(), [server2, server1]);
    assert.equal(store.tableIndex('servers'), 3);
    assert.equal(store.tableIndex('namespaces'), 1);

    store.apply(4, upsertServer({ ...server2, rpcAddr: 'host-2:5647' }));
    assert.equal(store.server(7)!.rpcAddr, 'host-2:5647');

    assert.deepEqual(store.apply(5, encodeCommand({ type: 'server-delete', v: 1, id: 7 })), { ok: true });
    assert.equal(store.server(7), null);
    assert.equal(store.tableIndex('servers'), 5);
  });

  test('deleting a missing server is rejected with 404', () => {
    const store = bootstrappedStore();
    const result = store.apply(2, encodeCommand({ type: 'server-delete', v: 1, id: 9 }));
    assert.equal(result.ok === false && result.status, 404);
    assert.equal(store.tableIndex('servers'), 1);
  });

  test('same entries give the same state on every replica', () => {
    const entries = [
      upsertNamespace('web', 'x', { b: '2', a: '1' }),
      upsertServer(server1),
      deleteNamespace('missing'),
      new Uint8Array([1, 2, 3]),
      upsertNamespace('db'),
      deleteNamespace('web'),
    ];
    const replicas = [bootstrappedStore(), bootstrappedStore()];
    const results = replicas.map((store) => entries.map((data, i) => store.apply(i + 2, data)));
    assert.deepEqual(results[0], results[1]);
    assert.equal(Buffer.compare(replicas[0]!.snapshot(), replicas[1]!.snapshot()), 0);
  });
});

describe('state store immutability', () => {
  test('returned rows are frozen', () => {
    const store = bootstrappedStore();
    store.apply(2, upsertNamespace('web', '', { k: 'v' }));
    store.apply(3, upsertServer(server1));
    const web = store.namespace('web')!;
    assert.ok(Object.isFrozen(web));
    assert.ok(Object.isFrozen(web.Meta));
    assert.throws(() => {
      (web as { Description: string }).Description = 'changed';
    }, TypeError);
    assert.throws(() => {
      (web.Meta as Record<string, string>).k = 'changed';
    }, TypeError);
    assert.throws(() => {
      (store.server(server1.id) as { rpcAddr: string }).rpcAddr = 'x:1';
    }, TypeError);
    assert.equal(store.namespace('web')!.Meta!.k, 'v');
  });

  test('lists are copies', () => {
    const store = bootstrappedStore();
    const list = store.namespaces();
    list.pop();
    list.push({ Name: 'fake' } as Namespace);
    assert.deepEqual(
      store.namespaces().map((ns) => ns.Name),
      ['default'],
    );
    const servers = store.servers();
    servers.push({ ...server1 });
    assert.deepEqual(store.servers(), []);
  });

  test('a row read earlier keeps its values', () => {
    const store = bootstrappedStore();
    store.apply(2, upsertNamespace('web', 'old'));
    const before = store.namespace('web')!;
    const listBefore = store.namespaces();
    store.apply(3, upsertNamespace('web', 'new'));
    assert.equal(before.Description, 'old');
    assert.equal(listBefore.find((ns) => ns.Name === 'web')!.Description, 'old');
    assert.equal(store.namespace('web')!.Description, 'new');
  });
});
