import type { Logger } from 'pino';
import { decryptItems, encryptItems, KeyringError, type RootKeyMeta } from '../../keyring/index.js';
import type { RootKeyCommand } from '../../state/root-key-commands.js';
import { identityInUse, type StoredRootKey } from '../../state/root-keys.js';
import type { StateStore, VariableEncrypted } from '../../state/store.js';
import type { VariableCommand } from '../../state/var-apply.js';
import type { ServerKeyring } from './server-keyring.js';
import { GLOBAL_TIMERS, type KeyringTimers, pause } from './timers.js';

/** First pause after a failed attempt to create the first key; it doubles up to RETRY_MAX_MS. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;
const NS_PER_MS = 1_000_000;
/** Maximum `var-apply` entries that a rekey proposes per second, as in Nomad's rekey job, so other writes keep their share of the log. */
const REKEY_WRITES_PER_SECOND = 100;

/** Commands that the keyring duties commit: root key changes, and variables re-encrypted by a rekey. */
export type KeyringCommand = RootKeyCommand | VariableCommand;

export interface KeyringLeaderOptions {
  /** Age of the active key, in ms, after which it is rotated (`server.root_key_rotation_threshold`). */
  readonly rotationThresholdMs: number;
  /** Age since creation, in ms, after which an unused inactive key is removed (`server.root_key_gc_threshold`). */
  readonly gcThresholdMs: number;
  /** Time from the end of one check to the start of the next, in ms (`server.root_key_gc_interval`). */
  readonly gcIntervalMs: number;
}

export interface KeyringLeaderDeps {
  readonly state: StateStore;
  /** This server's keyring, which also wraps the new keys. */
  readonly keyring: ServerKeyring;
  /**
   * Resolves once this server has applied everything committed before it took office (a ReadIndex
   * round), so it never creates a key because its own state was behind.
   */
  readonly barrier: () => Promise<unknown>;
  /**
   * Commits a command in this leader's term and resolves with its Raft index once this server has
   * applied it. Rejects when the state rejects the entry or the term is over.
   */
  readonly commit: (command: KeyringCommand) => Promise<number>;
  /** Wall clock in Unix milliseconds; key ages compare it with each key's CreateTime, and a rekey paces its writes by it. */
  readonly now: () => number;
  /** Timers for the retry pauses and the periodic checks; the global ones by default. */
  readonly timers?: KeyringTimers;
  readonly options: KeyringLeaderOptions;
  readonly logger: Logger;
}

/**
 * The keyring duties of the leader, for one term: `start` when the server takes office, `stop`
 * when it steps down. A new term gets a new instance.
 *
 * First it makes sure an active key exists (`ensureActiveKey`), retrying until it succeeds or is
 * stopped: the plan applier must not sign before that. Then it runs one pass (`check`)
 * `gcIntervalMs` after the start, and again `gcIntervalMs` after each pass ended. A pass rotates
 * the active key once it is older than `rotationThresholdMs`. It re-encrypts the variables of
 * each `rekeying` key under the active key and then marks that key inactive. It removes inactive
 * keys older than `gcThresholdMs` that no variable and no allocation which may still run uses. The
 * timer is armed again only once a pass ended, so passes never overlap, and a failed step is
 * logged and tried again on the next pass. After `stop` no timer is left armed.
 */
export class KeyringLeader {
  readonly #deps: KeyringLeaderDeps;
  readonly #timers: KeyringTimers;
  readonly #abort = new AbortController();
  #ready: Promise<RootKeyMeta | null> | null = null;
  /** Handle of the timer of the next pass, while one is armed. */
  #timer: unknown = null;
  #pass: Promise<void> | null = null;
  /**
   * Applied index when the previous pass ended (or when this leader's state was complete). Only
   * keys demoted at or before it may be removed, so a demoted key is kept for at least one
   * interval. The reason is a plan signed with the key just before its rotation: the plan can
   * still be on its way to the log, and its allocations protect the key only once it applies.
   */
  #settledIndex = -1;

  constructor(deps: KeyringLeaderDeps) {
    this.#deps = deps;
    this.#timers = deps.timers ?? GLOBAL_TIMERS;
  }

  /** Ensures an active key, then starts the periodic checks. Resolves once both are done, or when stopped first. */
  async start(): Promise<void> {
    const active = await this.ensureActiveKey();
    if (active === null) return;
    this.#armPassTimer();
  }

  /** Stops the checks and the retries; resolves once a pass in progress has ended. */
  async stop(): Promise<void> {
    this.#abort.abort();
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
    await Promise.allSettled([this.#ready, this.#pass]);
  }

  /**
   * Resolves with the active key's metadata once a usable active key is in the applied state,
   * creating one when there is none. Transient failures (no quorum, a commit that timed out) are
   * retried with a growing pause. Resolves with null when this instance is stopped or `signal`
   * aborts first. Every call shares one attempt, so the first key is created once.
   */
  ensureActiveKey(signal?: AbortSignal): Promise<RootKeyMeta | null> {
    this.#ready ??= this.#ensure();
    if (signal === undefined) return this.#ready;
    return untilAborted(this.#ready, signal);
  }

  /**
   * Runs one pass of the periodic duties: rotate the active key when it is too old, re-encrypt the
   * variables of rekeying keys, remove unused old inactive keys. Each step reads the state afresh;
   * a failed step is logged and the pass goes on.
   */
  async check(): Promise<void> {
    const { state, logger } = this.#deps;
    const settled = this.#settledIndex;
    await this.#rotateIfDue();
    await this.#endRekeys();
    for (const row of state.rootKeys()) {
      if (this.#abort.signal.aborted) return;
      if (!this.#collectible(row, settled)) continue;
      await this.#commit({ type: 'root-key-delete', v: 1, keyId: row.Meta.KeyID, force: false }).then(
        (index) =>
          logger.info(
            { keyId: row.Meta.KeyID, index, createTime: row.Meta.CreateTime },
            'removed an unused inactive root key',
          ),
        (err: unknown) =>
          logger.warn({ err, keyId: row.Meta.KeyID }, 'could not remove an inactive root key; will retry'),
      );
    }
    this.#settledIndex = state.latestIndex;
  }

  /** Arms the timer of the next pass, unless stopped. */
  #armPassTimer(): void {
    if (this.#abort.signal.aborted) return;
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = null;
      void this.#runPass().then(() => this.#armPassTimer());
    }, this.#deps.options.gcIntervalMs);
  }

  #runPass(): Promise<void> {
    if (this.#pass !== null) return this.#pass;
    this.#pass = this.check()
      .catch((err: unknown) => this.#deps.logger.error({ err }, 'keyring check failed; will retry'))
      .finally(() => {
        this.#pass = null;
      });
    return this.#pass;
  }

  async #ensure(): Promise<RootKeyMeta | null> {
    const { state, keyring, logger } = this.#deps;
    const signal = this.#abort.signal;
    let pauseMs = RETRY_MIN_MS;
    let barrierPassed = false;
    for (let attempt = 1; !signal.aborted; attempt++) {
      try {
        if (!barrierPassed) {
          await this.#deps.barrier();
          barrierPassed = true;
          this.#settledIndex = state.latestIndex;
        }
        if (signal.aborted) break;
        const active = keyring.active();
        if (active !== null) return active.meta;
        await this.#createKey(state.activeRootKey());
        const created = keyring.active();
        if (created !== null) return created.meta;
        // Never expected, since the commit resolves once the entry is applied here; the pause
        // below keeps a bug from creating keys in a tight loop.
        throw new Error('no usable active root key after the new key was applied');
      } catch (err) {
        // The first failure and every tenth are worth a warning; the rest would flood the log.
        const level = attempt === 1 || attempt % 10 === 0 ? 'warn' : 'debug';
        logger[level]({ err, attempt, retryInMs: pauseMs }, 'could not ensure an active root key; retrying');
      }
      await pause(this.#timers, pauseMs, signal);
      pauseMs = Math.min(pauseMs * 2, RETRY_MAX_MS);
    }
    return null;
  }

  /**
   * Commits a new active key. `unusable` is an active key that this server cannot unwrap: every
   * server shares `server.encrypt`, so none can sign or verify with it, and it is replaced.
   */
  async #createKey(unusable: StoredRootKey | null): Promise<void> {
    const { command, meta } = this.#deps.keyring.newRootKeyCommand(this.#deps.now(), 'inactive');
    if (unusable !== null) {
      this.#deps.logger.error(
        { keyId: meta.KeyID, previous: unusable.Meta.KeyID },
        'the active root key cannot be unwrapped with this server.encrypt; replacing it with a new key. Tokens signed with the old key no longer verify',
      );
    }
    const index = await this.#commit(command);
    if (unusable === null) {
      this.#deps.logger.info({ keyId: meta.KeyID, index }, 'created a root key because none was active');
    }
  }

  async #rotateIfDue(): Promise<void> {
    const { state, keyring, logger, options } = this.#deps;
    const active = state.activeRootKey();
    if (active === null || keyring.active() === null) {
      await this.#createKey(active).catch((err: unknown) =>
        logger.warn({ err }, 'could not create an active root key; will retry'),
      );
      return;
    }
    const ageMs = this.#deps.now() - active.Meta.CreateTime / NS_PER_MS;
    if (ageMs < options.rotationThresholdMs) return;
    const { command, meta } = this.#deps.keyring.newRootKeyCommand(this.#deps.now(), 'inactive');
    await this.#commit(command).then(
      (index) =>
        logger.info(
          { keyId: meta.KeyID, previous: active.Meta.KeyID, ageHours: Math.floor(ageMs / 3_600_000), index },
          'rotated the root key: the active key reached root_key_rotation_threshold',
        ),
      (err: unknown) => logger.warn({ err }, 'could not rotate the root key; will retry'),
    );
  }

  /** Re-encrypts the variables of each rekeying key, and marks the key inactive once none uses it. */
  async #endRekeys(): Promise<void> {
    const { state, logger } = this.#deps;
    for (const row of state.rootKeys()) {
      if (row.Meta.State !== 'rekeying' || this.#abort.signal.aborted) continue;
      const keyId = row.Meta.KeyID;
      if (!(await this.#rekeyVariables(keyId))) continue;
      await this.#commit({ type: 'root-key-state', v: 1, keyId, state: 'inactive' }).then(
        (index) => logger.info({ keyId, index }, 'finished a rekey; the key is now inactive'),
        (err: unknown) => logger.warn({ err, keyId }, 'could not finish a rekey; will retry'),
      );
    }
  }

  /**
   * Re-encrypts every variable of rekeying key `keyId` under the active key, one `cas` entry per
   * variable, and returns true once no variable uses the key.
   *
   * Each entry carries the ModifyIndex that the variable had when it was read, so a write that
   * commits in between wins: that write is already under the active key, and the state rejects the
   * stale rekey entry as a conflict. Entries are paced to REKEY_WRITES_PER_SECOND, so a large rekey
   * spans many seconds of this pass. A variable that fails (it does not decrypt, or its entry is
   * rejected for another reason) is logged and keeps the key `rekeying`, and the next pass tries
   * again. Stopping the duties ends the loop at the next variable.
   */
  async #rekeyVariables(keyId: string): Promise<boolean> {
    const { state, keyring, logger } = this.#deps;
    const signal = this.#abort.signal;
    if (state.variablesByKey(keyId).length === 0) return true;
    // Checked once here, so that a key this server cannot use is logged once per pass, not once
    // per variable.
    const active = state.activeRootKey();
    const activeUsable = active !== null && keyring.encryptionKey(active.Meta.KeyID) !== null;
    const rekeyingUsable = keyring.encryptionKey(keyId) !== null;
    if (!activeUsable || !rekeyingUsable) {
      logger.warn(
        { keyId, activeKeyId: active?.Meta.KeyID ?? null, activeUsable, rekeyingUsable },
        'cannot re-encrypt variables: the rekeying or the active root key is not usable on this server; will retry',
      );
      return false;
    }
    const counts = { rekeyed: 0, overtaken: 0, failed: 0 };
    let windowStartMs = this.#deps.now();
    let inWindow = 0;
    for (const listed of state.variablesByKey(keyId)) {
      if (signal.aborted) return false;
      if (inWindow === REKEY_WRITES_PER_SECOND) {
        const waitMs = windowStartMs + 1000 - this.#deps.now();
        if (waitMs > 0) await pause(this.#timers, waitMs, signal);
        if (signal.aborted) return false;
        windowStartMs = this.#deps.now();
        inWindow = 0;
      }
      // Read again: a write or an earlier entry of this loop may have changed the variable since
      // the list was taken.
      const row = state.variable(listed.Namespace, listed.Path);
      if (row === null || row.KeyID !== keyId) continue;
      const command = this.#reencrypted(row);
      if (command === null) {
        counts.failed++;
        continue;
      }
      inWindow++;
      try {
        await this.#commit(command);
        counts.rekeyed++;
      } catch (err) {
        const current = state.variable(row.Namespace, row.Path);
        if (current === null || current.ModifyIndex !== row.ModifyIndex) {
          counts.overtaken++;
          logger.debug(
            { keyId, namespace: row.Namespace, path: row.Path },
            'a write changed a variable during its rekey; the write stands',
          );
        } else {
          counts.failed++;
          logger.warn(
            { err, keyId, namespace: row.Namespace, path: row.Path },
            'could not re-encrypt a variable under the active key; will retry',
          );
        }
      }
    }
    const left = state.variablesByKey(keyId).length;
    if (counts.rekeyed + counts.overtaken + counts.failed > 0 || left > 0) {
      logger.info({ keyId, ...counts, left }, 're-encrypted the variables of a rekeying root key');
    }
    return left === 0;
  }

  /**
   * Returns the `cas` entry that re-encrypts `row` under the active key, or null when a key has
   * gone since the rekey started or the data does not decrypt, which is logged. The items stay
   * the same, so the entry keeps the variable's ModifyTime, while its ModifyIndex moves as for any
   * entry.
   */
  #reencrypted(row: VariableEncrypted): VariableCommand | null {
    const { state, keyring, logger } = this.#deps;
    const ids = { keyId: row.KeyID, namespace: row.Namespace, path: row.Path };
    const active = state.activeRootKey();
    // Each key is looked up again for every variable, because a key removed during the rekey has
    // its cached material zeroed.
    const newMaterial = active === null ? null : keyring.encryptionKey(active.Meta.KeyID);
    const oldMaterial = keyring.encryptionKey(row.KeyID);
    if (active === null || newMaterial === null || oldMaterial === null) {
      logger.debug(
        { ...ids, activeKeyId: active?.Meta.KeyID ?? null },
        'cannot re-encrypt a variable: a root key changed during the rekey and is not usable here; will retry',
      );
      return null;
    }
    let data: string;
    try {
      data = encryptItems(newMaterial, active.Meta.KeyID, decryptItems(oldMaterial, row.KeyID, row.Data));
    } catch (err) {
      if (!(err instanceof KeyringError)) throw err;
      // KeyringError messages name key ids and lengths, never plaintext.
      logger.error(
        { ...ids, code: err.code, err },
        'cannot re-encrypt a variable: its data does not decrypt',
      );
      return null;
    }
    return {
      type: 'var-apply',
      v: 1,
      op: 'cas',
      variable: {
        Namespace: row.Namespace,
        Path: row.Path,
        KeyID: active.Meta.KeyID,
        Data: data,
        ModifyTime: row.ModifyTime,
      },
      casIndex: row.ModifyIndex,
    };
  }

  /**
   * True for an inactive key past the GC age, demoted by `settled`, that no variable and no
   * allocation which may still run uses.
   */
  #collectible(row: StoredRootKey, settled: number): boolean {
    const { state, options } = this.#deps;
    // `deprecated` is a legacy state that Nomad treats as inactive.
    if (row.Meta.State !== 'inactive' && row.Meta.State !== 'deprecated') return false;
    if (row.Meta.ModifyIndex > settled) return false;
    if (this.#deps.now() - row.Meta.CreateTime / NS_PER_MS < options.gcThresholdMs) return false;
    if (state.variablesByKey(row.Meta.KeyID).length > 0) return false;
    return !state.allocationsBySigningKey(row.Meta.KeyID).some(identityInUse);
  }

  #commit(command: KeyringCommand): Promise<number> {
    if (this.#abort.signal.aborted) {
      return Promise.reject(
        new Error(`${command.type} not proposed: the keyring duties of this term stopped`),
      );
    }
    return this.#deps.commit(command);
  }
}

/** Settles as `promise` does, or resolves with null as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | null> {
  if (signal.aborted) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve(null);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
