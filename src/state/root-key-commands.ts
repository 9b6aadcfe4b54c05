import { type CommandReader, versions } from './command-reader.js';
import { invalidCommandField } from './errors.js';
import { readBoolean, readEnum } from './fields.js';
import {
  type DemotedState,
  type RootKeyInput,
  readKeyId,
  readRootKeyInput,
  readWrappedKey,
} from './root-keys.js';

/**
 * Commands on the keyring. Key ids, material and times are chosen by the proposer: the material
 * arrives wrapped under the key-encryption key, so the log never contains it in plaintext.
 */
export type RootKeyCommand =
  /**
   * Inserts a new active key; the key that was active takes `demoteTo`. In version 2 a full
   * rotation (`rekeying`) also marks every inactive key for the rekey; version 1 entries keep
   * their meaning, the active key alone.
   */
  | { type: 'root-key-upsert'; v: 1 | 2; key: RootKeyInput; wrappedKey: string; demoteTo: DemotedState }
  /** Marks a key inactive, as a finished rekey does. */
  | { type: 'root-key-state'; v: 1; keyId: string; state: 'inactive' }
  /** Removes a key; without `force`, only when no allocation that may still run was signed with it. */
  | { type: 'root-key-delete'; v: 1; keyId: string; force: boolean };

const fail = invalidCommandField;

const ROOT_KEY_UPSERT_FIELDS = ['key', 'wrappedKey', 'demoteTo'];

function readRootKeyUpsert(f: Record<string, unknown>, v: 1 | 2): RootKeyCommand {
  return {
    type: 'root-key-upsert',
    v,
    key: readRootKeyInput(f.key, 'key', fail),
    wrappedKey: readWrappedKey(f.wrappedKey, 'wrappedKey', fail),
    demoteTo: readEnum(f.demoteTo, 'demoteTo', fail, ['inactive', 'rekeying']),
  };
}

export const ROOT_KEY_READERS: readonly [string, ReadonlyMap<number, CommandReader<RootKeyCommand>>][] = [
  [
    'root-key-upsert',
    versions(
      [1, ROOT_KEY_UPSERT_FIELDS, (f) => readRootKeyUpsert(f, 1)],
      [2, ROOT_KEY_UPSERT_FIELDS, (f) => readRootKeyUpsert(f, 2)],
    ),
  ],
  [
    'root-key-state',
    versions([
      1,
      ['keyId', 'state'],
      (f) => ({
        type: 'root-key-state',
        v: 1,
        keyId: readKeyId(f.keyId, 'keyId', fail),
        state: readEnum(f.state, 'state', fail, ['inactive']),
      }),
    ]),
  ],
  [
    'root-key-delete',
    versions([
      1,
      ['keyId', 'force'],
      (f) => ({
        type: 'root-key-delete',
        v: 1,
        keyId: readKeyId(f.keyId, 'keyId', fail),
        force: readBoolean(f.force, 'force', fail),
      }),
    ]),
  ],
];
