import type { Logger } from 'pino';
import {
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

/** How long `waitForKey` waits for a key's entry by default: Nomad waits up to 1 s for a follower to catch up. */
const DEFAULT_WAIT_MS = 1000;

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
}

/**
 * The root keys of one server, as signing keys. Every server has one: it unwraps a key from its
 * replicated state the first time the key is used, and caches the derived Ed25519 key pair, so a
 * key verifies here as soon as this server has applied its entry. The plaintext material lives
 * only for the moment of derivation, and the cached key pair is dropped once the key leaves the
 * state.
 *
 * A key that fails to unwrap (a different `server.encrypt`, or altered bytes) is logged once at
 * error and treated as unknown from then on. Unwrapping is deterministic, so trying again cannot
 * succeed.
 */
export class ServerKeyring {
  readonly #state: StateStore;
  readonly #kek: Buffer;
  readonly #log: Logger;
  readonly #cache = new SigningKeyCache();
  /** Ids in `#cache`, which has no way to list them, so that keys removed from the state can be dropped. */
  readonly #cached = new Set<string>();
  /** Ids of keys that failed to unwrap; each was logged once. */
  readonly #unusable = new Set<string>();
  /** `rootKeys` table index at the last check for removed keys. */
  #prunedAt = 0;

  constructor(deps: ServerKeyringDeps) {
    this.#state = deps.state;
    this.#kek = deps.kek;
    this.#log = deps.logger;
  }

  /**
   * Returns the signing key of root key `keyId`, unwrapping it on first use. Returns null when this
   * server's state has no such key, or when the key cannot be unwrapped here.
   */
  signingKey(keyId: string): SigningKey | null {
    this.#dropRemovedKeys();
    const row = this.#state.rootKey(keyId);
    if (row === null) return null;
    if (this.#cached.has(keyId)) return this.#cache.get(keyId, CACHED);
    if (this.#unusable.has(keyId)) return null;
    return this.#unwrap(row);
  }

  /**
   * Returns the signing key of `keyId`, waiting up to `timeoutMs` for this server to apply the
   * key's entry, because a token may reach a follower before the key that signed it does. Resolves
   * with null at the deadline, or at once when the key is present but cannot be unwrapped.
   */
  async waitForKey(keyId: string, timeoutMs: number = DEFAULT_WAIT_MS): Promise<SigningKey | null> {
    // The common case, a key already applied, returns without arming a timer.
    let key = this.signingKey(keyId);
    if (key !== null || this.#unusable.has(keyId)) return key;
    // A referenced timer rather than AbortSignal.timeout, whose unreferenced timer would let a
    // process with nothing else to do exit in the middle of the wait.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    try {
      for (;;) {
        await this.#state.waitForChange('rootKeys', this.#state.tableIndex('rootKeys'), deadline.signal);
        key = this.signingKey(keyId);
        if (key !== null || this.#unusable.has(keyId) || deadline.signal.aborted) return key;
      }
    } finally {
      clearTimeout(timer);
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
   */
  publicKeys(): JsonWebKeySet {
    const keys: SigningKey[] = [];
    for (const row of this.#state.rootKeys()) {
      if (row.Meta.State === 'deprecated') continue;
      const key = this.signingKey(row.Meta.KeyID);
      if (key !== null) keys.push(key);
    }
    return jwks(keys);
  }

  /** Number of signing keys held in memory. */
  get cachedKeys(): number {
    this.#dropRemovedKeys();
    return this.#cached.size;
  }

  /**
   * Generates a root key and returns the `root-key-upsert` command that makes it active, wrapped
   * under this server's key-encryption key. Commit the command to create the key.
   */
  newRootKeyCommand(nowMs: number, demoteTo: DemotedState): { command: RootKeyUpsert; meta: RootKeyMeta } {
    // Keys list by CreateTime, so a key made within a millisecond of the newest one (two quick
    // rotations) still sorts after it. Nanosecond times this large are exact only to 256 ns.
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
      // The KeyringError message names the key id and the likely cause; it never contains material.
      this.#log.error(
        { keyId, code: err.code, state: row.Meta.State },
        `${err.message}. Tokens signed with this key fail to verify on this server`,
      );
      return null;
    }
    try {
      const key = this.#cache.get(keyId, material);
      this.#cached.add(keyId);
      return key;
    } finally {
      material.fill(0);
    }
  }

  /** Forgets every key that is no longer in the state, once per change of the `rootKeys` table. */
  #dropRemovedKeys(): void {
    const index = this.#state.tableIndex('rootKeys');
    if (index === this.#prunedAt) return;
    this.#prunedAt = index;
    for (const keyId of this.#cached) {
      if (this.#state.rootKey(keyId) !== null) continue;
      this.#cache.delete(keyId);
      this.#cached.delete(keyId);
    }
    for (const keyId of this.#unusable) {
      if (this.#state.rootKey(keyId) === null) this.#unusable.delete(keyId);
    }
  }
}
