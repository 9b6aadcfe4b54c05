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
  /** Inserts a new active key; the key that was active takes `demoteTo`. */
  | { type: 'root-key-upsert'; v: 1; key: RootKeyInput; wrappedKey: string; demoteTo: DemotedState }
  /** Marks a key inactive, as a finished rekey does. */
  | { type: 'root-key-state'; v: 1; keyId: string; state: 'inactive' }
  /** Removes a key; without `force`, only when no allocation that may still run was signed with it. */
  | { type: 'root-key-delete'; v: 1; keyId: string; force: boolean };

const fail = invalidCommandField;

export const ROOT_KEY_READERS: readonly [string, ReadonlyMap<number, CommandReader<RootKeyCommand>>][] = [
  [
    'root-key-upsert',
    versions([
      1,
      ['key', 'wrappedKey', 'demoteTo'],
      (f) => ({
        type: 'root-key-upsert',
        v: 1,
        key: readRootKeyInput(f.key, 'key', fail),
        wrappedKey: readWrappedKey(f.wrappedKey, 'wrappedKey', fail),
        demoteTo: readEnum(f.demoteTo, 'demoteTo', fail, ['inactive', 'rekeying']),
      }),
    ]),
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
