import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { Packr } from 'msgpackr';
import { encryptItems } from '../../src/keyring/index.js';
import { SnapshotError } from '../../src/state/errors.js';
import { MAX_VARIABLE_DATA_CHARS, MAX_VARIABLE_ITEMS_BYTES } from '../../src/state/limits.js';
import { decodeSnapshot, encodeSnapshot } from '../../src/state/snapshot-codec.js';
import { StateStore } from '../../src/state/store.js';
import { initialTables, TABLE_NAMES } from '../../src/state/tables.js';
import { variableItemsBytes } from '../../src/state/variables.js';
import { addRootKey, applyVarOk, deleteCommand, writeCommand } from './variables-fixtures.js';
import { applyOk, bootstrappedStore, entry, T0 } from './workload-fixtures.js';

const plainPackr = new Packr({ useRecords: false });

const SECRET = `hunter2-${randomUUID()}`;

interface SnapshotShape {
  v: number;
  tables: Record<string, { index: number; rows: Record<string, unknown>[] } | undefined>;
}

/** Returns a store with variables in two namespaces under two keys, one of them replaced and one deleted. */
function variableStore(): StateStore {
  const store = bootstrappedStore();
  applyOk(store, entry('namespace-upsert', { namespace: { Name: 'prod', Description: '', Meta: null } }));
  const first = addRootKey(store);
  applyVarOk(store, writeCommand(first, 'app/db', { password: SECRET }, { time: T0 }));
  applyVarOk(store, writeCommand(first, 'nomad/jobs/web', { port: '8080' }, { namespace: 'prod' }));
  applyVarOk(store, writeCommand(first, 'gone', { a: 'b' }));
  applyVarOk(store, deleteCommand('gone'));
  const second = addRootKey(store, 'rekeying');
  applyVarOk(store, writeCommand(second, 'app/db', { password: SECRET, user: 'admin' }, { time: T0 + 1 }));
  return store;
}

function editedSnapshot(edit: (snapshot: SnapshotShape) => void): Uint8Array {
  const snapshot = plainPackr.unpack(variableStore().snapshot()) as SnapshotShape;
  edit(snapshot);
  return plainPackr.pack(snapshot);
}

function firstVariableRow(snapshot: SnapshotShape): Record<string, unknown> {
  return snapshot.tables.variables!.rows[0]!;
}

function snapshotErrorOf(bytes: Uint8Array): SnapshotError {
  try {
    new StateStore().restore(bytes);
  } catch (err) {
    if (err instanceof SnapshotError) return err;
    throw err;
  }
  assert.fail('expected a SnapshotError');
}

describe('variable snapshots', () => {
  test('restore reproduces rows, indexes and the table index', () => {
    const source = variableStore();
    const copy = new StateStore();
    copy.restore(source.snapshot());

    assert.deepEqual(copy.variables('*'), source.variables('*'));
    assert.equal(copy.variables('*').length, 2);
    assert.equal(copy.tableIndex('variables'), source.tableIndex('variables'));
    for (const key of source.rootKeys()) {
      assert.deepEqual(copy.variablesByKey(key.Meta.KeyID), source.variablesByKey(key.Meta.KeyID));
    }
    assert.deepEqual(copy.variables('prod'), source.variables('prod'));
    assert.ok(Object.isFrozen(copy.variable('default', 'app/db')));
    assert.equal(Buffer.compare(copy.snapshot(), source.snapshot()), 0, 'snapshot bytes differ');
  });

  test('decoding and encoding again gives the same bytes', () => {
    const bytes = variableStore().snapshot();
    assert.equal(Buffer.compare(Buffer.from(encodeSnapshot(decodeSnapshot(bytes))), Buffer.from(bytes)), 0);
  });

  test('the snapshot holds only ciphertext', () => {
    const bytes = Buffer.from(variableStore().snapshot());
    for (const form of [
      SECRET,
      Buffer.from(SECRET).toString('base64'),
      Buffer.from(SECRET).toString('hex'),
    ]) {
      assert.equal(bytes.indexOf(form), -1, `the snapshot contains ${form}`);
    }
    assert.equal(bytes.indexOf('password'), -1, 'the snapshot contains an item key');
  });

  test('a version 3 snapshot restores with no variables', () => {
    const source = variableStore();
    const snapshot = plainPackr.unpack(source.snapshot()) as SnapshotShape;
    snapshot.v = 3;
    const tables = initialTables();
    for (const table of TABLE_NAMES) {
      if (tables[table].spec.sinceSnapshotVersion > 3) delete snapshot.tables[table];
    }
    const copy = new StateStore();
    copy.restore(plainPackr.pack(snapshot));
    assert.deepEqual(copy.variables('*'), []);
    assert.equal(copy.tableIndex('variables'), 1);
    assert.equal(copy.rootKeys().length, 2);
  });

  test('a version 3 snapshot with a variables section is rejected', () => {
    const error = snapshotErrorOf(
      editedSnapshot((snapshot) => {
        snapshot.v = 3;
        const tables = initialTables();
        for (const table of TABLE_NAMES) {
          if (table !== 'variables' && tables[table].spec.sinceSnapshotVersion > 3) {
            delete snapshot.tables[table];
          }
        }
      }),
    );
    assert.equal(error.field, 'tables.variables');
  });

  const INVALID_ROWS: [name: string, edit: (row: Record<string, unknown>) => void, field: string][] = [
    ['reserved path', (row) => (row.Path = 'nomad/other'), 'Path'],
    ['wildcard namespace', (row) => (row.Namespace = '*'), 'Namespace'],
    ['KeyID not a UUID', (row) => (row.KeyID = 'key-1'), 'KeyID'],
    ['Data not base64', (row) => (row.Data = '!!!!'.repeat(12)), 'Data'],
    ['Data too long', (row) => (row.Data = 'A'.repeat(MAX_VARIABLE_DATA_CHARS + 4)), 'Data'],
    [
      'ModifyIndex below CreateIndex',
      (row) => (row.ModifyIndex = (row.CreateIndex as number) - 1),
      'ModifyIndex',
    ],
    ['ModifyIndex above the table', (row) => (row.ModifyIndex = 1_000_000), 'ModifyIndex'],
    ['negative CreateTime', (row) => (row.CreateTime = -1), 'CreateTime'],
    ['plaintext Items', (row) => (row.Items = { password: 'x' }), 'Items'],
    ['missing Data', (row) => delete row.Data, 'Data'],
  ];
  for (const [name, edit, field] of INVALID_ROWS) {
    test(`rejects a row with ${name}`, () => {
      const target = variableStore();
      const before = target.variables('*');
      const bytes = editedSnapshot((snapshot) => edit(firstVariableRow(snapshot)));
      const error = snapshotErrorOf(bytes);
      assert.equal(error.field, `tables.variables.rows.0.${field}`);
      assert.throws(() => target.restore(bytes), SnapshotError);
      assert.deepEqual(target.variables('*'), before, 'a failed restore changed the state');
    });
  }

  test('rejects a repeated variable key', () => {
    const error = snapshotErrorOf(
      editedSnapshot((snapshot) => {
        const rows = snapshot.tables.variables!.rows;
        rows.push({ ...rows[0]! });
      }),
    );
    assert.equal(error.field, 'tables.variables.rows.2');
  });
});

describe('variable data bound', () => {
  test('the largest escaped items fit the Data limit', () => {
    // A control character is one byte of an item but six bytes of JSON, the worst expansion.
    const material = Buffer.alloc(32, 7);
    const keyId = randomUUID();
    const items = { '': '\u0001'.repeat(MAX_VARIABLE_ITEMS_BYTES) };
    assert.equal(variableItemsBytes(items), MAX_VARIABLE_ITEMS_BYTES);
    const data = encryptItems(material, keyId, items);
    assert.ok(data.length <= MAX_VARIABLE_DATA_CHARS, `${data.length} > ${MAX_VARIABLE_DATA_CHARS}`);

    const many: Record<string, string> = {};
    let bytes = 0;
    for (let i = 0; bytes + 6 <= MAX_VARIABLE_ITEMS_BYTES; i++) {
      const name = `\u0001${i.toString(36)}`;
      many[name] = '"';
      bytes += Buffer.byteLength(name) + 1;
    }
    assert.ok(variableItemsBytes(many) <= MAX_VARIABLE_ITEMS_BYTES);
    assert.ok(encryptItems(material, keyId, many).length <= MAX_VARIABLE_DATA_CHARS);
  });
});
