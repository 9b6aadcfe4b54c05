import { randomBytes, randomUUID } from 'node:crypto';
import {
  encryptItems,
  keyEncryptionKey,
  ROOT_KEY_ALGORITHM,
  type VariableItems,
  wrapRootKey,
} from '../../src/keyring/index.js';
import { encodeCommand } from '../../src/state/commands.js';
import type { ApplyResult, StateStore } from '../../src/state/store.js';
import type { VariableCommand, VariableOp } from '../../src/state/var-apply.js';
import { applyOk, entry, T0 } from './workload-fixtures.js';

// Builders of root keys and var-apply commands for the variable tests. Items are encrypted for
// real, so the tests see the ciphertext that a writer would propose.

const KEK = keyEncryptionKey(randomBytes(32));

/** A root key in the state, with its plaintext material kept by the test to encrypt items. */
export interface TestRootKey {
  readonly keyId: string;
  readonly material: Buffer;
}

/** Commits a new active root key; the key that was active becomes `demoteTo`. */
export function addRootKey(store: StateStore, demoteTo: 'inactive' | 'rekeying' = 'inactive'): TestRootKey {
  const keyId = randomUUID();
  const material = randomBytes(32);
  const wrappedKey = Buffer.from(wrapRootKey(KEK, keyId, material)).toString('base64');
  applyOk(
    store,
    entry('root-key-upsert', {
      key: { KeyID: keyId, Algorithm: ROOT_KEY_ALGORITHM, CreateTime: T0 },
      wrappedKey,
      demoteTo,
    }),
  );
  return { keyId, material };
}

export interface WriteOptions {
  readonly namespace?: string;
  readonly op?: Extract<VariableOp, 'set' | 'cas'>;
  readonly casIndex?: number;
  /** Unix nanoseconds; T0 by default. */
  readonly time?: number;
}

/** Builds a `set` (or `cas`) of `items` at `path`, encrypted under `key`. */
export function writeCommand(
  key: TestRootKey,
  path: string,
  items: VariableItems,
  options: WriteOptions = {},
): VariableCommand {
  return {
    type: 'var-apply',
    v: 1,
    op: options.op ?? 'set',
    variable: {
      Namespace: options.namespace ?? 'default',
      Path: path,
      KeyID: key.keyId,
      Data: encryptItems(key.material, key.keyId, items),
      ModifyTime: options.time ?? T0,
    },
    casIndex: options.casIndex ?? 0,
  };
}

/** Builds a `delete` (or `delete-cas`) of `path`. */
export function deleteCommand(
  path: string,
  options: { namespace?: string; op?: Extract<VariableOp, 'delete' | 'delete-cas'>; casIndex?: number } = {},
): VariableCommand {
  return {
    type: 'var-apply',
    v: 1,
    op: options.op ?? 'delete',
    variable: { Namespace: options.namespace ?? 'default', Path: path, KeyID: '', Data: '', ModifyTime: T0 },
    casIndex: options.casIndex ?? 0,
  };
}

/** Applies a var-apply command at the next index and returns the result, rejected or not. */
export function applyVar(store: StateStore, command: VariableCommand): ApplyResult {
  return store.apply(store.latestIndex + 1, encodeCommand(command));
}

/** Applies a var-apply command at the next index, fails when the state rejects it, and returns the index. */
export function applyVarOk(store: StateStore, command: VariableCommand): number {
  return applyOk(store, encodeCommand(command));
}
