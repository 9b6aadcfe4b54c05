import { createHash, timingSafeEqual } from 'node:crypto';
import { checkNoRepeats, readAccessorId, readPolicyName, readSecretId } from './acl-fields.js';
import { APPLIED, type ApplyResult, rejected } from './apply-result.js';
import { readArray } from './collection-fields.js';
import { type FieldErrorFactory, invalidSnapshotField } from './errors.js';
import { readBoolean, readEnum, readFields, readNanoseconds, readString } from './fields.js';
import { readIndex } from './job-fields.js';
import { compareAscii } from './key-order.js';
import { MAX_TOKEN_POLICIES } from './limits.js';
import { checkRowIndexes } from './row-indexes.js';
import type { RowContext, Table, TableDraft, TableSpec, Transaction } from './table.js';

export type AclTokenType = 'client' | 'management';

export const ACL_TOKEN_TYPES: readonly AclTokenType[] = Object.freeze(['client', 'management']);

/** Nomad's limit on a token's Name. */
export const MAX_TOKEN_NAME_BYTES = 256;

/** An ACL token row in Nomad's JSON shape. */
export interface AclToken {
  /** Public UUID that names the token in the API and in logs. */
  readonly AccessorID: string;
  /** The bearer credential, a UUID. It must never reach a log line or an error message. */
  readonly SecretID: string;
  readonly Name: string;
  readonly Type: AclTokenType;
  /** Policy names: at least one for a client token, none for a management token. */
  readonly Policies: readonly string[];
  readonly Global: boolean;
  /** Unix nanoseconds, chosen by the proposer when the token is created and kept by updates. */
  readonly CreateTime: number;
  /** Unix nanoseconds from which the token is expired, or null for a token that never expires. */
  readonly ExpirationTime: number | null;
  readonly CreateIndex: number;
  readonly ModifyIndex: number;
}

/** Table of ACL tokens keyed by AccessorID, with the index that finds a token by its secret. */
export type AclTokenTable = Table<string, AclToken, 'secret'>;

const TOKEN_FIELDS = [
  'AccessorID',
  'SecretID',
  'Name',
  'Type',
  'Policies',
  'Global',
  'CreateTime',
  'ExpirationTime',
  'CreateIndex',
  'ModifyIndex',
] as const;

/**
 * Checks a token in Nomad's JSON shape and returns a frozen copy. No error names the SecretID's
 * value. A command's CreateIndex and ModifyIndex are read but not kept, because apply sets them.
 */
export function readAclToken(value: unknown, field: string, fail: FieldErrorFactory): AclToken {
  const f = readFields(value, field, TOKEN_FIELDS, fail);
  const token: AclToken = Object.freeze({
    AccessorID: readAccessorId(f.AccessorID, `${field}.AccessorID`, fail),
    SecretID: readSecretId(f.SecretID, `${field}.SecretID`, fail),
    Name: readString(f.Name, `${field}.Name`, fail, { maxBytes: MAX_TOKEN_NAME_BYTES }),
    Type: readEnum(f.Type, `${field}.Type`, fail, ACL_TOKEN_TYPES),
    Policies: readTokenPolicies(f.Policies, `${field}.Policies`, fail),
    Global: readBoolean(f.Global, `${field}.Global`, fail),
    CreateTime: readNanoseconds(f.CreateTime, `${field}.CreateTime`, fail),
    ExpirationTime:
      f.ExpirationTime === null ? null : readNanoseconds(f.ExpirationTime, `${field}.ExpirationTime`, fail),
    CreateIndex: readIndex(f.CreateIndex, `${field}.CreateIndex`, fail),
    ModifyIndex: readIndex(f.ModifyIndex, `${field}.ModifyIndex`, fail),
  });

  if (token.Type === 'client' && token.Policies.length === 0) {
    throw fail(`${field}.Policies`, 'must name at least one policy for a client token');
  }
  if (token.Type === 'management' && token.Policies.length > 0) {
    throw fail(
      `${field}.Policies`,
      `must be empty for a management token, got ${token.Policies.length} names`,
    );
  }
  if (token.SecretID.toLowerCase() === token.AccessorID.toLowerCase()) {
    throw fail(`${field}.SecretID`, 'must differ from AccessorID, which is public');
  }
  if (token.ExpirationTime !== null && token.ExpirationTime < token.CreateTime) {
    throw fail(
      `${field}.ExpirationTime`,
      `must not be before CreateTime (${token.CreateTime}), got ${token.ExpirationTime}`,
    );
  }
  return token;
}

function readTokenPolicies(value: unknown, field: string, fail: FieldErrorFactory): readonly string[] {
  const names = readArray(value, field, fail, MAX_TOKEN_POLICIES, (item, itemField) =>
    readPolicyName(item, itemField, fail),
  );
  checkNoRepeats(names, field, fail, (name) => name, 'policy name');
  return names;
}

/**
 * Creates or updates each token by AccessorID, or none of them when one is rejected. See
 * `putAclToken` for the rules.
 */
export function upsertAclTokens(
  txn: Transaction,
  table: AclTokenTable,
  tokens: readonly AclToken[],
): ApplyResult {
  const draft = txn.draft(table);
  for (const token of tokens) {
    const result = putAclToken(draft, token, txn.index);
    if (!result.ok) return result;
  }
  return APPLIED;
}

/**
 * Writes one token into `draft`. An update keeps CreateTime and CreateIndex, and is rejected (400)
 * when it changes the SecretID, Global or ExpirationTime, which are fixed at creation. A SecretID
 * that another token has, pending writes of the same command included, is rejected (409), so that a
 * secret always resolves to one token. The messages name tokens by AccessorID only.
 */
export function putAclToken(
  draft: TableDraft<string, AclToken, 'secret'>,
  token: AclToken,
  index: number,
): ApplyResult {
  const id = token.AccessorID;
  const existing = draft.get(id);
  if (existing !== null) {
    if (existing.SecretID !== token.SecretID)
      return rejected(400, `cannot change the secret ID of ACL token ${id}`);
    if (existing.Global !== token.Global) {
      return rejected(400, `cannot change Global of ACL token ${id} after its creation`);
    }
    if (existing.ExpirationTime !== token.ExpirationTime) {
      return rejected(400, `cannot change the expiration time of ACL token ${id} after its creation`);
    }
  }
  const holders = draft.rowsBy('secret', secretDigest(token.SecretID));
  if (holders.some((row) => row.AccessorID !== id)) {
    return rejected(409, `the secret ID of ACL token ${id} is already used by another token`);
  }

  draft.put(
    id,
    Object.freeze({
      ...token,
      CreateTime: existing?.CreateTime ?? token.CreateTime,
      CreateIndex: existing?.CreateIndex ?? index,
      ModifyIndex: index,
    }),
  );
  return APPLIED;
}

/** Deletes the tokens with these AccessorIDs, or none of them when one does not exist (404). */
export function deleteAclTokens(
  txn: Transaction,
  table: AclTokenTable,
  accessorIds: readonly string[],
): ApplyResult {
  const draft = txn.draft(table);
  for (const id of accessorIds) {
    if (draft.get(id) === null) return rejected(404, `ACL token ${id} not found`);
  }
  for (const id of accessorIds) draft.delete(id);
  return APPLIED;
}

function decodeAclTokenRow(value: unknown, field: string, context: RowContext): AclToken {
  const token = readAclToken(value, field, invalidSnapshotField);
  checkRowIndexes(field, context, [
    ['CreateIndex', token.CreateIndex],
    ['ModifyIndex', token.ModifyIndex],
  ]);
  return token;
}

function checkUniqueSecrets(rows: ReadonlyMap<string, AclToken>, field: string): void {
  const holderOf = new Map<string, string>();
  for (const token of rows.values()) {
    const holder = holderOf.get(token.SecretID);
    if (holder !== undefined) {
      throw invalidSnapshotField(
        field,
        `has ACL tokens ${holder} and ${token.AccessorID} with the same secret ID`,
      );
    }
    holderOf.set(token.SecretID, token.AccessorID);
  }
}

/**
 * Key of the secret index: the SHA-256 of the secret. A lookup's timing then depends on the
 * digest, which reveals nothing about the secrets that exist; the secret itself is
 * compared in constant time (`findBySecret`).
 */
export function secretDigest(secretId: string): string {
  return createHash('sha256').update(secretId, 'utf8').digest('hex');
}

/** Returns the token whose SecretID equals `secretId`, comparing the candidates in constant time. */
export function findBySecret(table: AclTokenTable, secretId: string): AclToken | null {
  const wanted = Buffer.from(secretId, 'utf8');
  for (const token of table.listBy('secret', secretDigest(secretId))) {
    const held = Buffer.from(token.SecretID, 'utf8');
    if (held.length === wanted.length && timingSafeEqual(held, wanted)) return token;
  }
  return null;
}

/** ACL tokens by AccessorID. Added in snapshot version 4. */
export const aclTokenTableSpec: TableSpec<string, AclToken, 'secret'> = {
  name: 'aclTokens',
  sinceSnapshotVersion: 4,
  keyOf: (row) => row.AccessorID,
  compareKeys: compareAscii,
  initialRows: () => [],
  decodeRow: decodeAclTokenRow,
  checkRows: checkUniqueSecrets,
  indexes: { secret: (row) => secretDigest(row.SecretID) },
};
