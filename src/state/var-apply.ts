import { APPLIED, type ApplyResult, rejected } from './apply-result.js';
import { type CommandReader, versions } from './command-reader.js';
import { invalidCommandField } from './errors.js';
import { readEnum, readFields, readInteger, readNanoseconds } from './fields.js';
import { MAX_INDEX } from './limits.js';
import { readKeyId } from './root-keys.js';
import type { Transaction } from './table.js';
import type { Tables } from './tables.js';
import {
  readVariableData,
  readVariableNamespace,
  readVariablePath,
  type VariableEncrypted,
  variableKey,
} from './variables.js';

/**
 * Operations of `var-apply`, as Nomad names them. `cas` and `delete-cas` apply only when
 * `casIndex` matches: 0 for a variable that does not exist, else its ModifyIndex.
 */
export type VariableOp = 'set' | 'cas' | 'delete' | 'delete-cas';

const VARIABLE_OPS: readonly VariableOp[] = Object.freeze(['set', 'cas', 'delete', 'delete-cas']);

/**
 * A variable as a command carries it. For `set` and `cas`, `Data` contains the items encrypted under
 * root key `KeyID` by the proposer. For deletes both are empty. `ModifyTime` is the proposer's
 * Unix time in nanoseconds, and it is also the CreateTime of a new variable.
 */
export interface VariableInput {
  readonly Namespace: string;
  readonly Path: string;
  readonly KeyID: string;
  readonly Data: string;
  readonly ModifyTime: number;
}

/**
 * Writes or deletes one variable. The state rejects a conflict with status 409 (a CAS mismatch),
 * a write into a namespace that does not exist with 400, and a write encrypted under a root key
 * that does not exist with 404, so a writer distinguishes a lost CAS race (respond with the
 * current variable) from a removed key (encrypt again under the active key) by the status alone.
 */
export type VariableCommand = {
  type: 'var-apply';
  v: 1;
  op: VariableOp;
  variable: VariableInput;
  casIndex: number;
};

const fail = invalidCommandField;

function readVariableInput(value: unknown, field: string, op: VariableOp): VariableInput {
  const f = readFields(value, field, ['Namespace', 'Path', 'KeyID', 'Data', 'ModifyTime'], fail);
  const isWrite = op === 'set' || op === 'cas';
  if (!isWrite) {
    if (f.KeyID !== '') throw fail(`${field}.KeyID`, `must be empty for ${op}`);
    if (f.Data !== '') throw fail(`${field}.Data`, `must be empty for ${op}`);
  }
  return Object.freeze({
    Namespace: readVariableNamespace(f.Namespace, `${field}.Namespace`, fail),
    Path: readVariablePath(f.Path, `${field}.Path`, fail),
    KeyID: isWrite ? readKeyId(f.KeyID, `${field}.KeyID`, fail) : '',
    Data: isWrite ? readVariableData(f.Data, `${field}.Data`, fail) : '',
    ModifyTime: readNanoseconds(f.ModifyTime, `${field}.ModifyTime`, fail),
  });
}

export const VARIABLE_READERS: readonly [string, ReadonlyMap<number, CommandReader<VariableCommand>>][] = [
  [
    'var-apply',
    versions([
      1,
      ['op', 'variable', 'casIndex'],
      (f) => {
        const op = readEnum(f.op, 'op', fail, VARIABLE_OPS);
        const isCas = op === 'cas' || op === 'delete-cas';
        return {
          type: 'var-apply',
          v: 1,
          op,
          variable: readVariableInput(f.variable, 'variable', op),
          casIndex: readInteger(f.casIndex, 'casIndex', fail, 0, isCas ? MAX_INDEX : 0),
        };
      },
    ]),
  ],
];

/**
 * Applies one `var-apply` command with Nomad's rules for each operation:
 * - `set` creates the variable, or replaces its KeyID, Data and ModifyTime and keeps CreateIndex
 *   and CreateTime. Data is ciphertext under a fresh nonce, so two sets of the same items differ
 *   and every set counts as a change: the writer compares the plaintext items before proposing,
 *   where Nomad's state store compares them after decrypting.
 * - `cas` sets when `casIndex` is 0 and the variable does not exist, or when `casIndex` equals
 *   its ModifyIndex. Otherwise it is a conflict.
 * - `delete` removes the variable, and succeeds without a change when it does not exist.
 * - `delete-cas` removes it under the same condition as `cas`. With `casIndex` 0 and no variable
 *   it succeeds without a change.
 */
export function applyVariable(txn: Transaction, tables: Tables, command: VariableCommand): ApplyResult {
  const { op, variable, casIndex } = command;
  const draft = txn.draft(tables.variables);
  const key = variableKey(variable.Namespace, variable.Path);
  const existing = draft.get(key);

  if (op === 'cas' || op === 'delete-cas') {
    const conflict = casConflict(existing, variable, casIndex);
    if (conflict !== null) return conflict;
  }
  // TODO: reject a set or delete of a locked variable from a caller without its lock ID, and add
  // the lock-acquire and lock-release operations, once variables carry locks.
  if (op === 'delete' || op === 'delete-cas') {
    if (existing !== null) draft.delete(key);
    return APPLIED;
  }

  if (txn.draft(tables.namespaces).get(variable.Namespace) === null) {
    return rejected(
      400,
      `variable ${JSON.stringify(variable.Path)} is in nonexistent namespace ${JSON.stringify(variable.Namespace)}`,
    );
  }
  // A key removed between encryption and this entry would leave data that no server can decrypt.
  if (txn.draft(tables.rootKeys).get(variable.KeyID) === null) {
    return rejected(
      404,
      `cannot write variable ${JSON.stringify(variable.Path)} in namespace ${variable.Namespace}: it was encrypted with root key ${variable.KeyID}, which no longer exists. Encrypt it again with the active key`,
    );
  }
  draft.put(
    key,
    Object.freeze({
      Namespace: variable.Namespace,
      Path: variable.Path,
      KeyID: variable.KeyID,
      Data: variable.Data,
      CreateIndex: existing?.CreateIndex ?? txn.index,
      CreateTime: existing?.CreateTime ?? variable.ModifyTime,
      ModifyIndex: txn.index,
      ModifyTime: variable.ModifyTime,
    }),
  );
  return APPLIED;
}

/** Returns the 409 rejection of a CAS operation whose index does not match, or null when it matches. */
function casConflict(
  existing: VariableEncrypted | null,
  variable: VariableInput,
  casIndex: number,
): ApplyResult | null {
  const name = `variable ${JSON.stringify(variable.Path)} in namespace ${variable.Namespace}`;
  if (casIndex === 0) {
    if (existing === null) return null;
    return rejected(
      409,
      `check-and-set conflict: ${name} already exists at ModifyIndex ${existing.ModifyIndex}, expected it absent (index 0)`,
    );
  }
  if (existing === null) {
    return rejected(409, `check-and-set conflict: ${name} does not exist, expected ModifyIndex ${casIndex}`);
  }
  if (existing.ModifyIndex !== casIndex) {
    return rejected(
      409,
      `check-and-set conflict: ${name} is at ModifyIndex ${existing.ModifyIndex}, expected ${casIndex}`,
    );
  }
  return null;
}
