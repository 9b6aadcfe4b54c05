import type { Logger } from 'pino';
import {
  type Ed25519PublicJwk,
  type JsonWebKeySet,
  jwks,
  KeyringError,
  type RootKeyMeta,
  type SigningKey,
  SigningKeyCache,
  unwrapRootKey,
} from '../../keyring/index.js';
import type { DemotedState } from '../../state/root-keys.js';
import type { StateStore, StoredRootKey } from '../../state/store.js';
import { newRootKeyCommand, type RootKeyUpsert } from './new-root-key.js';
import { GLOBAL_TIMERS, type KeyringTimers } from './timers.js';

/** How long `waitForKey` waits for a key's entry by default: Nomad waits up to 1 s for a follower to catch up. */
const DEFAULT_WAIT_MS = 1000;

/**
 * Default cap on the `waitForKey` calls in progress at once. Each one keeps a request, a timer and
 * a state waiter for up to its timeout, and a token with a made-up kid costs its sender nothing.
 * NOTE: 128 is a judgement, not a measurement. Genuine waits happen only while this server lags
 * behind a key rotation, and past the cap such tokens are rejected at once as signed by an
 * unknown key.
 */
export const MAX_KEY_WAITS = 128;

/**
 * Passed to `SigningKeyCache.get` for a key that is already cached, where the cache ignores the
 * material. It is empty so that nothing could ever be derived from it.
 */
const CACHED = Buffer.alloc(0);

export interface ServerKeyringDeps {
  /** This server's copy of the replicated state, where root keys arrive wrapped. */
  readonly state: StateStore;
  /** Key-encryption key derived from `server.encrypt` (keyEncryptionKey); the same on every server. */
  readonly kek: Buffer;
  readonly logger: Logger;
  /** Timers for the `waitForKey` deadlines; the global ones by default. */
  readonly timers?: KeyringTimers;
  /** Cap on the `waitForKey` calls that wait at once; MAX_KEY_WAITS by default. */
  readonly maxKeyWaits?: number;
}

/**
 * The root keys of one server, as signing keys and as variable encryption keys. Every server has
 * one. It unwraps a key from its replicated state the first time the key is used, and caches the
 * derived Ed25519 key pair and the 32-byte material. So a key verifies and decrypts here as soon
 * as this server has applied its entry. Both stay in memory only, are never logged, and are
 * dropped (the material zeroed) once the key leaves the state.
 *
 * A key that fails to unwrap (a different `server.encrypt`, or altered bytes) is logged once at
 * error and treated as unknown from then on. Unwrapping is deterministic, so trying again cannot
 * succeed.
 */
export class ServerKeyring {
  readonly #state: StateStore;
  readonly #kek: Buffer;
  readonly #log: Logger;
  readonly #timers: KeyringTimers;
  readonly #maxKeyWaits: number;
  readonly #cache = new SigningKeyCache();
  /**
   * Unwrapped material of the keys in `#cache`, by key id, for variable encryption. Its keys also
   * list `#cache`, which has no way to list them, so that keys removed from the state can be dropped.
   * Invariant: a key id is in both or in neither.
   */
  readonly #materials = new Map<string, Buffer>();
  /** Ids of keys that failed to unwrap; each was logged once. */
  readonly #unusable = new Set<string>();
  /** Count of changes to `#unusable`, so that a cached key set can tell whether it is stale. */
  #unusableVersion = 0;
  /** `rootKeys` table index at the last check for removed keys. */
  #prunedAt = 0;
  /** Key set of the last `publicKeys` call, with the table index and `#unusableVersion` it was built at. */
  #publicKeys: {
    readonly index: number;
    readonly unusableVersion: number;
    readonly set: JsonWebKeySet;
  } | null = null;
  /** `waitForKey` calls waiting now. */
  #keyWaits = 0;
  /** `waitForKey` calls that returned null without a wait because `#maxKeyWaits` were waiting. */
  #rejectedKeyWaits = 0;

  constructor(deps: ServerKeyringDeps) {
    this.#state = deps.state;
    this.#kek = deps.kek;
    this.#log = deps.logger;
    this.#timers = deps.timers ?? GLOBAL_TIMERS;
    this.#maxKeyWaits = deps.maxKeyWaits ?? MAX_KEY_WAITS;
  }

  /**
   * Returns the signing key of root key `keyId`, unwrapping it on first use. Returns null when this
   * server's state has no such key, or when the key cannot be unwrapped here.
   */
  signingKey(keyId: string): SigningKey | null {
    this.#dropRemovedKeys();
    const row = this.#state.rootKey(keyId);
    if (row === null) return null;
    if (this.#materials.has(keyId)) return this.#cache.get(keyId, CACHED);
    if (this.#unusable.has(keyId)) return null;
    return this.#unwrap(row);
  }

  /**
   * Returns the 32-byte material of root key `keyId`, which encrypts and decrypts variables,
   * unwrapping it on first use. Returns null when this server's state has no such key, or when the
   * key cannot be unwrapped here. The buffer is the cached one: callers use it at once, and never
   * change, keep or log it. Once the key leaves the state the buffer is zeroed.
   */
  encryptionKey(keyId: string): Buffer | null {
    if (this.signingKey(keyId) === null) return null;
    return this.#materials.get(keyId) ?? null;
  }

  /**
   * Returns the material of `keyId` as `encryptionKey` does, waiting up to `timeoutMs` for this
   * server to apply the key's entry. A variable and its key arrive through the same log, so the
   * wait matters only for a key id learnt elsewhere, such as from a server that is further ahead.
   * Resolves with null in the cases where `waitForKey` does.
   */
  async waitForEncryptionKey(keyId: string, timeoutMs: number = DEFAULT_WAIT_MS): Promise<Buffer | null> {
    const key = await this.waitForKey(keyId, timeoutMs);
    return key === null ? null : this.encryptionKey(keyId);
  }

  /**
   * Returns the signing key of `keyId`, waiting up to `timeoutMs` for this server to apply the
   * key's entry, because a token may reach a follower before the key that signed it does. Resolves
   * with null at the deadline, or at once when the key is present but cannot be unwrapped, or when
   * `maxKeyWaits` calls are waiting already.
   */
  async waitForKey(keyId: string, timeoutMs: number = DEFAULT_WAIT_MS): Promise<SigningKey | null> {
    // The common case, a key already applied, returns without arming a timer.
    let key = this.signingKey(keyId);
    if (key !== null || this.#unusable.has(keyId)) return key;
    if (this.#keyWaits >= this.#maxKeyWaits) {
      this.#rejectedKeyWaits++;
      this.#log.debug(
        { keyId, waiting: this.#keyWaits, rejectedWaits: this.#rejectedKeyWaits },
        'root key not found and the cap on waits for root keys is reached, so the key counts as unknown without a wait',
      );
      return null;
    }
    this.#keyWaits++;
    const deadline = new AbortController();
    const timer = this.#timers.setTimeout(() => deadline.abort(), timeoutMs);
    try {
      for (;;) {
        await this.#state.waitForChange('rootKeys', this.#state.tableIndex('rootKeys'), deadline.signal);
        key = this.signingKey(keyId);
        if (key !== null || this.#unusable.has(keyId) || deadline.signal.aborted) return key;
      }
    } finally {
      this.#timers.clearTimeout(timer);
      this.#keyWaits--;
    }
  }

  /** Returns the key that signs new identities, or null when there is none or it cannot be unwrapped. */
  active(): { meta: RootKeyMeta; key: SigningKey } | null {
    const row = this.#state.activeRootKey();
    if (row === null) return null;
    const key = this.signingKey(row.Meta.KeyID);
    return key === null ? null : { meta: row.Meta, key };
  }

  /**
   * Returns the public keys of every root key that still verifies: all but `deprecated` ones,
   * oldest first. A key that cannot be unwrapped here is left out (and was logged): no server
   * sharing this `server.encrypt` could verify its tokens either.
   *
   * The set is built again only when the `rootKeys` table or the set of unusable keys changed, so
   * calls in between return the same frozen object.
   */
  publicKeys(): JsonWebKeySet {
    const index = this.#state.tableIndex('rootKeys');
    const cached = this.#publicKeys;
    if (cached !== null && cached.index === index && cached.unusableVersion === this.#unusableVersion) {
      return cached.set;
    }
    const keys: SigningKey[] = [];
    for (const row of this.#state.rootKeys()) {
      if (row.Meta.State === 'deprecated') continue;
      const key = this.signingKey(row.Meta.KeyID);
      if (key !== null) keys.push(key);
    }
    // Frozen because every caller shares it. The version is read after the loop, which may have
    // marked a key unusable.
    const set: JsonWebKeySet = Object.freeze({
      keys: Object.freeze(jwks(keys).keys.map((jwk) => Object.freeze(jwk))) as Ed25519PublicJwk[],
    });
    this.#publicKeys = { index, unusableVersion: this.#unusableVersion, set };
    return set;
  }

  /** Number of unwrapped root keys held in memory, each as a signing key and as material. */
  get cachedKeys(): number {
    this.#dropRemovedKeys();
    return this.#materials.size;
  }

  /**
   * Generates a root key and returns the `root-key-upsert` command that makes it active, wrapped
   * under this server's key-encryption key. Commit the command to create the key.
   */
  newRootKeyCommand(nowMs: number, demoteTo: DemotedState): { command: RootKeyUpsert; meta: RootKeyMeta } {
    // A key made within a millisecond of the newest one (two quick rotations here) still gets a
    // later CreateTime, so the times shown agree with the log order of the keys. Nanosecond times
    // this large are exact only to 256 ns, hence whole milliseconds.
    const newest = this.#state.rootKeys().at(-1);
    const after = newest === undefined ? 0 : Math.ceil(newest.Meta.CreateTime / 1e6 + 0.001);
    return newRootKeyCommand(this.#kek, Math.max(nowMs, after), demoteTo);
  }

  /** True when the key is in the state but could not be unwrapped with this server's key-encryption key. */
  isUnusable(keyId: string): boolean {
    return this.#unusable.has(keyId) && this.#state.rootKey(keyId) !== null;
  }

  #unwrap(row: StoredRootKey): SigningKey | null {
    const keyId = row.Meta.KeyID;
    let material: Buffer;
    try {
      material = unwrapRootKey(this.#kek, keyId, Buffer.from(row.WrappedKey, 'base64'));
    } catch (err) {
      if (!(err instanceof KeyringError)) throw err;
      this.#unusable.add(keyId);
      this.#unusableVersion++;
      // The KeyringError message names the key id and the likely cause; it never contains material.
      this.#log.error(
        { keyId, code: err.code, state: row.Meta.State },
        `${err.message}. Tokens signed with this key fail to verify on this server`,
      );
      return null;
    }
    try {
      const key = this.#cache.get(keyId, material);
      this.#materials.set(keyId, material);
      return key;
    } catch (err) {
      material.fill(0);
      throw err;
    }
  }

  /** Forgets every key that is no longer in the state, once per change of the `rootKeys` table. */
  #dropRemovedKeys(): void {
    const index = this.#state.tableIndex('rootKeys');
    if (index === this.#prunedAt) return;
    this.#prunedAt = index;
    for (const [keyId, material] of this.#materials) {
      if (this.#state.rootKey(keyId) !== null) continue;
      this.#cache.delete(keyId);
      this.#materials.delete(keyId);
      material.fill(0);
    }
    for (const keyId of this.#unusable) {
      if (this.#state.rootKey(keyId) !== null) continue;
      this.#unusable.delete(keyId);
      this.#unusableVersion++;
    }
  }
}
