import type { Logger } from 'pino';
import { decryptItems, encryptItems, KeyringError, type VariableItems } from '../../keyring/index.js';
import { MAX_VARIABLE_ITEMS_BYTES } from '../../state/limits.js';
import { NAMESPACE_NAME_PATTERN } from '../../state/namespaces.js';
import type { StateStore, VariableEncrypted } from '../../state/store.js';
import type { VariableCommand, VariableOp } from '../../state/var-apply.js';
import { variablePathProblem } from '../../state/var-path.js';
import { variableItemsBytes } from '../../state/variables.js';
import type { ServerKeyring } from '../keyring/server-keyring.js';
import { RequestError } from '../request-error.js';
import {
  absentVariable,
  type VariableChange,
  type VariableChangeResult,
  type VariableConflict,
  type VariableDecrypted,
  type VariableMetadata,
  type VariableWrite,
  variableMetadata,
} from './variable-shapes.js';

const NS_PER_MS = 1_000_000;

/**
 * Attempts at a write whose root key was removed between encryption and the entry. Each attempt
 * encrypts again under the key that is active then, so a second failure needs a second removal.
 */
const MAX_ENCRYPT_ATTEMPTS = 3;

/** How long a read waits for the root key of a variable, as Nomad waits up to 1 s. */
const KEY_WAIT_MS = 1000;

export interface VariableOperationsDeps {
  readonly state: StateStore;
  readonly keyring: Pick<ServerKeyring, 'encryptionKey' | 'waitForEncryptionKey'>;
  /** Commits a command through the leader and applies it here; throws RequestError with the rejection's status. */
  readonly apply: (command: VariableCommand) => Promise<{ index: number }>;
  /** Resolves once this server has applied everything committed before the call (ReadIndex). */
  readonly consistentRead: () => Promise<void>;
  /** Wall clock in Unix milliseconds. */
  readonly now: () => number;
  readonly logger: Logger;
}

/**
 * The writer and reader of variables on one server. Writes check the plaintext (size, unchanged
 * items), encrypt it under the active root key and commit `var-apply`. Reads decrypt a row with the
 * key that encrypted it. No item key or value ever reaches a log line or an error message.
 */
export class VariableOperations {
  readonly #deps: VariableOperationsDeps;

  constructor(deps: VariableOperationsDeps) {
    this.#deps = deps;
  }

  /** Returns the metadata of the variables of `namespace` (or every namespace for `*`) under `prefix`. */
  list(namespace: string, prefix: string): VariableMetadata[] {
    return this.#deps.state.variables(namespace, prefix).map(variableMetadata);
  }

  /**
   * Decrypts a row with the root key named by its KeyID, waiting up to 1 s for this server to apply
   * the key. Throws RequestError 500 when the key is missing or unusable here, or the data does not
   * decrypt.
   */
  async decrypt(row: VariableEncrypted): Promise<VariableDecrypted> {
    const material = await this.#deps.keyring.waitForEncryptionKey(row.KeyID, KEY_WAIT_MS);
    if (material === null) {
      throw new RequestError(
        500,
        `cannot decrypt variable ${JSON.stringify(row.Path)} in namespace ${row.Namespace}: root key ${row.KeyID} is not available on this server`,
      );
    }
    try {
      return { ...variableMetadata(row), Items: decryptItems(material, row.KeyID, row.Data) };
    } catch (err) {
      if (!(err instanceof KeyringError)) throw err;
      // KeyringError messages name the key and lengths, never plaintext.
      throw new RequestError(
        500,
        `cannot decrypt variable ${JSON.stringify(row.Path)} in namespace ${row.Namespace}: ${err.message}`,
      );
    }
  }

  /**
   * Writes a variable: `set`, or `cas` when `casIndex` is set. A write whose items equal the
   * current ones (and whose check-and-set passes) commits nothing and returns the current variable,
   * because ciphertext under a fresh nonce would always look changed to the state. A lost
   * check-and-set returns the current variable, with its items only when `revealConflict` is true.
   */
  async write(request: VariableWrite, revealConflict: boolean): Promise<VariableChangeResult> {
    checkTarget(request);
    checkItems(request.items);
    const { state } = this.#deps;

    // Committing a write is correct whatever the newest value is, so a write that this server's
    // copy already sees as a change goes straight to the log. Only "unchanged", which commits
    // nothing, needs a consistent read, so that a lagging copy never turns a write into a no-op.
    let current = state.variable(request.namespace, request.path);
    if ((await this.#unchanged(current, request)) !== null) {
      await this.#deps.consistentRead();
      current = state.variable(request.namespace, request.path);
      const unchanged = await this.#unchanged(current, request);
      if (unchanged !== null) return { ok: true, index: unchanged.ModifyIndex, variable: unchanged };
    }

    const op: VariableOp = request.casIndex === null ? 'set' : 'cas';
    for (let attempt = 1; ; attempt++) {
      const time = this.#deps.now() * NS_PER_MS;
      const { keyId, data } = this.#encrypt(request);
      let index: number;
      try {
        ({ index } = await this.#deps.apply({
          type: 'var-apply',
          v: 1,
          op,
          variable: {
            Namespace: request.namespace,
            Path: request.path,
            KeyID: keyId,
            Data: data,
            ModifyTime: time,
          },
          casIndex: request.casIndex ?? 0,
        }));
      } catch (err) {
        if (!(err instanceof RequestError)) throw err;
        if (err.status === 409) return { ok: false, conflict: await this.#conflict(request, revealConflict) };
        // The state rejects with 404 a key removed since encryption. Encrypt again under the new active key.
        if (err.status === 404 && attempt < MAX_ENCRYPT_ATTEMPTS) continue;
        throw err;
      }
      this.#deps.logger.debug(
        { namespace: request.namespace, path: request.path, op, keyId, index },
        'wrote a variable',
      );
      return { ok: true, index, variable: this.#written(request, current, index, time) };
    }
  }

  /**
   * Deletes a variable: `delete`, or `delete-cas` when `casIndex` is set. Deleting a variable that
   * does not exist succeeds. A lost check-and-set returns the current variable as `write` does.
   */
  async delete(request: VariableChange, revealConflict: boolean): Promise<VariableChangeResult> {
    checkTarget(request);
    const op: VariableOp = request.casIndex === null ? 'delete' : 'delete-cas';
    try {
      const { index } = await this.#deps.apply({
        type: 'var-apply',
        v: 1,
        op,
        variable: {
          Namespace: request.namespace,
          Path: request.path,
          KeyID: '',
          Data: '',
          ModifyTime: this.#deps.now() * NS_PER_MS,
        },
        casIndex: request.casIndex ?? 0,
      });
      this.#deps.logger.debug(
        { namespace: request.namespace, path: request.path, op, index },
        'deleted a variable',
      );
      return { ok: true, index, variable: null };
    } catch (err) {
      if (err instanceof RequestError && err.status === 409) {
        return { ok: false, conflict: await this.#conflict(request, revealConflict) };
      }
      throw err;
    }
  }

  /**
   * Returns `current` when the write would leave it as it is (its check-and-set passes and its
   * items equal the request's), else null. An undecryptable row counts as changed.
   */
  async #unchanged(
    current: VariableEncrypted | null,
    request: VariableWrite,
  ): Promise<VariableDecrypted | null> {
    if (current === null) return null;
    if (request.casIndex !== null && request.casIndex !== current.ModifyIndex) return null;
    let decrypted: VariableDecrypted;
    try {
      decrypted = await this.decrypt(current);
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      return null;
    }
    return sameItems(decrypted.Items, request.items) ? decrypted : null;
  }

  #encrypt(request: VariableWrite): { keyId: string; data: string } {
    const active = this.#deps.state.activeRootKey();
    if (active === null) {
      throw new RequestError(
        500,
        'cannot encrypt the variable: there is no active root key yet; the leader creates one when it takes office, so retry shortly',
      );
    }
    const keyId = active.Meta.KeyID;
    const material = this.#deps.keyring.encryptionKey(keyId);
    if (material === null) {
      throw new RequestError(
        500,
        `cannot encrypt the variable: the active root key ${keyId} cannot be unwrapped on this server; check server.encrypt`,
      );
    }
    return { keyId, data: encryptItems(material, keyId, request.items) };
  }

  /**
   * Builds the reply of a committed write from the stored row, or from what the write knew when a
   * later write has already replaced the row.
   */
  #written(
    request: VariableWrite,
    before: VariableEncrypted | null,
    index: number,
    time: number,
  ): VariableDecrypted {
    const row = this.#deps.state.variable(request.namespace, request.path);
    if (row !== null && row.ModifyIndex === index) return { ...variableMetadata(row), Items: request.items };
    return {
      Namespace: request.namespace,
      Path: request.path,
      CreateIndex: before?.CreateIndex ?? index,
      CreateTime: before?.CreateTime ?? time,
      ModifyIndex: index,
      ModifyTime: time,
      Items: request.items,
    };
  }

  /**
   * Reads the variable that a check-and-set lost to. The rejected entry was committed after the
   * winning write, so once this server has caught up with the leader it has that write too.
   */
  async #conflict(request: VariableChange, reveal: boolean): Promise<VariableConflict> {
    await this.#deps.consistentRead();
    const current = this.#deps.state.variable(request.namespace, request.path);
    if (current === null) return absentVariable(request.namespace, request.path);
    return reveal ? this.decrypt(current) : variableMetadata(current);
  }
}

/** Checks the namespace and path of a request, with the state's rules, before anything is encrypted. */
function checkTarget(request: VariableChange): void {
  if (request.namespace === '*') {
    throw new RequestError(
      400,
      'Invalid namespace "*": a variable belongs to one namespace; name it with ?namespace=',
    );
  }
  if (!NAMESPACE_NAME_PATTERN.test(request.namespace)) {
    throw new RequestError(
      400,
      `Invalid namespace ${JSON.stringify(request.namespace.slice(0, 160))}: expected 1 to 128 letters, digits or "-"`,
    );
  }
  const problem = variablePathProblem(request.path);
  if (problem !== null) throw new RequestError(400, `Invalid variable path: the path ${problem}`);
}

/** Checks the plaintext items against Nomad's rules. Messages give counts and sizes, never keys or values. */
function checkItems(items: VariableItems): void {
  if (Object.keys(items).length === 0) throw new RequestError(400, 'variable missing required Items object');
  const bytes = variableItemsBytes(items);
  if (bytes > MAX_VARIABLE_ITEMS_BYTES) {
    throw new RequestError(
      400,
      `variables are limited to 64KiB in total size: the keys and values of this one are ${bytes} bytes, above ${MAX_VARIABLE_ITEMS_BYTES}`,
    );
  }
}

function sameItems(a: VariableItems, b: VariableItems): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key]);
}
