import { APPLIED, type ApplyResult, rejected } from './apply-result.js';
import { type FieldErrorFactory, invalidSnapshotField } from './errors.js';
import { readFields, readInteger, readString, readStringMap } from './fields.js';
import type { RowContext, Table, TableSpec, Transaction } from './table.js';
import type { Tables } from './tables.js';

/** The namespace that always exists and cannot be deleted. */
export const DEFAULT_NAMESPACE = 'default';
export const DEFAULT_NAMESPACE_DESCRIPTION = 'Default shared namespace';

/** Name rule and description limit of Nomad's namespaces (Namespace.Validate in nomad/structs). */
export const NAMESPACE_NAME_PATTERN = /^[a-zA-Z0-9-]{1,128}$/;
export const MAX_NAMESPACE_DESCRIPTION_BYTES = 256;

/** The fields of a namespace that a client sets. */
export interface NamespaceInput {
  Name: string;
  Description: string;
  Meta: Record<string, string> | null;
}

/** A namespace row in Nomad's JSON shape. */
export interface Namespace {
  readonly Name: string;
  readonly Description: string;
  /** Always '': resource quotas are a Nomad Enterprise feature that Signet does not have. */
  readonly Quota: string;
  readonly Meta: Readonly<Record<string, string>> | null;
  /** Always null: per-namespace task driver and network capabilities are not implemented. */
  readonly Capabilities: null;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
}

export function readNamespaceInput(value: unknown, field: string, fail: FieldErrorFactory): NamespaceInput {
  return checkNamespaceInput(readFields(value, field, ['Name', 'Description', 'Meta'], fail), field, fail);
}

function checkNamespaceInput(
  fields: Record<'Name' | 'Description' | 'Meta', unknown>,
  field: string,
  fail: FieldErrorFactory,
): NamespaceInput {
  return {
    Name: readString(fields.Name, `${field}.Name`, fail, { pattern: NAMESPACE_NAME_PATTERN }),
    Description: readString(fields.Description, `${field}.Description`, fail, {
      maxBytes: MAX_NAMESPACE_DESCRIPTION_BYTES,
    }),
    Meta: readStringMap(fields.Meta, `${field}.Meta`, fail),
  };
}

function namespaceRow(input: NamespaceInput, createIndex: number, modifyIndex: number): Namespace {
  return Object.freeze({
    Name: input.Name,
    Description: input.Description,
    Quota: '',
    Meta: input.Meta === null ? null : Object.freeze({ ...input.Meta }),
    Capabilities: null,
    CreateIndex: createIndex,
    ModifyIndex: modifyIndex,
  });
}

/** Creates or replaces a namespace. Replacing keeps its CreateIndex, as Nomad does. */
export function upsertNamespace(
  txn: Transaction,
  table: Table<string, Namespace>,
  input: NamespaceInput,
): ApplyResult {
  const draft = txn.draft(table);
  const existing = draft.get(input.Name);
  draft.put(input.Name, namespaceRow(input, existing?.CreateIndex ?? txn.index, txn.index));
  return APPLIED;
}

/**
 * Deletes a namespace. The messages are Nomad's: "can not delete default namespace" comes from its
 * namespace endpoint and "namespace not found" from its state store. Nomad returns both with
 * status 500 because they are uncoded errors. Signet uses 400 and 404 so that clients can tell a
 * bad request from a missing namespace. A namespace that still contains jobs, even stopped ones,
 * is kept (400), so that no job outlives its namespace.
 */
export function deleteNamespace(txn: Transaction, tables: Tables, name: string): ApplyResult {
  if (name === DEFAULT_NAMESPACE) return rejected(400, 'can not delete default namespace');
  const draft = txn.draft(tables.namespaces);
  if (draft.get(name) === null) return rejected(404, 'namespace not found');
  if (tables.jobs.list().some((job) => job.Namespace === name)) {
    return rejected(400, `cannot delete namespace ${JSON.stringify(name)}: it has jobs; purge them first`);
  }
  // Variables are keyed by namespace and path; rows left behind would reappear in a namespace
  // created later under the same name.
  if (tables.variables.list().some((variable) => variable.Namespace === name)) {
    return rejected(
      400,
      `cannot delete namespace ${JSON.stringify(name)}: it has variables; purge them first`,
    );
  }
  draft.delete(name);
  return APPLIED;
}

/** Orders names as Nomad lists them. UTF-16 code-unit order equals Go's byte order for ASCII names. */
function compareNames(a: string, b: string): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

const ROW_FIELDS = [
  'Name',
  'Description',
  'Quota',
  'Meta',
  'Capabilities',
  'CreateIndex',
  'ModifyIndex',
] as const;

function decodeNamespaceRow(value: unknown, field: string, context: RowContext): Namespace {
  const fail = invalidSnapshotField;
  const fields = readFields(value, field, ROW_FIELDS, fail);
  const input = checkNamespaceInput(fields, field, fail);
  if (fields.Quota !== '') throw fail(`${field}.Quota`, 'must be empty because quotas are not supported');
  if (fields.Capabilities !== null) {
    throw fail(`${field}.Capabilities`, 'must be null because namespace capabilities are not supported');
  }
  const createIndex = readInteger(fields.CreateIndex, `${field}.CreateIndex`, fail, 1, context.tableIndex);
  const modifyIndex = readInteger(
    fields.ModifyIndex,
    `${field}.ModifyIndex`,
    fail,
    createIndex,
    context.tableIndex,
  );
  return namespaceRow(input, createIndex, modifyIndex);
}

export const namespaceTableSpec: TableSpec<string, Namespace> = {
  name: 'namespaces',
  sinceSnapshotVersion: 1,
  keyOf: (row) => row.Name,
  compareKeys: compareNames,
  initialRows: () => [
    namespaceRow({ Name: DEFAULT_NAMESPACE, Description: DEFAULT_NAMESPACE_DESCRIPTION, Meta: null }, 1, 1),
  ],
  decodeRow: decodeNamespaceRow,
  checkRows(rows, field) {
    if (!rows.has(DEFAULT_NAMESPACE))
      throw invalidSnapshotField(field, `has no ${DEFAULT_NAMESPACE} namespace`);
  },
  indexes: {},
};
