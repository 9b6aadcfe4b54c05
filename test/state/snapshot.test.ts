import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { type Command, encodeCommand } from '../../src/state/commands.js';
import { SnapshotError } from '../../src/state/errors.js';
import { SNAPSHOT_VERSION } from '../../src/state/snapshot-codec.js';
import { StateStore } from '../../src/state/store.js';

const plainPackr = new Packr({ useRecords: false });

function upsertNamespace(
  Name: string,
  Description = '',
  Meta: Record<string, string> | null = null,
): Uint8Array {
  return encodeCommand({ type: 'namespace-upsert', v: 1, namespace: { Name, Description, Meta } });
}

/** Returns a store with a few namespaces and servers, at latestIndex 6. */
function populatedStore(): StateStore {
  const store = new StateStore();
  store.advanceTo(1);
  store.apply(2, upsertNamespace('web', 'frontends', { team: 'a' }));
  store.apply(3, upsertNamespace('db'));
  store.apply(4, upsertNamespace('web', 'frontends 2', null));
  const server = { id: 42, name: 's1', rpcAddr: '10.0.0.1:4647', httpAddr: '10.0.0.1:4646' };
  store.apply(5, encodeCommand({ type: 'server-upsert', v: 1, server }));
  store.advanceTo(6);
  return store;
}

// Compares contents only: msgpackr attaches a `dataView` property to a buffer it decodes, which
// deepEqual would count as a difference.
function assertSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  assert.equal(Buffer.compare(actual, expected), 0, 'snapshot bytes differ');
}

function assertSameState(actual: StateStore, expected: StateStore): void {
  assert.equal(actual.latestIndex, expected.latestIndex);
  assert.equal(actual.tableIndex('namespaces'), expected.tableIndex('namespaces'));
  assert.equal(actual.tableIndex('servers'), expected.tableIndex('servers'));
  assert.deepEqual(actual.namespaces(), expected.namespaces());
  assert.deepEqual(actual.servers(), expected.servers());
  assertSameBytes(actual.snapshot(), expected.snapshot());
}

interface SnapshotShape {
  format: unknown;
  v: unknown;
  latestIndex: unknown;
  tables: Record<string, { index: unknown; rows: Record<string, unknown>[] } | undefined>;
}

/** Encodes the snapshot of `populatedStore()` after `edit` has changed its decoded form. */
function editedSnapshot(edit: (snapshot: SnapshotShape) => void): Uint8Array {
  const snapshot = plainPackr.unpack(populatedStore().snapshot()) as SnapshotShape;
  edit(snapshot);
  return plainPackr.pack(snapshot);
}

function namespaceRows(snapshot: SnapshotShape): Record<string, unknown>[] {
  return snapshot.tables.namespaces!.rows;
}

/** Returns the SnapshotError that `run` throws, failing the test when it throws anything else. */
function snapshotErrorOf(run: () => unknown): SnapshotError {
  try {
    run();
  } catch (err) {
    if (err instanceof SnapshotError) return err;
    throw err;
  }
  assert.fail('expected a SnapshotError');
}

describe('state snapshots', () => {
  test('restore reproduces every table', () => {
    const source = populatedStore();
    const copy = new StateStore();
    copy.restore(source.snapshot());
    assertSameState(copy, source);
    assert.equal(copy.namespace('web')!.CreateIndex, 2);
    assert.equal(copy.namespace('web')!.ModifyIndex, 4);
  });

  test('restore replaces existing state', () => {
    const target = new StateStore();
    target.advanceTo(1);
    target.apply(20, upsertNamespace('other'));
    const source = populatedStore();
    target.restore(source.snapshot());
    assertSameState(target, source);
    assert.equal(target.namespace('other'), null);
  });

  test('snapshot of a fresh store restores', () => {
    const store = new StateStore();
    store.restore(new StateStore().snapshot());
    assertSameState(store, new StateStore());
  });

  test('restored rows are frozen', () => {
    const store = new StateStore();
    store.restore(populatedStore().snapshot());
    assert.ok(Object.isFrozen(store.namespace('web')));
    assert.ok(Object.isFrozen(store.server(42)));
  });

  // [case, edit, expected field]
  const invalid: [string, (snapshot: SnapshotShape) => void, string][] = [
    ['another format', (s) => (s.format = 'etcd'), 'format'],
    ['newer version', (s) => (s.v = SNAPSHOT_VERSION + 1), 'v'],
    ['version 0', (s) => (s.v = 0), 'v'],
    ['negative latestIndex', (s) => (s.latestIndex = -1), 'latestIndex'],
    ['tables not a map', (s) => (s.tables = [] as unknown as SnapshotShape['tables']), 'tables'],
    ['unknown table', (s) => (s.tables.acl_tokens = { index: 1, rows: [] }), 'tables.acl_tokens'],
    ['missing table', (s) => delete s.tables.servers, 'tables.servers'],
    ['table index 0', (s) => (s.tables.namespaces!.index = 0), 'tables.namespaces.index'],
    ['table index past latestIndex', (s) => (s.tables.namespaces!.index = 7), 'tables.namespaces.index'],
    [
      'rows not an array',
      (s) => (s.tables.servers!.rows = {} as Record<string, unknown>[]),
      'tables.servers.rows',
    ],
    ['row without Meta', (s) => delete namespaceRows(s)[0]!.Meta, 'tables.namespaces.rows.0.Meta'],
    ['row with an unknown field', (s) => (namespaceRows(s)[0]!.Hash = 'x'), 'tables.namespaces.rows.0.Hash'],
    ['invalid name', (s) => (namespaceRows(s)[1]!.Name = 'a b'), 'tables.namespaces.rows.1.Name'],
    ['a quota', (s) => (namespaceRows(s)[0]!.Quota = 'q'), 'tables.namespaces.rows.0.Quota'],
    [
      'capabilities',
      (s) => (namespaceRows(s)[0]!.Capabilities = {}),
      'tables.namespaces.rows.0.Capabilities',
    ],
    ['CreateIndex 0', (s) => (namespaceRows(s)[0]!.CreateIndex = 0), 'tables.namespaces.rows.0.CreateIndex'],
    [
      'ModifyIndex below CreateIndex',
      (s) => (namespaceRows(s)[2]!.ModifyIndex = 1),
      'tables.namespaces.rows.2.ModifyIndex',
    ],
    [
      'ModifyIndex past the table index',
      (s) => (namespaceRows(s)[2]!.ModifyIndex = 5),
      'tables.namespaces.rows.2.ModifyIndex',
    ],
    ['repeated namespace', (s) => namespaceRows(s).push(namespaceRows(s)[0]!), 'tables.namespaces.rows.3'],
    [
      'no default namespace',
      (s) => (s.tables.namespaces!.rows = namespaceRows(s).filter((row) => row.Name !== 'default')),
      'tables.namespaces.rows',
    ],
    ['invalid server id', (s) => (s.tables.servers!.rows[0]!.id = -1), 'tables.servers.rows.0.id'],
    [
      'repeated server',
      (s) => s.tables.servers!.rows.push(s.tables.servers!.rows[0]!),
      'tables.servers.rows.1',
    ],
  ];
  for (const [name, edit, field] of invalid) {
    test(`rejects ${name} and keeps the old state`, () => {
      const store = populatedStore();
      const before = Buffer.from(store.snapshot());
      const err = snapshotErrorOf(() => store.restore(editedSnapshot(edit)));
      assert.equal(err.field, field);
      assertSameBytes(store.snapshot(), before);
    });
  }

  test('rejects bytes that are not MessagePack', () => {
    const store = populatedStore();
    assert.equal(snapshotErrorOf(() => store.restore(new Uint8Array([0xc1]))).field, 'snapshot');
    assert.equal(snapshotErrorOf(() => store.restore(plainPackr.pack([1]))).field, 'snapshot');
  });

  test('random and damaged bytes throw only SnapshotError', () => {
    const store = populatedStore();
    const before = Buffer.from(store.snapshot());
    const restoreOrReject = (bytes: Uint8Array): void => {
      try {
        store.restore(bytes);
      } catch (err) {
        if (!(err instanceof SnapshotError)) throw err;
        return;
      }
      // A damaged snapshot that still passes every check is a valid state; put the old one back.
      store.restore(before);
    };
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), restoreOrReject), {
      seed: 20261209,
      numRuns: 5_000,
    });
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
        (edits) => {
          const bytes = Buffer.from(before);
          for (const [position, byte] of edits) bytes[position % bytes.length] = byte;
          restoreOrReject(bytes);
        },
      ),
      { seed: 20261210, numRuns: 10_000 },
    );
    assertSameBytes(store.snapshot(), before);
  });
});

// Entries for the property test: commands over a few names and ids so that they collide, plus
// undecodable bytes and entries without a command.
const namespaceName = fc.constantFrom('default', 'web', 'db', 'a-1', 'Z');
const serverId = fc.constantFrom(1, 2, 2 ** 48 - 1);
const meta = fc.option(fc.dictionary(fc.constantFrom('team', 'tier', 'x'), fc.string({ maxLength: 8 })), {
  nil: null,
});
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.record({
    type: fc.constant('namespace-upsert' as const),
    v: fc.constant(1 as const),
    namespace: fc.record({ Name: namespaceName, Description: fc.string({ maxLength: 20 }), Meta: meta }),
  }),
  fc.record({
    type: fc.constant('namespace-delete' as const),
    v: fc.constant(1 as const),
    name: namespaceName,
  }),
  fc.record({
    type: fc.constant('server-upsert' as const),
    v: fc.constant(1 as const),
    server: fc.record({
      id: serverId,
      name: fc.constantFrom('s1', 's2'),
      rpcAddr: fc.constantFrom('127.0.0.1:4647', 'h:1'),
      httpAddr: fc.constantFrom('127.0.0.1:4646', '[::1]:2'),
    }),
  }),
  fc.record({ type: fc.constant('server-delete' as const), v: fc.constant(1 as const), id: serverId }),
);
type Step = { kind: 'apply'; data: Uint8Array; gap: number } | { kind: 'advance'; gap: number };
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('apply' as const),
      data: command.map(encodeCommand),
      gap: fc.integer({ min: 1, max: 3 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('apply' as const),
      data: fc.uint8Array({ maxLength: 8 }),
      gap: fc.constant(1),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('advance' as const), gap: fc.integer({ min: 1, max: 3 }) }),
  },
);

/** Applies `steps` from `store.latestIndex` on and returns the results of the apply steps. */
function run(store: StateStore, steps: readonly Step[]): unknown[] {
  const results: unknown[] = [];
  for (const s of steps) {
    const index = store.latestIndex + s.gap;
    if (s.kind === 'apply') results.push(store.apply(index, s.data));
    else store.advanceTo(index);
  }
  return results;
}

describe('snapshot property', () => {
  test('restore then apply equals apply all', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 60 }), fc.nat(), (steps, cutSeed) => {
        const cut = cutSeed % (steps.length + 1);

        const whole = new StateStore();
        whole.advanceTo(1);
        const wholeResults = run(whole, steps);

        const before = new StateStore();
        before.advanceTo(1);
        const headResults = run(before, steps.slice(0, cut));
        const restored = new StateStore();
        restored.restore(before.snapshot());
        const tailResults = run(restored, steps.slice(cut));

        assert.deepEqual([...headResults, ...tailResults], wholeResults);
        assertSameState(restored, whole);
      }),
      { seed: 20261211, numRuns: 500 },
    );
  });
});
