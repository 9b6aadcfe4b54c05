import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { keyEncryptionKey, ROOT_KEY_ALGORITHM, wrapRootKey } from '../../src/keyring/index.js';
import { decodeCommand, encodeCommand, validateCommand } from '../../src/state/commands.js';
import { CommandError, SnapshotError } from '../../src/state/errors.js';
import { snapshotPackr } from '../../src/state/msgpack.js';
import type { RootKeyCommand } from '../../src/state/root-key-commands.js';
import type { StateStore } from '../../src/state/store.js';
import { initialTables } from '../../src/state/tables.js';
import {
  applyOk,
  bootstrappedStore,
  entry,
  makeAlloc,
  makeEval,
  makeJob,
  makeNode,
  T0,
} from './workload-fixtures.js';

const KEK = keyEncryptionKey(randomBytes(32));

function newKey(createTime = T0): Extract<RootKeyCommand, { type: 'root-key-upsert' }> {
  const keyId = randomUUID();
  const wrapped = Buffer.from(wrapRootKey(KEK, keyId, randomBytes(32))).toString('base64');
  return {
    type: 'root-key-upsert',
    v: 1,
    key: { KeyID: keyId, Algorithm: ROOT_KEY_ALGORITHM, CreateTime: createTime },
    wrappedKey: wrapped,
    demoteTo: 'inactive',
  };
}

function apply(store: StateStore, command: RootKeyCommand) {
  return store.apply(store.latestIndex + 1, encodeCommand(command));
}

function states(store: StateStore): string[] {
  return store.rootKeys().map((row) => row.Meta.State);
}

/**
 * Builds a store with the given root keys (the last one active), job `web`, and one allocation per
 * given signing key and client status.
 */
function storeWithAllocs(
  keys: readonly Extract<RootKeyCommand, { type: 'root-key-upsert' }>[],
  allocs: { keyId: string; status: 'running' | 'complete' | 'failed' }[],
): StateStore {
  const store = bootstrappedStore();
  for (const key of keys) assert.equal(apply(store, key).ok, true);
  applyOk(store, entry('node-register', { node: makeNode() }));
  applyOk(store, entry('job-register', { job: makeJob(), eval: makeEval() }));
  const place = allocs.map((alloc, i) =>
    makeAlloc({
      ID: `alloc-${i}`,
      SignedIdentities: { server: 'aaa.bbb.ccc' },
      SigningKeyID: alloc.keyId,
    }),
  );
  applyOk(store, entry('plan-apply', { place, stop: [], evals: [], time: T0 }));
  applyOk(
    store,
    entry('alloc-client-update', {
      updates: allocs.map((alloc, i) => ({
        ID: `alloc-${i}`,
        ClientStatus: alloc.status,
        ClientDescription: '',
        TaskStates: {},
      })),
      evals: [],
      time: T0,
    }),
  );
  return store;
}

describe('root keys', () => {
  test('the first key becomes active and each rotation demotes the one before', () => {
    const store = bootstrappedStore();
    assert.equal(store.activeRootKey(), null);
    const first = newKey(T0);
    assert.equal(apply(store, first).ok, true);
    const index = store.latestIndex;
    const row = store.rootKey(first.key.KeyID)!;
    assert.deepEqual(row.Meta, { ...first.key, CreateIndex: index, ModifyIndex: index, State: 'active' });
    assert.equal(row.WrappedKey, first.wrappedKey);

    const second = { ...newKey(T0 + 1e9), demoteTo: 'rekeying' as const };
    assert.equal(apply(store, second).ok, true);
    assert.deepEqual(states(store), ['rekeying', 'active']);
    assert.equal(store.activeRootKey()?.Meta.KeyID, second.key.KeyID);
    assert.equal(store.rootKey(first.key.KeyID)!.Meta.ModifyIndex, store.latestIndex);
    assert.equal(store.rootKey(first.key.KeyID)!.Meta.CreateIndex, index);

    assert.equal(apply(store, newKey(T0 + 2e9)).ok, true);
    assert.deepEqual(states(store), ['rekeying', 'inactive', 'active']);
    assert.equal(store.tableIndex('rootKeys'), store.latestIndex);
  });

  test('repeated key id is rejected', () => {
    const store = bootstrappedStore();
    const key = newKey();
    apply(store, key);
    const result = apply(store, { ...key, key: { ...key.key, CreateTime: T0 + 5e9 } });
    assert.equal(result.ok, false);
    assert.equal(result.ok === false && result.status, 409);
    assert.deepEqual(states(store), ['active']);
  });

  test('root-key-state ends a rekey but never deactivates the active key', () => {
    const store = bootstrappedStore();
    const old = newKey(T0);
    apply(store, old);
    apply(store, { ...newKey(T0 + 1e9), demoteTo: 'rekeying' });
    const active = store.activeRootKey()!.Meta.KeyID;

    const rejection = apply(store, { type: 'root-key-state', v: 1, keyId: active, state: 'inactive' });
    assert.equal(rejection.ok === false && rejection.status, 400);
    const unknown = apply(store, { type: 'root-key-state', v: 1, keyId: randomUUID(), state: 'inactive' });
    assert.equal(unknown.ok === false && unknown.status, 404);

    assert.equal(
      apply(store, { type: 'root-key-state', v: 1, keyId: old.key.KeyID, state: 'inactive' }).ok,
      true,
    );
    assert.deepEqual(states(store), ['inactive', 'active']);
  });

  test('delete refuses the active key, and a key in use unless forced', () => {
    const inUse = newKey(T0);
    const finished = newKey(T0 + 1e9);
    const store = storeWithAllocs(
      [inUse, finished],
      [
        { keyId: inUse.key.KeyID, status: 'running' },
        { keyId: finished.key.KeyID, status: 'complete' },
      ],
    );
    const active = newKey(T0 + 2e9);
    apply(store, active);

    const activeRejection = apply(store, {
      type: 'root-key-delete',
      v: 1,
      keyId: active.key.KeyID,
      force: true,
    });
    assert.equal(activeRejection.ok === false && activeRejection.status, 400);
    const usedRejection = apply(store, {
      type: 'root-key-delete',
      v: 1,
      keyId: inUse.key.KeyID,
      force: false,
    });
    assert.equal(usedRejection.ok === false && usedRejection.status, 400);
    assert.match(usedRejection.ok === false ? usedRejection.message : '', /alloc-0/);

    // The only allocation that key signed has completed, so its tokens no longer verify anyway.
    assert.equal(
      apply(store, { type: 'root-key-delete', v: 1, keyId: finished.key.KeyID, force: false }).ok,
      true,
    );
    assert.equal(
      apply(store, { type: 'root-key-delete', v: 1, keyId: inUse.key.KeyID, force: true }).ok,
      true,
    );
    assert.deepEqual(
      store.rootKeys().map((row) => row.Meta.KeyID),
      [active.key.KeyID],
    );
    const gone = apply(store, { type: 'root-key-delete', v: 1, keyId: inUse.key.KeyID, force: true });
    assert.equal(gone.ok === false && gone.status, 404);
  });

  test('allocations are found by the key that signed them', () => {
    const key = newKey();
    const store = storeWithAllocs(
      [key],
      [
        { keyId: key.key.KeyID, status: 'running' },
        { keyId: key.key.KeyID, status: 'failed' },
      ],
    );
    assert.deepEqual(
      store.allocationsBySigningKey(key.key.KeyID).map((alloc) => alloc.ID),
      ['alloc-0', 'alloc-1'],
    );
    assert.deepEqual(store.allocationsBySigningKey(randomUUID()), []);
  });

  test('invalid key commands name the field', () => {
    const key = newKey();
    const cases: [unknown, string][] = [
      [{ ...key, key: { ...key.key, KeyID: 'not-a-uuid' } }, 'key.KeyID'],
      [{ ...key, key: { ...key.key, Algorithm: 'rsa' } }, 'key.Algorithm'],
      [{ ...key, wrappedKey: key.wrappedKey.slice(4) }, 'wrappedKey'],
      [{ ...key, demoteTo: 'active' }, 'demoteTo'],
      [{ type: 'root-key-state', v: 1, keyId: key.key.KeyID, state: 'active' }, 'state'],
      [{ type: 'root-key-delete', v: 1, keyId: key.key.KeyID, force: 'yes' }, 'force'],
    ];
    for (const [command, field] of cases) {
      assert.throws(
        () => validateCommand(command as RootKeyCommand),
        (err: unknown) => err instanceof CommandError && err.field === field,
        field,
      );
    }
    // The error about a wrapped key gives its length, not its bytes.
    try {
      validateCommand({ ...key, wrappedKey: key.wrappedKey.slice(4) });
    } catch (err) {
      assert.ok(!(err as Error).message.includes(key.wrappedKey.slice(4, 40)));
    }
  });

  test('snapshots keep the keys and refuse two active ones', () => {
    const store = bootstrappedStore();
    apply(store, newKey(T0));
    apply(store, newKey(T0 + 1e9));
    const copy = bootstrappedStore();
    copy.restore(store.snapshot());
    assert.deepEqual(copy.rootKeys(), store.rootKeys());

    const image = snapshotPackr.unpack(store.snapshot()) as {
      tables: { rootKeys: { rows: { Meta: { State: string } }[] } };
    };
    for (const row of image.tables.rootKeys.rows) row.Meta.State = 'active';
    assert.throws(
      () => copy.restore(snapshotPackr.pack(image)),
      (err: unknown) => err instanceof SnapshotError && /at most one may be active/.test(err.message),
    );
  });
});

describe('allocation identities in plans', () => {
  test('a plan signed with a key removed since is rejected whole', () => {
    const old = newKey(T0);
    const store = storeWithAllocs([old], []);
    apply(store, newKey(T0 + 1e9));
    // Nothing uses the old key yet, so its removal is accepted while the plan is in flight.
    assert.equal(
      apply(store, { type: 'root-key-delete', v: 1, keyId: old.key.KeyID, force: false }).ok,
      true,
    );
    const before = store.tableIndex('allocs');
    const place = [
      makeAlloc({
        ID: 'signed-late',
        SignedIdentities: { server: 'aaa.bbb.ccc' },
        SigningKeyID: old.key.KeyID,
      }),
    ];
    const result = store.apply(
      store.latestIndex + 1,
      entry('plan-apply', { place, stop: [], evals: [], time: T0 }),
    );
    assert.equal(result.ok, false);
    assert.equal(result.ok === false && result.status, 409);
    assert.match(result.ok === false ? result.message : '', new RegExp(old.key.KeyID));
    assert.equal(store.allocation('signed-late'), null);
    assert.equal(store.tableIndex('allocs'), before);
  });

  test('an unsigned placement needs no key', () => {
    const store = storeWithAllocs([], []);
    applyOk(
      store,
      entry('plan-apply', { place: [makeAlloc({ ID: 'unsigned' })], stop: [], evals: [], time: T0 }),
    );
    assert.equal(store.allocation('unsigned')?.SigningKeyID, '');
  });
});

describe('allocation identities across versions', () => {
  test('plan-apply v1 reads allocations as unsigned and refuses identity fields', () => {
    const { SignedIdentities: _s, SigningKeyID: _k, ...unsigned } = makeAlloc();
    const v1 = { type: 'plan-apply', v: 1, place: [unsigned], stop: [], evals: [], time: T0 };
    const decoded = decodeCommand(encodeCommand(v1 as never));
    assert.equal(decoded.type, 'plan-apply');
    assert.equal(decoded.v, 2);
    const alloc = decoded.type === 'plan-apply' ? decoded.place[0]! : null;
    assert.deepEqual(alloc?.SignedIdentities, {});
    assert.equal(alloc?.SigningKeyID, '');

    assert.throws(
      () => validateCommand({ ...v1, place: [makeAlloc()] } as never),
      (err: unknown) => err instanceof CommandError && err.field.startsWith('place.0'),
    );
    assert.throws(
      () => validateCommand({ ...v1, v: 2 } as never),
      (err: unknown) => err instanceof CommandError && err.field.startsWith('place.0'),
    );
  });

  test('plan-apply v2 refuses a token that is not a compact JWS', () => {
    const place = [makeAlloc({ SignedIdentities: { server: 'not a token' }, SigningKeyID: randomUUID() })];
    assert.throws(
      () => validateCommand({ type: 'plan-apply', v: 2, place, stop: [], evals: [], time: T0 }),
      (err: unknown) => err instanceof CommandError && err.field === 'place.0.SignedIdentities.server',
    );
  });

  test('a version 2 snapshot restores with unsigned allocations and no keys', () => {
    const key = newKey();
    const store = storeWithAllocs([key], [{ keyId: key.key.KeyID, status: 'running' }]);
    const image = snapshotPackr.unpack(store.snapshot()) as {
      v: number;
      tables: Record<string, { rows: Record<string, unknown>[] }>;
    };
    image.v = 2;
    for (const table of Object.values(initialTables())) {
      if (table.spec.sinceSnapshotVersion > 2) delete image.tables[table.spec.name];
    }
    for (const row of image.tables.allocs!.rows) {
      delete row.SignedIdentities;
      delete row.SigningKeyID;
    }
    const copy = bootstrappedStore();
    copy.restore(snapshotPackr.pack(image));
    assert.deepEqual(copy.allocation('alloc-0')?.SignedIdentities, {});
    assert.equal(copy.allocation('alloc-0')?.SigningKeyID, '');
    assert.deepEqual(copy.rootKeys(), []);
  });
});
