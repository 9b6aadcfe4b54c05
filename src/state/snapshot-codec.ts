import { invalidSnapshotField, SnapshotError } from './errors.js';
import { describeValue, isPlainObject, joinField, readFields, readInteger } from './fields.js';
import { snapshotPackr } from './msgpack.js';
import { Table, type TableSection, type TableSpec } from './table.js';
import { buildTables, TABLE_NAMES, type TableName, type Tables } from './tables.js';

/** Marks the bytes as a Signet state snapshot, so that other data handed to `restore` is rejected early. */
export const SNAPSHOT_FORMAT = 'signet-state';

/**
 * Version of the snapshot layout. Raise it when a table is added (its spec's
 * `sinceSnapshotVersion` is the new number) or when a table's row layout changes. Older versions
 * stay readable: a table newer than the snapshot starts with its initial rows, and `decodeRow`
 * receives the version so that it can convert old rows.
 *
 * Version 1 contains namespaces and servers. Version 2 adds jobs, evals, allocs and nodes, and
 * encodes with msgpackr records (see `snapshotPackr`). Version 3 adds rootKeys, and allocations
 * with their signed identities. Version 4 adds aclPolicies, aclTokens, aclBootstrap and variables.
 */
export const SNAPSHOT_VERSION = 4;

/** Everything a snapshot holds: the Raft index the state reflects and every table. */
export interface StateImage {
  readonly latestIndex: number;
  readonly tables: Tables;
}

const fail = invalidSnapshotField;

export function encodeSnapshot(image: StateImage): Uint8Array {
  const sections: Partial<Record<TableName, TableSection>> = {};
  for (const name of TABLE_NAMES) sections[name] = image.tables[name].section();
  return snapshotPackr.pack({
    format: SNAPSHOT_FORMAT,
    v: SNAPSHOT_VERSION,
    latestIndex: image.latestIndex,
    tables: sections,
  });
}

/** Decodes and checks a whole snapshot into new tables. Throws SnapshotError, and nothing else, for any bytes. */
export function decodeSnapshot(bytes: Uint8Array): StateImage {
  let value: unknown;
  try {
    value = snapshotPackr.unpack(bytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new SnapshotError('snapshot', `is not valid MessagePack: ${reason}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !isPlainObject(value)) {
    throw new SnapshotError('snapshot', `must be a map, got ${describeValue(value)}`);
  }

  const top = readFields(value, '', ['format', 'v', 'latestIndex', 'tables'], fail);
  if (top.format !== SNAPSHOT_FORMAT) {
    throw fail('format', `must be ${JSON.stringify(SNAPSHOT_FORMAT)}, got ${describeValue(top.format)}`);
  }
  const version = readInteger(top.v, 'v', fail, 1, SNAPSHOT_VERSION);
  const latestIndex = readInteger(top.latestIndex, 'latestIndex', fail, 0, Number.MAX_SAFE_INTEGER);

  const sections = top.tables;
  if (
    typeof sections !== 'object' ||
    sections === null ||
    Array.isArray(sections) ||
    !isPlainObject(sections)
  ) {
    throw fail('tables', `must be a map, got ${describeValue(sections)}`);
  }
  for (const name of Object.keys(sections)) {
    if (!(TABLE_NAMES as readonly string[]).includes(name))
      throw fail(joinField('tables', name), 'is not a known table');
  }
  const sectionOf = (name: TableName): unknown =>
    Object.hasOwn(sections, name) ? (sections as Record<string, unknown>)[name] : undefined;

  const tables = buildTables((spec) => decodeSection(spec, sectionOf(spec.name), version, latestIndex));
  return { latestIndex, tables };
}

function decodeSection<Key, Row, IndexName extends string>(
  spec: TableSpec<Key, Row, IndexName>,
  section: unknown,
  snapshotVersion: number,
  latestIndex: number,
): Table<Key, Row, IndexName> {
  const field = joinField('tables', spec.name);
  if (spec.sinceSnapshotVersion > snapshotVersion) {
    if (section !== undefined) throw fail(field, `is not part of snapshot version ${snapshotVersion}`);
    return Table.initial(spec);
  }
  if (section === undefined) throw fail(field, 'is missing');

  const fields = readFields(section, field, ['index', 'rows'], fail);
  // A snapshot taken before the first entry has latestIndex 0, while tables start at index 1.
  const tableIndex = readInteger(fields.index, `${field}.index`, fail, 1, Math.max(1, latestIndex));
  if (!Array.isArray(fields.rows))
    throw fail(`${field}.rows`, `must be an array, got ${describeValue(fields.rows)}`);

  const rows = new Map<Key, Row>();
  const context = { snapshotVersion, tableIndex };
  for (let i = 0; i < fields.rows.length; i++) {
    const rowField = `${field}.rows.${i}`;
    const row = spec.decodeRow(fields.rows[i], rowField, context);
    const key = spec.keyOf(row);
    if (rows.has(key)) throw fail(rowField, `repeats the key ${describeValue(key)} of an earlier row`);
    rows.set(key, row);
  }
  spec.checkRows(rows, `${field}.rows`);
  return new Table(spec, rows, tableIndex);
}
