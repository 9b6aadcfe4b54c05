import { type AclToken, type AclTokenTable, putAclToken } from './acl-tokens.js';
import { APPLIED, type ApplyResult, rejected } from './apply-result.js';
import { invalidSnapshotField } from './errors.js';
import { readFields, readInteger } from './fields.js';
import type { RowContext, Table, TableSpec, Transaction } from './table.js';

/** The one row of the aclBootstrap table, present once the ACL system has been bootstrapped. */
export interface AclBootstrapRecord {
  /** Raft index of the entry that last bootstrapped ACLs. A reset must name it as its reset index. */
  readonly BootstrapIndex: number;
}

export type AclBootstrapTable = Table<string, AclBootstrapRecord>;

/** Key of the only row, so the table cannot hold two records. */
const RECORD_KEY = 'bootstrap';

export interface AclBootstrapRequest {
  /** A management token, with its AccessorID, SecretID and CreateTime chosen by the proposer. */
  readonly token: AclToken;
  /** 0, or the BootstrapIndex of the current record to bootstrap again (an operator's reset). */
  readonly resetIndex: number;
}

/**
 * Creates the bootstrap management token, once. Later attempts are rejected with Nomad's messages
 * and status 400, unless `resetIndex` equals the recorded BootstrapIndex. Then the new token is
 * created too and this entry's index becomes the BootstrapIndex, so a reset index works only once.
 */
export function bootstrapAcl(
  txn: Transaction,
  tables: { readonly aclBootstrap: AclBootstrapTable; readonly aclTokens: AclTokenTable },
  request: AclBootstrapRequest,
): ApplyResult {
  const records = txn.draft(tables.aclBootstrap);
  const record = records.get(RECORD_KEY);
  if (record !== null && request.resetIndex !== record.BootstrapIndex) {
    if (request.resetIndex === 0) {
      return rejected(400, `ACL bootstrap already done (reset index: ${record.BootstrapIndex})`);
    }
    return rejected(
      400,
      `Invalid bootstrap reset index (specified ${request.resetIndex}, reset index: ${record.BootstrapIndex})`,
    );
  }

  const tokens = txn.draft(tables.aclTokens);
  const id = request.token.AccessorID;
  if (tokens.get(id) !== null) return rejected(409, `ACL token ${id} already exists`);
  const result = putAclToken(tokens, request.token, txn.index);
  if (!result.ok) return result;

  records.put(RECORD_KEY, Object.freeze({ BootstrapIndex: txn.index }));
  return APPLIED;
}

/** Returns the recorded BootstrapIndex, or null before the first bootstrap. */
export function bootstrapIndexOf(table: AclBootstrapTable): number | null {
  return table.get(RECORD_KEY)?.BootstrapIndex ?? null;
}

function decodeBootstrapRow(value: unknown, field: string, context: RowContext): AclBootstrapRecord {
  const f = readFields(value, field, ['BootstrapIndex'], invalidSnapshotField);
  return Object.freeze({
    BootstrapIndex: readInteger(
      f.BootstrapIndex,
      `${field}.BootstrapIndex`,
      invalidSnapshotField,
      1,
      context.tableIndex,
    ),
  });
}

/** The ACL bootstrap record: no row before the first bootstrap, one after. Added in snapshot version 4. */
export const aclBootstrapTableSpec: TableSpec<string, AclBootstrapRecord> = {
  name: 'aclBootstrap',
  sinceSnapshotVersion: 4,
  // Every row has the same key, so a snapshot with two rows is rejected as a repeated key.
  keyOf: () => RECORD_KEY,
  compareKeys: () => 0,
  initialRows: () => [],
  decodeRow: decodeBootstrapRow,
  checkRows() {},
  indexes: {},
};
