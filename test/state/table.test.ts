import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { allocTableSpec } from '../../src/state/allocs.js';
import { jobKey } from '../../src/state/job-key.js';
import { type Namespace, namespaceTableSpec } from '../../src/state/namespaces.js';
import { Table, Transaction } from '../../src/state/table.js';
import { makeAlloc } from './workload-fixtures.js';

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

describe('secondary indexes', () => {
  const alloc = (ID: string, NodeID: string, JobID = 'web') =>
    Object.freeze(makeAlloc({ ID, NodeID, JobID }));

  test('draft reads see pending writes', () => {
    const table = Table.initial(allocTableSpec);
    const setup = new Transaction(2);
    setup.draft(table).put('a1', alloc('a1', 'n1'));
    setup.draft(table).put('a2', alloc('a2', 'n1'));
    setup.commit();

    const txn = new Transaction(3);
    const draft = txn.draft(table);
    draft.put('a1', alloc('a1', 'n2')); // moved
    draft.put('a3', alloc('a3', 'n1'));
    draft.put('a3', alloc('a3', 'n3')); // written twice, last write wins
    draft.delete('a2');
    const ids = (node: string) =>
      draft
        .rowsBy('node', node)
        .map((row) => row.ID)
        .sort();
    assert.deepEqual(ids('n1'), []);
    assert.deepEqual(ids('n2'), ['a1']);
    assert.deepEqual(ids('n3'), ['a3']);
    // Nothing is visible outside the transaction before it commits.
    assert.deepEqual(
      table.listBy('node', 'n1').map((row) => row.ID),
      ['a1', 'a2'],
    );

    txn.commit();
    assert.deepEqual(table.listBy('node', 'n1'), []);
    assert.equal(table.bucket('node', 'n1'), undefined, 'an emptied bucket is dropped');
    assert.deepEqual(
      table.listBy('node', 'n2').map((row) => row.ID),
      ['a1'],
    );
    assert.deepEqual(
      table.listBy('job', jobKey('default', 'web')).map((row) => row.ID),
      ['a1', 'a3'],
    );
  });

  test('rows found by index are in key order', () => {
    const table = Table.initial(allocTableSpec);
    const txn = new Transaction(2);
    for (const id of ['c', 'a', 'b']) txn.draft(table).put(id, alloc(id, 'n1'));
    txn.commit();
    assert.deepEqual(
      table.listBy('node', 'n1').map((row) => row.ID),
      ['a', 'b', 'c'],
    );
  });
});
