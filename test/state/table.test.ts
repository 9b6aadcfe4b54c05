import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Namespace, namespaceTableSpec } from '../../src/state/namespaces.js';
import { Table, Transaction } from '../../src/state/table.js';

function row(Name: string, index: number): Namespace {
  return Object.freeze({
    Name,
    Description: '',
    Quota: '',
    Meta: null,
    Capabilities: null,
    CreateIndex: index,
    ModifyIndex: index,
  });
}

describe('table transactions', () => {
  test('uncommitted writes stay invisible', () => {
    const table = Table.initial(namespaceTableSpec);
    const txn = new Transaction(4);
    const draft = txn.draft(table);
    draft.put('web', row('web', 4));
    draft.delete('default');

    assert.equal(draft.get('web')?.Name, 'web');
    assert.equal(draft.get('default'), null);
    assert.equal(table.get('web'), null);
    assert.notEqual(table.get('default'), null);
    assert.equal(table.index, 1);
  });

  test('commit writes every draft and sets the index', () => {
    const table = Table.initial(namespaceTableSpec);
    const txn = new Transaction(4);
    txn.draft(table).put('web', row('web', 4));
    txn.draft(table).put('db', row('db', 4));
    assert.deepEqual(txn.commit(), ['namespaces']);
    assert.equal(table.index, 4);
    assert.deepEqual(
      table.list().map((ns) => ns.Name),
      ['db', 'default', 'web'],
    );
  });

  test('transaction without writes changes nothing', () => {
    const table = Table.initial(namespaceTableSpec);
    const txn = new Transaction(4);
    txn.draft(table).get('default');
    assert.deepEqual(txn.commit(), []);
    assert.equal(table.index, 1);
  });

  test('sorted list is rebuilt after a commit', () => {
    const table = Table.initial(namespaceTableSpec);
    const first = table.list();
    assert.equal(table.list(), first);
    const txn = new Transaction(2);
    txn.draft(table).put('a', row('a', 2));
    txn.commit();
    assert.deepEqual(
      first.map((ns) => ns.Name),
      ['default'],
    );
    assert.deepEqual(
      table.list().map((ns) => ns.Name),
      ['a', 'default'],
    );
    assert.ok(Object.isFrozen(table.list()));
  });
});
