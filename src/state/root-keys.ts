import { ROOT_KEY_ALGORITHM, type RootKeyMeta, type RootKeyState } from '../keyring/root-key.js';
import { WRAPPED_ROOT_KEY_BYTES } from '../keyring/wrap.js';
import { type Allocation, isClientTerminal } from '../structs/allocation.js';
import { APPLIED, type ApplyResult, rejected } from './apply-result.js';
import { type FieldErrorFactory, invalidSnapshotField } from './errors.js';
import { describeValue, readEnum, readFields, readNanoseconds, readString } from './fields.js';
import { compareAscii } from './key-order.js';
import { checkRowIndexes } from './row-indexes.js';
import type { RowContext, Table, TableSpec, Transaction } from './table.js';
import type { Tables } from './tables.js';
import { variableKeyOf } from './variables.js';

/**
 * A root key as the replicated state contains it: metadata and the material wrapped under the
 * key-encryption key (base64 of nonce, ciphertext and tag). The plaintext never enters the state.
 */
export interface StoredRootKey {
  readonly Meta: RootKeyMeta;
  readonly WrappedKey: string;
}

/** A new root key as a command carries it; apply sets the Raft indexes. */
export interface RootKeyInput {
  readonly KeyID: string;
  readonly Algorithm: typeof ROOT_KEY_ALGORITHM;
  /** Unix nanoseconds, chosen by the proposer. */
  readonly CreateTime: number;
}

export const ROOT_KEY_STATES: readonly RootKeyState[] = Object.freeze([
  'active',
  'inactive',
  'rekeying',
  'deprecated',
]);

/** State of the previously active key once a new key takes over: `rekeying` for a full rotation. */
export type DemotedState = 'inactive' | 'rekeying';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
// Base64 of exactly WRAPPED_ROOT_KEY_BYTES (60) bytes: 80 characters without padding.
const WRAPPED_KEY_CHARS = Math.ceil(WRAPPED_ROOT_KEY_BYTES / 3) * 4;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export function readKeyId(value: unknown, field: string, fail: FieldErrorFactory): string {
  return readString(value, field, fail, { minBytes: 36, maxBytes: 36, pattern: UUID });
}

export function readWrappedKey(value: unknown, field: string, fail: FieldErrorFactory): string {
  const text = readString(value, field, fail, { maxBytes: 128 });
  if (text.length !== WRAPPED_KEY_CHARS || !BASE64.test(text)) {
    // The value is ciphertext, but echoing it is needless, so the message gives only its length.
    throw fail(
      field,
      `must be ${WRAPPED_KEY_CHARS} characters of base64 (a ${WRAPPED_ROOT_KEY_BYTES}-byte wrapped key), got ${text.length} characters`,
    );
  }
  return text;
}

export function readRootKeyInput(value: unknown, field: string, fail: FieldErrorFactory): RootKeyInput {
  const f = readFields(value, field, ['KeyID', 'Algorithm', 'CreateTime'], fail);
  return Object.freeze({
    KeyID: readKeyId(f.KeyID, `${field}.KeyID`, fail),
    Algorithm: readEnum(f.Algorithm, `${field}.Algorithm`, fail, [ROOT_KEY_ALGORITHM]),
    CreateTime: readNanoseconds(f.CreateTime, `${field}.CreateTime`, fail),
  });
}

/**
 * Inserts a new root key as the one active key. The key that was active takes `demoteTo` in the
 * same entry, so no reader ever sees two active keys or none once one exists. With `rekeying` and
 * `rekeyRetired`, inactive keys become `rekeying` too.
 */
export function insertActiveRootKey(
  txn: Transaction,
  table: Table<string, StoredRootKey>,
  input: {
    readonly key: RootKeyInput;
    readonly wrappedKey: string;
    readonly demoteTo: DemotedState;
    /** Marks inactive keys `rekeying` too on a full rotation (root-key-upsert version 2). */
    readonly rekeyRetired: boolean;
  },
): ApplyResult {
  const draft = txn.draft(table);
  if (draft.get(input.key.KeyID) !== null) {
    return rejected(409, `root key ${input.key.KeyID} already exists`);
  }
  // A full rotation (demoteTo `rekeying`) re-encrypts everything under the new key, so the keys
  // retired by earlier rotations are marked for the rekey too, as in Nomad.
  for (const row of table.list()) {
    const demote =
      row.Meta.State === 'active' ||
      (input.rekeyRetired && input.demoteTo === 'rekeying' && row.Meta.State === 'inactive');
    if (demote) draft.put(row.Meta.KeyID, withState(row, input.demoteTo, txn.index));
  }
  const meta: RootKeyMeta = Object.freeze({
    ...input.key,
    CreateIndex: txn.index,
    ModifyIndex: txn.index,
    State: 'active',
  });
  draft.put(input.key.KeyID, Object.freeze({ Meta: meta, WrappedKey: input.wrappedKey }));
  return APPLIED;
}

/** Marks a key inactive, as the end of a rekey does. The active key can only lose its state to a new key. */
export function deactivateRootKey(
  txn: Transaction,
  table: Table<string, StoredRootKey>,
  keyId: string,
): ApplyResult {
  const draft = txn.draft(table);
  const row = draft.get(keyId);
  if (row === null) return rejected(404, `root key ${keyId} not found`);
  if (row.Meta.State === 'active') {
    return rejected(400, `root key ${keyId} is active; rotate to a new key instead of deactivating it`);
  }
  if (row.Meta.State !== 'inactive') draft.put(keyId, withState(row, 'inactive', txn.index));
  return APPLIED;
}

/**
 * Removes a root key. The active key is refused. Without `force`, so is a key that signed the
 * identities of an allocation whose tasks may still run, because their tokens would fail on every
 * server, and a key that encrypts variables, because their items would become unreadable.
 */
export function deleteRootKey(
  txn: Transaction,
  tables: Tables,
  request: { readonly keyId: string; readonly force: boolean },
): ApplyResult {
  const draft = txn.draft(tables.rootKeys);
  const row = draft.get(request.keyId);
  if (row === null) return rejected(404, `root key ${request.keyId} not found`);
  if (row.Meta.State === 'active') {
    return rejected(
      400,
      `root key ${request.keyId} is active and cannot be removed: rotate the keyring first`,
    );
  }
  if (!request.force) {
    const users = txn.draft(tables.allocs).rowsBy('signingKey', request.keyId).filter(identityInUse);
    if (users.length > 0) {
      return rejected(
        400,
        `root key ${request.keyId} signed the identities of ${users.length} allocation(s) that may still run, such as ${users[0]!.ID}; remove it with force to revoke those identities`,
      );
    }
    const variables = txn.draft(tables.variables).rowsBy('keyId', request.keyId);
    if (variables.length > 0) {
      // The first in key order, so that every replica names the same one.
      const example = variables.reduce((a, b) => (variableKeyOf(b) < variableKeyOf(a) ? b : a));
      return rejected(
        400,
        `root key ${request.keyId} encrypts ${variables.length} variable(s), such as ${JSON.stringify(example.Path)} in namespace ${example.Namespace}; removing it with force leaves them unreadable`,
      );
    }
  }
  draft.delete(request.keyId);
  return APPLIED;
}

/**
 * True while an allocation's identities still verify: verification rejects them by the same rule,
 * so a key that signed only finished allocations revokes nothing when it goes.
 */
export function identityInUse(alloc: Pick<Allocation, 'ClientStatus'>): boolean {
  return !isClientTerminal(alloc.ClientStatus);
}

function withState(row: StoredRootKey, state: RootKeyState, index: number): StoredRootKey {
  return Object.freeze({ ...row, Meta: Object.freeze({ ...row.Meta, State: state, ModifyIndex: index }) });
}

const META_FIELDS = ['KeyID', 'Algorithm', 'CreateTime', 'CreateIndex', 'ModifyIndex', 'State'] as const;

function decodeRootKeyRow(value: unknown, field: string, context: RowContext): StoredRootKey {
  const fail = invalidSnapshotField;
  const f = readFields(value, field, ['Meta', 'WrappedKey'], fail);
  const m = readFields(f.Meta, `${field}.Meta`, META_FIELDS, fail);
  checkRowIndexes(`${field}.Meta`, context, [
    ['CreateIndex', m.CreateIndex as number],
    ['ModifyIndex', m.ModifyIndex as number],
  ]);
  // checkRowIndexes has checked that both indexes are integers in range.
  const meta: RootKeyMeta = Object.freeze({
    ...readRootKeyInput(
      { KeyID: m.KeyID, Algorithm: m.Algorithm, CreateTime: m.CreateTime },
      `${field}.Meta`,
      fail,
    ),
    CreateIndex: m.CreateIndex as number,
    ModifyIndex: m.ModifyIndex as number,
    State: readEnum(m.State, `${field}.Meta.State`, fail, ROOT_KEY_STATES),
  });
  return Object.freeze({ Meta: meta, WrappedKey: readWrappedKey(f.WrappedKey, `${field}.WrappedKey`, fail) });
}

function checkOneActive(rows: ReadonlyMap<string, StoredRootKey>, field: string): void {
  const active = [...rows.values()].filter((row) => row.Meta.State === 'active');
  if (active.length > 1) {
    throw invalidSnapshotField(
      field,
      `has ${active.length} active root keys (${describeValue(active.map((row) => row.Meta.KeyID))}); at most one may be active`,
    );
  }
}

/** Root keys by key id. Added in snapshot version 3. */
export const rootKeyTableSpec: TableSpec<string, StoredRootKey> = {
  name: 'rootKeys',
  sinceSnapshotVersion: 3,
  keyOf: (row) => row.Meta.KeyID,
  compareKeys: compareAscii,
  initialRows: () => [],
  decodeRow: decodeRootKeyRow,
  checkRows: checkOneActive,
  indexes: {},
};
