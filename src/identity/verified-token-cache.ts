import type { SigningKey } from '../keyring/index.js';
import { checkTimeClaims, leewayOf, type VerifiedToken, verifyToken } from './verify.js';
import {
  checkWorkloadClaims,
  type VerifiedWorkload,
  type VerifyWorkloadIdentityOptions,
} from './verify-workload.js';

/** Tokens kept per server by default. A signed token is 500 to 600 bytes, so about 6 MB when full. */
export const DEFAULT_VERIFIED_TOKEN_CACHE_SIZE = 10_000;

export interface CachedVerifyOptions extends VerifyWorkloadIdentityOptions {
  /**
   * Returns the key that this server has now for root key `kid`, or null when the key is not in
   * its keyring. It must not wait. A cached token is used only while this returns the same key
   * object that verified it, so a key removed from the keyring ends its cached tokens at once.
   */
  currentKey(kid: string): SigningKey | null;
}

interface Entry {
  /** The whole token, which a lookup must equal. */
  readonly token: string;
  readonly verified: VerifiedToken;
  /** Unix milliseconds of the token's `exp`, after which the entry is dropped; Infinity without `exp`. */
  readonly expiresAtMs: number;
}

/**
 * Workload identity tokens that this server verified, so that a token used again skips the Ed25519
 * signature check, which costs about 0.1 ms while the other checks cost microseconds.
 *
 * Only a token that passed every check is added. The checks that depend on the token string alone
 * (the compact JWS format, the header with `alg` pinned to EdDSA, the signature and the claim
 * types) give the same result every time, so the entry keeps their result. Every use of an entry
 * still checks the rest: the signing key is still in the keyring, `nbf`, `iat` and `exp` against
 * the current clock, and the claims against the allocation in this server's state. An entry that
 * fails a check is deleted, and so is one whose `exp` has passed when it is looked up. The least
 * recently used entry is evicted once `capacity` entries are held.
 *
 * A lookup hits only a token equal to the cached one in every byte. The Map key is the signature
 * part alone, because a request's token is a new string whose hash V8 computes on each lookup.
 * Hashing the 86 characters of a signature costs about 2.5× less than a whole token of 500 or more.
 * A token that copies a cached signature onto another header or payload misses on the whole-token
 * compare and is verified in full.
 *
 * The token strings are bearer credentials. They stay in memory only and are never logged.
 */
export class VerifiedTokenCache {
  readonly #capacity: number;
  /** Entries by signature, in order of use, least recent first, because a Map iterates in insertion order. */
  readonly #entries = new Map<string, Entry>();
  /** The last entry of #entries, or a deleted entry, which no lookup can return. */
  #mostRecent: Entry | null = null;
  #hits = 0;
  #misses = 0;

  constructor(capacity: number = DEFAULT_VERIFIED_TOKEN_CACHE_SIZE) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(
        `invalid verified-token cache size ${capacity}: expected an integer of at least 1`,
      );
    }
    this.#capacity = capacity;
  }

  get capacity(): number {
    return this.#capacity;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Verifications served from an entry, failed ones included. */
  get hits(): number {
    return this.#hits;
  }

  /** Verifications that checked the signature, because no usable entry had the token. */
  get misses(): number {
    return this.#misses;
  }

  /**
   * Verifies a workload identity as `verifyWorkloadIdentity` does and returns the same result, but
   * checks the signature only when this cache has no usable entry for the token. Throws the same
   * IdentityError codes, and a RangeError for a negative leeway.
   */
  async verifyWorkload(token: string, options: CachedVerifyOptions): Promise<VerifiedWorkload> {
    const leeway = leewayOf(options);
    const cached = this.#usableEntry(token, options);
    if (cached !== null) {
      this.#hits++;
      try {
        checkTimeClaims(cached.claims, options.now, leeway, cached.keyId);
        return checkWorkloadClaims(cached, options);
      } catch (err) {
        this.#entries.delete(signatureOf(token));
        throw err;
      }
    }

    this.#misses++;
    const verified = await verifyToken(token, options);
    const workload = checkWorkloadClaims(verified, options);
    this.#add(token, verified, options.now);
    return workload;
  }

  /**
   * Returns the verified token of `token`'s entry and marks it most recently used. Deletes the
   * entry and returns null once its `exp` has passed or its key is no longer the keyring's key.
   */
  #usableEntry(token: string, options: CachedVerifyOptions): VerifiedToken | null {
    const signature = signatureOf(token);
    const entry = this.#entries.get(signature);
    if (entry === undefined || entry.token !== token) return null;
    const { verified } = entry;
    if (options.now >= entry.expiresAtMs || options.currentKey(verified.keyId) !== verified.key) {
      this.#entries.delete(signature);
      return null;
    }
    // Moving the entry that is already the most recent would only churn the Map's table.
    if (entry !== this.#mostRecent) {
      this.#entries.delete(signature);
      this.#entries.set(signature, entry);
      this.#mostRecent = entry;
    }
    return verified;
  }

  #add(token: string, verified: VerifiedToken, nowMs: number): void {
    const exp = verified.claims.exp;
    const expiresAtMs = exp === undefined ? Number.POSITIVE_INFINITY : exp * 1000;
    // Within the leeway after `exp` the token still verifies, in full each time.
    if (nowMs >= expiresAtMs) return;

    // Every later hit returns these claims, so no caller may change them for the next one.
    Object.freeze(verified.claims.aud);
    Object.freeze(verified.claims);
    const entry = { token, verified, expiresAtMs };
    const signature = signatureOf(token);
    this.#entries.delete(signature);
    this.#entries.set(signature, entry);
    this.#mostRecent = entry;
    if (this.#entries.size > this.#capacity) {
      const leastRecent = this.#entries.keys().next();
      if (leastRecent.done !== true) this.#entries.delete(leastRecent.value);
    }
  }
}

/** Returns the signature part of a compact JWS, or the whole string when it has no dot. */
function signatureOf(token: string): string {
  return token.slice(token.lastIndexOf('.') + 1);
}
