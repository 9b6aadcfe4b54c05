import type { Logger } from 'pino';
import type { RootKeyMeta } from '../../keyring/index.js';
import type { RootKeyCommand } from '../../state/root-key-commands.js';
import { identityInUse, type StoredRootKey } from '../../state/root-keys.js';
import type { StateStore } from '../../state/store.js';
import type { ServerKeyring } from './server-keyring.js';
import { GLOBAL_TIMERS, type KeyringTimers, pause } from './timers.js';

/** First pause after a failed attempt to create the first key; it doubles up to RETRY_MAX_MS. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;
const NS_PER_MS = 1_000_000;

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
  readonly commit: (command: RootKeyCommand) => Promise<number>;
  /** Wall clock in Unix milliseconds; key ages compare it with each key's CreateTime. */
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
 * the active key once it is older than `rotationThresholdMs`, ends rekeys, and removes inactive
 * keys older than `gcThresholdMs` that no allocation which may still run was signed with. The
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
   * Runs one pass of the periodic duties: rotate the active key when it is too old, end rekeys,
   * remove unused old inactive keys. Each step reads the state afresh; a failed step is logged
   * and the pass goes on.
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

  async #endRekeys(): Promise<void> {
    const { state, logger } = this.#deps;
    for (const row of state.rootKeys()) {
      if (row.Meta.State !== 'rekeying' || this.#abort.signal.aborted) continue;
      // TODO: re-encrypt the variables that this key encrypted under the active key before marking
      // it inactive, once the state stores variables. Until then a rekey has nothing to do.
      await this.#commit({ type: 'root-key-state', v: 1, keyId: row.Meta.KeyID, state: 'inactive' }).then(
        (index) => logger.info({ keyId: row.Meta.KeyID, index }, 'finished a rekey; the key is now inactive'),
        (err: unknown) => logger.warn({ err, keyId: row.Meta.KeyID }, 'could not finish a rekey; will retry'),
      );
    }
  }

  /** True for an inactive key past the GC age, demoted by `settled`, that no allocation which may still run uses. */
  #collectible(row: StoredRootKey, settled: number): boolean {
    const { state, options } = this.#deps;
    // `deprecated` is a legacy state that Nomad treats as inactive.
    if (row.Meta.State !== 'inactive' && row.Meta.State !== 'deprecated') return false;
    if (row.Meta.ModifyIndex > settled) return false;
    if (this.#deps.now() - row.Meta.CreateTime / NS_PER_MS < options.gcThresholdMs) return false;
    return !state.allocationsBySigningKey(row.Meta.KeyID).some(identityInUse);
  }

  #commit(command: RootKeyCommand): Promise<number> {
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
