import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import { decryptItems } from '../../src/keyring/index.js';
import { encodeCommand, validateCommand } from '../../src/state/commands.js';
import { CommandError } from '../../src/state/errors.js';
import type { ApplyResult, StateStore, VariableEncrypted } from '../../src/state/store.js';
import type { VariableCommand } from '../../src/state/var-apply.js';
import { variableItemsBytes } from '../../src/state/variables.js';
import {
  addRootKey,
  applyVar,
  applyVarOk,
  deleteCommand,
  type TestRootKey,
  writeCommand,
} from './variables-fixtures.js';
import { applyOk, bootstrappedStore, entry, T0 } from './workload-fixtures.js';

const ITEMS = Object.freeze({ user: 'admin', password: 'correct horse battery staple' });

function setup(): { store: StateStore; key: TestRootKey } {
  const store = bootstrappedStore();
  return { store, key: addRootKey(store) };
}

function assertRejected(result: ApplyResult, status: number): string {
  assert.equal(result.ok, false, 'the command was applied');
  assert.ok(!result.ok);
  assert.equal(result.reason, 'rejected');
  assert.equal(result.status, status, result.message);
  return result.message;
}

/** Asserts that a conflict message names `index` as a whole number. */
function assertNamesIndex(message: string, index: number): void {
  assert.match(message, new RegExp(`\\b${index}\\b`));
}

function commandErrorOf(value: unknown): CommandError {
  try {
    validateCommand(value);
  } catch (err) {
    assert.ok(err instanceof CommandError, `expected a CommandError, got ${String(err)}`);
    return err;
  }
  assert.fail('the command was accepted');
}

describe('var-apply: set', () => {
  test('creates a variable with both indexes at the entry', () => {
    const { store, key } = setup();
    const command = writeCommand(key, 'app/db', ITEMS, { time: T0 + 5 });
    const index = applyVarOk(store, command);

    const row = store.variable('default', 'app/db');
    assert.deepEqual(row, {
      Namespace: 'default',
      Path: 'app/db',
      KeyID: key.keyId,
      Data: command.variable.Data,
      CreateIndex: index,
      CreateTime: T0 + 5,
      ModifyIndex: index,
      ModifyTime: T0 + 5,
    });
    assert.ok(Object.isFrozen(row));
    assert.deepEqual(decryptItems(key.material, key.keyId, row!.Data), ITEMS);
    assert.equal(store.tableIndex('variables'), index);
  });

  test('replacing keeps CreateIndex and CreateTime', () => {
    const { store, key } = setup();
    const created = applyVarOk(store, writeCommand(key, 'app/db', ITEMS, { time: T0 }));
    const second = addRootKey(store);
    const replaced = applyVarOk(store, writeCommand(second, 'app/db', { user: 'ops' }, { time: T0 + 9 }));

    const row = store.variable('default', 'app/db')!;
    assert.equal(row.CreateIndex, created);
    assert.equal(row.CreateTime, T0);
    assert.equal(row.ModifyIndex, replaced);
    assert.equal(row.ModifyTime, T0 + 9);
    assert.equal(row.KeyID, second.keyId);
    assert.deepEqual(decryptItems(second.material, second.keyId, row.Data), { user: 'ops' });
  });

  test('same items again still count as a change', () => {
    // The data is ciphertext under a fresh nonce, so the state cannot see that the items are the
    // same: the writer compares plaintext before proposing.
    const { store, key } = setup();
    const first = applyVarOk(store, writeCommand(key, 'app/db', ITEMS));
    const before = store.variable('default', 'app/db')!;
    const second = applyVarOk(store, writeCommand(key, 'app/db', ITEMS));
    const after = store.variable('default', 'app/db')!;

    assert.notEqual(after.Data, before.Data);
    assert.equal(after.ModifyIndex, second);
    assert.equal(after.CreateIndex, first);
    assert.equal(store.tableIndex('variables'), second);
  });
});

describe('var-apply: check-and-set', () => {
  test('index 0 creates an absent variable', () => {
    const { store, key } = setup();
    const index = applyVarOk(store, writeCommand(key, 'app/db', ITEMS, { op: 'cas', casIndex: 0 }));
    assert.equal(store.variable('default', 'app/db')?.CreateIndex, index);
  });

  test('index 0 conflicts with an existing variable', () => {
    const { store, key } = setup();
    const created = applyVarOk(store, writeCommand(key, 'app/db', ITEMS));
    const before = store.variable('default', 'app/db');

    const message = assertRejected(
      applyVar(store, writeCommand(key, 'app/db', { user: 'x' }, { op: 'cas', casIndex: 0 })),
      409,
    );
    assertNamesIndex(message, created);
    assert.equal(store.variable('default', 'app/db'), before);
    assert.equal(store.tableIndex('variables'), created);
  });

  test('index N conflicts with an absent variable', () => {
    const { store, key } = setup();
    const message = assertRejected(
      applyVar(store, writeCommand(key, 'app/db', ITEMS, { op: 'cas', casIndex: 7 })),
      409,
    );
    assert.match(message, /does not exist/);
    assert.equal(store.variable('default', 'app/db'), null);
  });

  test('index N conflicts with another ModifyIndex', () => {
    const { store, key } = setup();
    const created = applyVarOk(store, writeCommand(key, 'app/db', ITEMS));
    const stale = created - 1;
    const message = assertRejected(
      applyVar(store, writeCommand(key, 'app/db', { user: 'x' }, { op: 'cas', casIndex: stale })),
      409,
    );
    assertNamesIndex(message, created);
    assert.deepEqual(decryptItems(key.material, key.keyId, store.variable('default', 'app/db')!.Data), ITEMS);
  });

  test('index N equal to ModifyIndex sets', () => {
    const { store, key } = setup();
    const created = applyVarOk(store, writeCommand(key, 'app/db', ITEMS, { time: T0 }));
    const updated = applyVarOk(
      store,
      writeCommand(key, 'app/db', { user: 'x' }, { op: 'cas', casIndex: created, time: T0 + 1 }),
    );
    const row = store.variable('default', 'app/db')!;
    assert.equal(row.ModifyIndex, updated);
    assert.equal(row.CreateIndex, created);
    assert.equal(row.CreateTime, T0);
    assert.equal(row.ModifyTime, T0 + 1);
    assert.deepEqual(decryptItems(key.material, key.keyId, row.Data), { user: 'x' });
  });

  test('two writers with the same index: the second loses', () => {
    const { store, key } = setup();
    const created = applyVarOk(store, writeCommand(key, 'app/db', ITEMS));
    const first = writeCommand(key, 'app/db', { writer: 'one' }, { op: 'cas', casIndex: created });
    const second = writeCommand(key, 'app/db', { writer: 'two' }, { op: 'cas', casIndex: created });
    const won = applyVarOk(store, first);
    assertNamesIndex(assertRejected(applyVar(store, second), 409), won);
    assert.deepEqual(decryptItems(key.material, key.keyId, store.variable('default', 'app/db')!.Data), {
      writer: 'one',
    });
  });
});

describe('var-apply: delete', () => {
  test('removes a variable', () => {
    const { store, key } = setup();
    applyVarOk(store, writeCommand(key, 'app/db', ITEMS));
    const index = applyVarOk(store, deleteCommand('app/db'));
    assert.equal(store.variable('default', 'app/db'), null);
    assert.equal(store.tableIndex('variables'), index);
  });

  test('an absent variable is a no-op', () => {
    const { store, key } = setup();
    const created = applyVarOk(store, writeCommand(key, 'other', ITEMS));
    const result = applyVar(store, deleteCommand('app/db'));
    assert.equal(result.ok, true);
    assert.equal(store.tableIndex('variables'), created, 'the table changed');
  });

  test('delete-cas 0 of an absent variable is a no-op', () => {
    const { store } = setup();
    const before = store.tableIndex('variables');
    assert.equal(applyVar(store, deleteCommand('app/db', { op: 'delete-cas', casIndex: 0 })).ok, true);
    assert.equal(store.tableIndex('variables'), before);
  });

  test('delete-cas 0 conflicts with an existing variable', () => {
    const { store, key } = setup();
    const created = applyVarOk(store, writeCommand(key, 'app/db', ITEMS));
    const message = assertRejected(
      applyVar(store, deleteCommand('app/db', { op: 'delete-cas', casIndex: 0 })),
      409,
    );
    assertNamesIndex(message, created);
    assert.notEqual(store.variable('default', 'app/db'), null);
  });

  test('delete-cas N conflicts with an absent variable', () => {
    const { store } = setup();
    const message = assertRejected(
      applyVar(store, deleteCommand('app/db', { op: 'delete-cas', casIndex: 4 })),
      409,
    );
    assert.match(message, /does not exist/);
  });

  test('delete-cas N conflicts with another ModifyIndex', () => {
    const { store, key } = setup();
    const created = applyVarOk(store, writeCommand(key, 'app/db', ITEMS));
    const message = assertRejected(
      applyVar(store, deleteCommand('app/db', { op: 'delete-cas', casIndex: created + 100 })),
      409,
    );
    assertNamesIndex(message, created);
    assert.notEqual(store.variable('default', 'app/db'), null);
  });

  test('delete-cas N equal to ModifyIndex removes', () => {
    const { store, key } = setup();
    const created = applyVarOk(store, writeCommand(key, 'app/db', ITEMS));
    applyVarOk(store, deleteCommand('app/db', { op: 'delete-cas', casIndex: created }));
    assert.equal(store.variable('default', 'app/db'), null);
  });
});

describe('var-apply: state checks', () => {
  test('namespace that does not exist is rejected', () => {
    const { store, key } = setup();
    const message = assertRejected(
      applyVar(store, writeCommand(key, 'app/db', ITEMS, { namespace: 'prod' })),
      400,
    );
    assert.match(message, /prod/);
    assert.equal(store.variables('*').length, 0);
  });

  test('namespace created later accepts the write', () => {
    const { store, key } = setup();
    applyOk(store, entry('namespace-upsert', { namespace: { Name: 'prod', Description: '', Meta: null } }));
    applyVarOk(store, writeCommand(key, 'app/db', ITEMS, { namespace: 'prod' }));
    assert.equal(store.variable('prod', 'app/db')?.Namespace, 'prod');
    assert.equal(store.variable('default', 'app/db'), null);
  });

  test('KeyID that names no root key is rejected', () => {
    const { store, key } = setup();
    const unknown: TestRootKey = { keyId: randomUUID(), material: key.material };
    const message = assertRejected(applyVar(store, writeCommand(unknown, 'app/db', ITEMS)), 404);
    assert.match(message, new RegExp(unknown.keyId));
    assert.equal(store.variable('default', 'app/db'), null);
  });

  test('KeyID of a removed key is rejected', () => {
    const { store, key } = setup();
    addRootKey(store);
    applyOk(store, entry('root-key-delete', { keyId: key.keyId, force: false }));
    assertRejected(applyVar(store, writeCommand(key, 'app/db', ITEMS)), 404);
  });

  test('a rejected write leaves the table as it was', () => {
    const { store, key } = setup();
    applyVarOk(store, writeCommand(key, 'app/db', ITEMS));
    const before = store.variables('*');
    const index = store.tableIndex('variables');
    assertRejected(applyVar(store, writeCommand(key, 'app/db', ITEMS, { op: 'cas', casIndex: 1 })), 409);
    assert.deepEqual(store.variables('*'), before);
    assert.equal(store.tableIndex('variables'), index);
  });
});

describe('var-apply: command validation', () => {
  /** Returns a valid set command as a plain object, to edit field by field. */
  function validSet(): Record<string, unknown> & { variable: Record<string, unknown> } {
    const { key } = setup();
    const command = writeCommand(key, 'app/db', ITEMS);
    return { ...command, variable: { ...command.variable } };
  }

  // Paths from Nomad's TestStructs_VariableDecrypted_Validate, plus the edges of the pattern and
  // of the reserved `nomad` directory.
  const PATHS: [path: string, valid: boolean][] = [
    ['', false],
    ['nomad', false],
    ['nomad/other', false],
    ['a/b/c', true],
    ['nomad/jobs', true],
    ['nomadjobs', true],
    ['nomad/jobs/whatever', true],
    ['example/_-~/whatever', true],
    ['example/@whatever', false],
    ['example/what.ever', false],
    ['nomad/job-templates', false],
    ['nomad/job-templates/whatever', true],
    ['nomad/job-templates/a/b', false],
    ['nomad/sentinel', true],
    ['nomad/sentinel/policy', true],
    ['nomad/jobsx', false],
    ['with space', false],
    ['a'.repeat(128), true],
    ['a'.repeat(129), false],
    ['über', false],
  ];
  for (const [path, valid] of PATHS) {
    test(`path ${JSON.stringify(path.length > 20 ? `${path.slice(0, 8)}...(${path.length})` : path)} is ${valid ? 'valid' : 'invalid'}`, () => {
      const command = validSet();
      command.variable.Path = path;
      if (valid) {
        assert.equal((validateCommand(command) as VariableCommand).variable.Path, path);
      } else {
        const err = commandErrorOf(command);
        assert.equal(err.code, 'INVALID_FIELD');
        assert.equal(err.field, 'variable.Path');
      }
    });
  }

  test('wildcard and malformed namespaces are rejected', () => {
    for (const namespace of ['*', '', 'has space', 7]) {
      const command = validSet();
      command.variable.Namespace = namespace;
      const err = commandErrorOf(command);
      assert.equal(err.code, 'INVALID_FIELD', String(namespace));
      assert.equal(err.field, 'variable.Namespace');
    }
  });

  test('KeyID must be a UUID for writes', () => {
    const command = validSet();
    command.variable.KeyID = 'not-a-uuid';
    assert.equal(commandErrorOf(command).field, 'variable.KeyID');
  });

  test('Data must be base64 of at least nonce and tag', () => {
    const cases: [string, unknown][] = [
      ['not base64', 'abc$'.repeat(10)],
      ['bad length', 'A'.repeat(41)],
      ['too short', Buffer.alloc(29).toString('base64')],
      ['empty', ''],
      ['not a string', Buffer.alloc(40)],
    ];
    for (const [name, data] of cases) {
      const command = validSet();
      command.variable.Data = data;
      const err = commandErrorOf(command);
      assert.equal(err.field, 'variable.Data', name);
    }
    const shortest = validSet();
    shortest.variable.Data = Buffer.alloc(30).toString('base64');
    assert.doesNotThrow(() => validateCommand(shortest));
  });

  test('deletes carry neither KeyID nor Data', () => {
    const command = { ...deleteCommand('app/db'), variable: { ...deleteCommand('app/db').variable } };
    assert.doesNotThrow(() => validateCommand(command));
    const withKey = { ...command, variable: { ...command.variable, KeyID: randomUUID() } };
    assert.equal(commandErrorOf(withKey).field, 'variable.KeyID');
    const withData = { ...command, op: 'delete-cas', variable: { ...command.variable, Data: 'AAAA' } };
    assert.equal(commandErrorOf(withData).field, 'variable.Data');
  });

  test('casIndex is 0 except for check-and-set', () => {
    const set = validSet();
    set.casIndex = 3;
    assert.equal(commandErrorOf(set).field, 'casIndex');
    const del = { ...deleteCommand('app/db'), casIndex: 3 };
    assert.equal(commandErrorOf(del).field, 'casIndex');
    const cas = validSet();
    cas.op = 'cas';
    cas.casIndex = 3;
    assert.equal((validateCommand(cas) as VariableCommand).casIndex, 3);
    cas.casIndex = -1;
    assert.equal(commandErrorOf(cas).field, 'casIndex');
  });

  test('unknown op and unknown fields are rejected', () => {
    const lock = validSet();
    lock.op = 'lock-acquire';
    assert.equal(commandErrorOf(lock).field, 'op');
    const extra = validSet();
    extra.variable.Items = { user: 'admin' };
    assert.equal(commandErrorOf(extra).field, 'variable.Items');
    const time = validSet();
    time.variable.ModifyTime = -1;
    assert.equal(commandErrorOf(time).field, 'variable.ModifyTime');
  });
});

describe('variables: queries', () => {
  function populated(): { store: StateStore; first: TestRootKey; second: TestRootKey } {
    const store = bootstrappedStore();
    for (const name of ['a', 'ab']) {
      applyOk(store, entry('namespace-upsert', { namespace: { Name: name, Description: '', Meta: null } }));
    }
    const first = addRootKey(store);
    applyVarOk(store, writeCommand(first, 'app/db', ITEMS));
    applyVarOk(store, writeCommand(first, 'app/cache', ITEMS));
    applyVarOk(store, writeCommand(first, 'apple', ITEMS));
    applyVarOk(store, writeCommand(first, 'app/db', ITEMS, { namespace: 'a' }));
    const second = addRootKey(store);
    applyVarOk(store, writeCommand(second, 'app/x', ITEMS, { namespace: 'ab' }));
    applyVarOk(store, writeCommand(second, 'zeta', ITEMS, { namespace: 'a' }));
    return { store, first, second };
  }

  const ids = (rows: VariableEncrypted[]) => rows.map((row) => `${row.Namespace}:${row.Path}`);

  test('one namespace, with and without a prefix', () => {
    const { store } = populated();
    assert.deepEqual(ids(store.variables('default')), [
      'default:app/cache',
      'default:app/db',
      'default:apple',
    ]);
    assert.deepEqual(ids(store.variables('default', 'app/')), ['default:app/cache', 'default:app/db']);
    assert.deepEqual(ids(store.variables('default', 'app')), [
      'default:app/cache',
      'default:app/db',
      'default:apple',
    ]);
    assert.deepEqual(ids(store.variables('default', 'nothing')), []);
    // Namespace `a` is a prefix of `ab`, but the two never mix.
    assert.deepEqual(ids(store.variables('a')), ['a:app/db', 'a:zeta']);
    assert.deepEqual(ids(store.variables('ab')), ['ab:app/x']);
    assert.deepEqual(ids(store.variables('missing')), []);
  });

  test('every namespace, sorted by namespace then path', () => {
    const { store } = populated();
    assert.deepEqual(ids(store.variables('*')), [
      'a:app/db',
      'a:zeta',
      'ab:app/x',
      'default:app/cache',
      'default:app/db',
      'default:apple',
    ]);
    assert.deepEqual(ids(store.variables('*', 'app/')), [
      'a:app/db',
      'ab:app/x',
      'default:app/cache',
      'default:app/db',
    ]);
  });

  test('by key follows re-encryption', () => {
    const { store, first, second } = populated();
    assert.deepEqual(ids(store.variablesByKey(first.keyId)), [
      'a:app/db',
      'default:app/cache',
      'default:app/db',
      'default:apple',
    ]);
    assert.deepEqual(ids(store.variablesByKey(second.keyId)), ['a:zeta', 'ab:app/x']);

    applyVarOk(store, writeCommand(second, 'app/db', ITEMS));
    applyVarOk(store, deleteCommand('apple'));
    assert.deepEqual(ids(store.variablesByKey(first.keyId)), ['a:app/db', 'default:app/cache']);
    assert.deepEqual(ids(store.variablesByKey(second.keyId)), ['a:zeta', 'ab:app/x', 'default:app/db']);
    assert.deepEqual(store.variablesByKey(randomUUID()), []);
  });

  test('a write wakes a blocking query on the table', async () => {
    const { store, key } = setup();
    const after = store.tableIndex('variables');
    const woken = store.waitForChange('variables', after, AbortSignal.timeout(5000));
    assert.equal(store.pendingWaits('variables'), 1);
    const index = applyVarOk(store, writeCommand(key, 'app/db', ITEMS));
    await woken;
    assert.equal(store.tableIndex('variables'), index);
  });

  test('items size counts UTF-8 bytes of keys and values', () => {
    assert.equal(variableItemsBytes({}), 0);
    assert.equal(variableItemsBytes({ a: 'bc', '': 'd' }), 4);
    assert.equal(variableItemsBytes({ é: '€' }), 2 + 3);
  });
});

describe('root key removal with variables', () => {
  test('a key that encrypts variables is kept without force', () => {
    const { store, key } = setup();
    applyVarOk(store, writeCommand(key, 'b/second', ITEMS));
    applyVarOk(store, writeCommand(key, 'a/first', ITEMS));
    addRootKey(store);

    const result = store.apply(
      store.latestIndex + 1,
      encodeCommand({ type: 'root-key-delete', v: 1, keyId: key.keyId, force: false }),
    );
    const message = assertRejected(result, 400);
    assert.match(message, /\b2 variable/);
    assert.match(message, /"a\/first"/);
    assert.notEqual(store.rootKey(key.keyId), null);
  });

  test('the key goes once its variables moved', () => {
    const { store, key } = setup();
    applyVarOk(store, writeCommand(key, 'app/db', ITEMS));
    const next = addRootKey(store);
    applyVarOk(store, writeCommand(next, 'app/db', ITEMS));
    applyOk(store, entry('root-key-delete', { keyId: key.keyId, force: false }));
    assert.equal(store.rootKey(key.keyId), null);
  });

  test('force removes the key and leaves its variables', () => {
    const { store, key } = setup();
    applyVarOk(store, writeCommand(key, 'app/db', ITEMS));
    addRootKey(store);
    applyOk(store, entry('root-key-delete', { keyId: key.keyId, force: true }));
    assert.equal(store.rootKey(key.keyId), null);
    assert.equal(store.variable('default', 'app/db')?.KeyID, key.keyId);
  });
});

describe('variables: plaintext in raw bytes', () => {
  test('the encoded command holds only ciphertext', () => {
    const { store, key } = setup();
    const secret = `s3cret-${randomUUID()}`;
    const itemKey = `api_token_${randomUUID().slice(0, 8)}`;
    const command = writeCommand(key, 'app/db', { [itemKey]: secret });
    const bytes = Buffer.from(encodeCommand(command));
    for (const text of [secret, itemKey]) {
      for (const form of [text, Buffer.from(text).toString('base64'), Buffer.from(text).toString('hex')]) {
        assert.equal(bytes.indexOf(form), -1, `the entry contains ${form}`);
      }
    }
    applyVarOk(store, command);
    assert.equal(JSON.stringify(store.variable('default', 'app/db')).includes(secret), false);
  });
});

describe('variables and their neighbours', () => {
  test('a namespace with variables is not deleted', () => {
    const store = bootstrappedStore();
    applyOk(store, entry('namespace-upsert', { namespace: { Name: 'team', Description: '', Meta: null } }));
    const key = addRootKey(store);
    applyVarOk(store, writeCommand(key, 'app/config', { a: '1' }, { namespace: 'team' }));

    const refused = store.apply(store.latestIndex + 1, entry('namespace-delete', { name: 'team' }));
    assert.equal(refused.ok, false);
    assert.equal(refused.ok === false && refused.status, 400);
    assert.notEqual(store.namespace('team'), null);

    applyVarOk(store, deleteCommand('app/config', { namespace: 'team' }));
    applyOk(store, entry('namespace-delete', { name: 'team' }));
    assert.equal(store.namespace('team'), null);
  });

  test('a full rotation marks every retired key for the rekey', () => {
    const store = bootstrappedStore();
    const first = addRootKey(store);
    const second = addRootKey(store);
    const third = addRootKey(store, 'rekeying');
    const state = (keyId: string) => store.rootKey(keyId)?.Meta.State;
    assert.equal(state(first.keyId), 'rekeying');
    assert.equal(state(second.keyId), 'rekeying');
    assert.equal(state(third.keyId), 'active');

    // A normal rotation leaves keys that are inactive or rekeying as they are.
    addRootKey(store);
    assert.equal(state(first.keyId), 'rekeying');
    assert.equal(state(third.keyId), 'inactive');
  });

  test('version 1 full rotation demotes active key only', () => {
    const store = bootstrappedStore();
    const first = addRootKey(store);
    const second = addRootKey(store);
    const keyId = randomUUID();
    const upsert = {
      type: 'root-key-upsert',
      v: 1,
      key: { KeyID: keyId, Algorithm: 'aes256-gcm', CreateTime: T0 },
      wrappedKey: Buffer.alloc(60, 7).toString('base64'),
      demoteTo: 'rekeying',
    } as const;
    applyOk(store, encodeCommand(upsert));
    assert.equal(store.rootKey(first.keyId)?.Meta.State, 'inactive');
    assert.equal(store.rootKey(second.keyId)?.Meta.State, 'rekeying');
  });
});
