import { checkNoRepeats, checkNotEmpty, readAccessorId, readPolicyName } from './acl-fields.js';
import { type AclPolicy, readAclPolicy } from './acl-policies.js';
import { type AclToken, readAclToken } from './acl-tokens.js';
import { readArray } from './collection-fields.js';
import { type CommandReader, versions } from './command-reader.js';
import { invalidCommandField } from './errors.js';
import { describeValue, readInteger } from './fields.js';
import { MAX_ACL_COMMAND_ITEMS, MAX_INDEX } from './limits.js';

/**
 * Commands on ACL tokens and policies. AccessorIDs, SecretIDs and times are chosen by the proposer,
 * and a policy's Rules are parsed by the writer before it proposes them, so apply stays
 * deterministic. Each command applies whole or not at all.
 */
export type AclCommand =
  /** Creates the bootstrap management token, once, or again with the recorded reset index. */
  | { type: 'acl-bootstrap'; v: 1; token: AclToken; resetIndex: number }
  /** Creates or updates tokens by AccessorID. */
  | { type: 'acl-token-upsert'; v: 1; tokens: readonly AclToken[] }
  /** Deletes tokens. An unknown AccessorID rejects the whole command. */
  | { type: 'acl-token-delete'; v: 1; accessorIds: readonly string[] }
  /** Creates or replaces policies by name. */
  | { type: 'acl-policy-upsert'; v: 1; policies: readonly AclPolicy[] }
  /** Deletes policies. An unknown name rejects the whole command. */
  | { type: 'acl-policy-delete'; v: 1; names: readonly string[] };

const fail = invalidCommandField;

/** Reads a non-empty list of at most MAX_ACL_COMMAND_ITEMS items, none with the key of an earlier one. */
function readItems<Item>(
  value: unknown,
  field: string,
  readItem: (item: unknown, field: string) => Item,
  keyOf: (item: Item) => string,
  keyName: string,
): readonly Item[] {
  const items = readArray(value, field, fail, MAX_ACL_COMMAND_ITEMS, readItem);
  checkNotEmpty(items, field, fail);
  checkNoRepeats(items, field, fail, keyOf, keyName);
  return items;
}

function readBootstrapToken(value: unknown): AclToken {
  const token = readAclToken(value, 'token', fail);
  if (token.Type !== 'management') {
    throw fail('token.Type', `must be management for the bootstrap token, got ${describeValue(token.Type)}`);
  }
  return token;
}

export const ACL_READERS: readonly [string, ReadonlyMap<number, CommandReader<AclCommand>>][] = [
  [
    'acl-bootstrap',
    versions([
      1,
      ['token', 'resetIndex'],
      (f) => ({
        type: 'acl-bootstrap',
        v: 1,
        token: readBootstrapToken(f.token),
        resetIndex: readInteger(f.resetIndex, 'resetIndex', fail, 0, MAX_INDEX),
      }),
    ]),
  ],
  [
    'acl-token-upsert',
    versions([
      1,
      ['tokens'],
      (f) => ({
        type: 'acl-token-upsert',
        v: 1,
        tokens: readItems(
          f.tokens,
          'tokens',
          (item, field) => readAclToken(item, field, fail),
          (token) => token.AccessorID,
          'AccessorID',
        ),
      }),
    ]),
  ],
  [
    'acl-token-delete',
    versions([
      1,
      ['accessorIds'],
      (f) => ({
        type: 'acl-token-delete',
        v: 1,
        accessorIds: readItems(
          f.accessorIds,
          'accessorIds',
          (item, field) => readAccessorId(item, field, fail),
          (id) => id,
          'AccessorID',
        ),
      }),
    ]),
  ],
  [
    'acl-policy-upsert',
    versions([
      1,
      ['policies'],
      (f) => ({
        type: 'acl-policy-upsert',
        v: 1,
        policies: readItems(
          f.policies,
          'policies',
          (item, field) => readAclPolicy(item, field, fail),
          (policy) => policy.Name,
          'policy name',
        ),
      }),
    ]),
  ],
  [
    'acl-policy-delete',
    versions([
      1,
      ['names'],
      (f) => ({
        type: 'acl-policy-delete',
        v: 1,
        names: readItems(
          f.names,
          'names',
          (item, field) => readPolicyName(item, field, fail),
          (name) => name,
          'policy name',
        ),
      }),
    ]),
  ],
];
