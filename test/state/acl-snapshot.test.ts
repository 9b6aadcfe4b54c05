import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SnapshotError } from '../../src/state/errors.js';
import { snapshotPackr } from '../../src/state/msgpack.js';
import { SNAPSHOT_VERSION } from '../../src/state/snapshot-codec.js';
import { StateStore } from '../../src/state/store.js';
import { initialTables } from '../../src/state/tables.js';
import {
  accessorId,
  bootstrap,
  jobAcl,
  makePolicy,
  makeToken,
  managementToken,
  secretId,
  upsertPolicies,
  upsertTokens,
} from './acl-fixtures.js';
import { applyOk, bootstrappedStore, entry, T0 } from './workload-fixtures.js';

interface SnapshotShape {
  v: number;
  tables: Record<string, { index: number; rows: Record<string, unknown>[] } | undefined>;
}

/** Builds a store with policies, tokens and a bootstrap record, several of them updated. */
function aclStore(): StateStore {
  const store = bootstrappedStore();
  applyOk(store, entry('namespace-upsert', { namespace: { Name: 'web', Description: '', Meta: null } }));
  applyOk(
    store,
    upsertPolicies(
      makePolicy(),
      makePolicy({ Name: 'job', JobACL: jobAcl('web', 'api', 'frontend', 'server') }),
      makePolicy({ Name: 'ns', JobACL: jobAcl('web') }),
    ),
  );
  applyOk(store, bootstrap(managementToken(1)));
  applyOk(
    store,
    upsertTokens(makeToken({ AccessorID: accessorId(2), SecretID: secretId(2), ExpirationTime: T0 + 1e12 })),
  );
  applyOk(store, upsertPolicies(makePolicy({ Description: 'changed' })));
  applyOk(
    store,
    upsertTokens(makeToken({ AccessorID: accessorId(3), SecretID: secretId(3), Policies: ['job', 'ns'] })),
  );
  applyOk(store, entry('acl-token-delete', { accessorIds: [accessorId(3)] }));
  return store;
}

function assertSameAcls(actual: StateStore, expected: StateStore): void {
  assert.deepEqual(actual.aclPolicies(), expected.aclPolicies());
  assert.deepEqual(actual.aclTokens(), expected.aclTokens());
  assert.equal(actual.aclBootstrapIndex(), expected.aclBootstrapIndex());
  for (const table of ['aclPolicies', 'aclTokens', 'aclBootstrap'] as const) {
    assert.equal(actual.tableIndex(table), expected.tableIndex(table), table);
  }
  assert.equal(Buffer.compare(actual.snapshot(), expected.snapshot()), 0, 'snapshot bytes differ');
}

function decoded(store: StateStore): SnapshotShape {
  return snapshotPackr.unpack(store.snapshot()) as SnapshotShape;
}

function rowsOf(snapshot: SnapshotShape, table: string): Record<string, unknown>[] {
  return snapshot.tables[table]!.rows;
}

function snapshotErrorOf(run: () => unknown): SnapshotError {
  try {
    run();
  } catch (err) {
    if (err instanceof SnapshotError) return err;
    throw err;
  }
  assert.fail('expected a SnapshotError');
}

describe('ACL snapshots', () => {
  test('restore reproduces ACL tables', () => {
    const source = aclStore();
    const copy = new StateStore();
    copy.restore(source.snapshot());
    assertSameAcls(copy, source);
    assert.equal(copy.aclTokenBySecret(secretId(2))?.AccessorID, accessorId(2));
    assert.equal(copy.aclTokenBySecret(secretId(3)), null);
    assert.deepEqual(
      copy.aclPoliciesForJob('web', 'api').map((policy) => policy.Name),
      ['job', 'ns'],
    );
    assert.ok(Object.isFrozen(copy.aclToken(accessorId(1))));

    // Both go on the same way: the secret index and the bootstrap record came back whole.
    for (const store of [source, copy]) {
      const clash = store.apply(
        store.latestIndex + 1,
        upsertTokens(makeToken({ AccessorID: accessorId(9), SecretID: secretId(2) })),
      );
      assert.equal(clash.ok === false && clash.status, 409);
      const again = store.apply(store.latestIndex + 1, bootstrap(managementToken(8)));
      assert.equal(again.ok, false);
    }
    assertSameAcls(copy, source);
  });

  test('version 3 restores empty ACL tables', () => {
    const image = decoded(aclStore());
    image.v = 3;
    for (const table of Object.values(initialTables())) {
      if (table.spec.sinceSnapshotVersion > 3) delete image.tables[table.spec.name];
    }
    const store = aclStore();
    store.restore(snapshotPackr.pack(image));

    assert.deepEqual(
      store.namespaces().map((ns) => ns.Name),
      ['default', 'web'],
    );
    assert.deepEqual(store.aclPolicies(), []);
    assert.deepEqual(store.aclTokens(), []);
    assert.equal(store.aclBootstrapIndex(), null);
    assert.equal(store.aclTokenBySecret(secretId(1)), null);
    assert.deepEqual(store.aclPoliciesForJob('web', 'api'), []);
    for (const table of ['aclPolicies', 'aclTokens', 'aclBootstrap'] as const)
      assert.equal(store.tableIndex(table), 1);

    // The restored state bootstraps, and snapshots at the current version.
    const index = applyOk(store, bootstrap(managementToken(1)));
    assert.equal(store.aclBootstrapIndex(), index);
    assert.equal(decoded(store).v, SNAPSHOT_VERSION);
  });

  // [case, edit, field the error names]
  const invalid: [string, (snapshot: SnapshotShape) => void, string][] = [
    ['ACL table in a version 3 snapshot', (s) => (s.v = 3), 'tables.aclPolicies'],
    ['missing aclTokens table', (s) => delete s.tables.aclTokens, 'tables.aclTokens'],
    [
      'two tokens with one secret',
      (s) => (rowsOf(s, 'aclTokens')[1]!.SecretID = secretId(1)),
      'tables.aclTokens.rows',
    ],
    [
      'token secret not a UUID',
      (s) => (rowsOf(s, 'aclTokens')[0]!.SecretID = 'secret'),
      'tables.aclTokens.rows.0.SecretID',
    ],
    [
      'client token without policies',
      (s) => (rowsOf(s, 'aclTokens')[1]!.Policies = []),
      'tables.aclTokens.rows.1.Policies',
    ],
    [
      'token modified after the table',
      (s) => (rowsOf(s, 'aclTokens')[0]!.ModifyIndex = 1000),
      'tables.aclTokens.rows.0.ModifyIndex',
    ],
    [
      'token with CreateIndex 0',
      (s) => (rowsOf(s, 'aclTokens')[0]!.CreateIndex = 0),
      'tables.aclTokens.rows.0.CreateIndex',
    ],
    [
      'policy modified before creation',
      (s) => (rowsOf(s, 'aclPolicies')[0]!.ModifyIndex = 1),
      'tables.aclPolicies.rows.0.ModifyIndex',
    ],
    [
      'policy with a bad JobACL',
      (s) => (rowsOf(s, 'aclPolicies')[0]!.JobACL = jobAcl('', 'api')),
      'tables.aclPolicies.rows.0.JobACL',
    ],
    [
      'two bootstrap records',
      (s) => rowsOf(s, 'aclBootstrap').push({ ...rowsOf(s, 'aclBootstrap')[0]! }),
      'tables.aclBootstrap.rows.1',
    ],
    [
      'bootstrap index above the table index',
      (s) => (rowsOf(s, 'aclBootstrap')[0]!.BootstrapIndex = 1000),
      'tables.aclBootstrap.rows.0.BootstrapIndex',
    ],
  ];
  for (const [name, edit, field] of invalid) {
    test(`rejects ${name}`, () => {
      const image = decoded(aclStore());
      edit(image);
      const store = aclStore();
      const before = store.snapshot();
      const err = snapshotErrorOf(() => store.restore(snapshotPackr.pack(image)));
      assert.equal(err.field, field);
      // A rejected snapshot leaves the state as it was.
      assert.equal(Buffer.compare(store.snapshot(), before), 0);
    });
  }
});

// Commands over a few names and ids, so that updates, clashes and rejections happen often.
const policyName = fc.constantFrom('a', 'b', 'c');
const small = fc.integer({ min: 1, max: 4 });
const policyArb = fc.record({
  Name: policyName,
  Description: fc.string({ maxLength: 8 }),
  Rules: fc.string({ maxLength: 16 }),
  JobACL: fc.option(
    fc.constantFrom(jobAcl('default'), jobAcl('default', 'web'), jobAcl('default', 'web', 'g', 't')),
    { nil: null },
  ),
  CreateIndex: fc.constant(0),
  ModifyIndex: fc.constant(0),
});
const tokenArb = fc
  .record({
    n: small,
    secret: small,
    management: fc.boolean(),
    policies: fc.uniqueArray(policyName, { minLength: 1, maxLength: 3 }),
    global: fc.boolean(),
    expires: fc.boolean(),
  })
  .map((t) =>
    makeToken({
      AccessorID: accessorId(t.n),
      SecretID: secretId(t.secret),
      Type: t.management ? 'management' : 'client',
      Policies: t.management ? [] : t.policies,
      Global: t.global,
      ExpirationTime: t.expires ? T0 + 1e12 : null,
    }),
  );
const commandArb = fc.oneof(
  fc
    .uniqueArray(policyArb, { minLength: 1, maxLength: 3, selector: (p) => p.Name })
    .map((policies) => entry('acl-policy-upsert', { policies })),
  fc
    .uniqueArray(policyName, { minLength: 1, maxLength: 2 })
    .map((names) => entry('acl-policy-delete', { names })),
  fc
    .uniqueArray(tokenArb, { minLength: 1, maxLength: 3, selector: (t) => t.AccessorID })
    .map((tokens) => entry('acl-token-upsert', { tokens })),
  fc
    .uniqueArray(small, { minLength: 1, maxLength: 2 })
    .map((ns) => entry('acl-token-delete', { accessorIds: ns.map(accessorId) })),
  fc
    .tuple(small, fc.integer({ min: 0, max: 30 }))
    .map(([n, resetIndex]) => bootstrap(managementToken(n, { SecretID: secretId(n + 10) }), resetIndex)),
);

describe('ACL replay', () => {
  test('same entries give same state', () => {
    fc.assert(
      fc.property(fc.array(commandArb, { minLength: 1, maxLength: 25 }), fc.nat(), (entries, cut) => {
        const first = bootstrappedStore();
        const second = bootstrappedStore();
        const split = cut % (entries.length + 1);
        let third: StateStore | null = split === 0 ? bootstrappedStore() : null;

        entries.forEach((data, i) => {
          const index = i + 2;
          const result = first.apply(index, data);
          assert.deepEqual(second.apply(index, data), result);
          if (third !== null) assert.deepEqual(third.apply(index, data), result);
          if (i + 1 === split) {
            third = new StateStore();
            third.restore(first.snapshot());
          }
        });
        assertSameAcls(second, first);
        assertSameAcls(third!, first);
      }),
      { numRuns: 200 },
    );
  });
});
