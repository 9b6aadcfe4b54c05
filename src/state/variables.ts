import { CIPHERTEXT_OVERHEAD_BYTES, type VariableItems } from '../keyring/variable-crypto.js';
import { type FieldErrorFactory, invalidSnapshotField } from './errors.js';
import { readFields, readNanoseconds, readString } from './fields.js';
import { compareAscii } from './key-order.js';
import { MAX_VARIABLE_DATA_CHARS } from './limits.js';
import { NAMESPACE_NAME_PATTERN } from './namespaces.js';
import { readKeyId } from './root-keys.js';
import { checkRowIndexes } from './row-indexes.js';
import type { RowContext, Table, TableSpec } from './table.js';
import { variablePathProblem } from './var-path.js';

/**
 * A variable as it is stored in the replicated state, in Nomad's field names. `Data` is the base64 of
 * nonce || ciphertext || tag: the items encrypted under root key `KeyID`. The plaintext items never
 * enter the state, the Raft log or a snapshot. Times are Unix nanoseconds chosen by the proposer.
 */
export interface VariableEncrypted {
  readonly Namespace: string;
  readonly Path: string;
  readonly KeyID: string;
  readonly Data: string;
  readonly CreateIndex: number;
  readonly CreateTime: number;
  readonly ModifyIndex: number;
  readonly ModifyTime: number;
}

/**
 * Key of a variable in the variables table. Namespace names and paths contain no NUL, so the key
 * is unambiguous, and since NUL sorts first, keys sort by namespace, then by path.
 */
export function variableKey(namespace: string, path: string): string {
  return `${namespace}\u0000${path}`;
}

/**
 * Returns the size of items as Nomad limits it: the sum of the UTF-8 lengths of every key and
 * value. The writer compares it with MAX_VARIABLE_ITEMS_BYTES before encrypting.
 */
export function variableItemsBytes(items: VariableItems): number {
  let bytes = 0;
  for (const [key, value] of Object.entries(items)) {
    bytes += Buffer.byteLength(key, 'utf8') + Buffer.byteLength(value, 'utf8');
  }
  return bytes;
}

/** Reads the namespace of a variable: one existing namespace's name, never the wildcard `*`. */
export function readVariableNamespace(value: unknown, field: string, fail: FieldErrorFactory): string {
  if (value === '*') throw fail(field, 'must name one namespace, not the wildcard "*"');
  return readString(value, field, fail, { pattern: NAMESPACE_NAME_PATTERN });
}

export function readVariablePath(value: unknown, field: string, fail: FieldErrorFactory): string {
  const path = readString(value, field, fail);
  const problem = variablePathProblem(path);
  if (problem !== null) throw fail(field, problem);
  return path;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Nonce and tag, plus `{}`, the shortest JSON object. */
const MIN_DATA_BYTES = CIPHERTEXT_OVERHEAD_BYTES + 2;

/** Reads encrypted variable data: base64, long enough for a nonce and a tag, at most MAX_VARIABLE_DATA_CHARS. */
export function readVariableData(value: unknown, field: string, fail: FieldErrorFactory): string {
  if (typeof value === 'string' && value.length > MAX_VARIABLE_DATA_CHARS) {
    throw fail(field, `must be at most ${MAX_VARIABLE_DATA_CHARS} characters of base64, got ${value.length}`);
  }
  const text = readString(value, field, fail);
  // Describing ciphertext in a message is needless, so problems name only its length.
  if (text.length % 4 !== 0 || !BASE64.test(text)) {
    throw fail(
      field,
      `must be base64 of nonce, ciphertext and tag, got ${text.length} characters that do not decode`,
    );
  }
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const bytes = (text.length / 4) * 3 - padding;
  if (bytes < MIN_DATA_BYTES) {
    throw fail(
      field,
      `must hold at least ${MIN_DATA_BYTES} bytes (nonce, tag and a JSON object), got ${bytes}`,
    );
  }
  return text;
}

/**
 * Returns the variables of `namespace` whose path starts with `prefix`, sorted by path, or those of
 * every namespace for `*`, sorted by namespace, then path. A single namespace is found by binary
 * search in the sorted rows, so the cost grows with the rows returned, not with the table.
 */
export function listVariables(
  table: Table<string, VariableEncrypted, 'keyId'>,
  namespace: string,
  prefix: string,
): VariableEncrypted[] {
  const rows = table.list();
  if (namespace === '*') return rows.filter((row) => row.Path.startsWith(prefix));

  const start = variableKey(namespace, prefix);
  let low = 0;
  let high = rows.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareAscii(variableKeyOf(rows[middle]!), start) < 0) low = middle + 1;
    else high = middle;
  }
  const found: VariableEncrypted[] = [];
  for (let i = low; i < rows.length && variableKeyOf(rows[i]!).startsWith(start); i++) found.push(rows[i]!);
  return found;
}

/** Returns the table key of a variable row. */
export function variableKeyOf(row: VariableEncrypted): string {
  return variableKey(row.Namespace, row.Path);
}

const ROW_FIELDS = [
  'Namespace',
  'Path',
  'KeyID',
  'Data',
  'CreateIndex',
  'CreateTime',
  'ModifyIndex',
  'ModifyTime',
] as const;

function decodeVariableRow(value: unknown, field: string, context: RowContext): VariableEncrypted {
  const fail = invalidSnapshotField;
  const f = readFields(value, field, ROW_FIELDS, fail);
  checkRowIndexes(field, context, [
    ['CreateIndex', f.CreateIndex as number],
    ['ModifyIndex', f.ModifyIndex as number],
  ]);
  // checkRowIndexes has checked that both indexes are integers in range.
  return Object.freeze({
    Namespace: readVariableNamespace(f.Namespace, `${field}.Namespace`, fail),
    Path: readVariablePath(f.Path, `${field}.Path`, fail),
    KeyID: readKeyId(f.KeyID, `${field}.KeyID`, fail),
    Data: readVariableData(f.Data, `${field}.Data`, fail),
    CreateIndex: f.CreateIndex as number,
    CreateTime: readNanoseconds(f.CreateTime, `${field}.CreateTime`, fail),
    ModifyIndex: f.ModifyIndex as number,
    ModifyTime: readNanoseconds(f.ModifyTime, `${field}.ModifyTime`, fail),
  });
}

/**
 * Variables by `variableKey(Namespace, Path)`, with an index by the root key that encrypted them,
 * so that a rekey and the in-use check of a key removal find them without a scan. Added in
 * snapshot version 4.
 */
export const variableTableSpec: TableSpec<string, VariableEncrypted, 'keyId'> = {
  name: 'variables',
  sinceSnapshotVersion: 4,
  keyOf: variableKeyOf,
  // Namespace names and paths are ASCII, so code-unit order is byte order.
  compareKeys: compareAscii,
  initialRows: () => [],
  decodeRow: decodeVariableRow,
  checkRows() {},
  indexes: { keyId: (row) => row.KeyID },
};
