import type { Logger } from 'pino';
import { IdentityError, type VerifiedWorkload, verifyWorkloadIdentity } from '../../identity/index.js';
import {
  type CachedVerifyOptions,
  DEFAULT_VERIFIED_TOKEN_CACHE_SIZE,
  VerifiedTokenCache,
} from '../../identity/verified-token-cache.js';
import type { SigningKey } from '../../keyring/index.js';
import type { StateStore } from '../../state/store.js';
import type { Principal } from '../backend.js';
import { RequestError } from '../request-error.js';
import type { ServerKeyring } from './server-keyring.js';

/** An ACL token's secret id, and every root key id, is a UUID (Nomad checks the same shape). */
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Rejections logged at warn per second; the others go to debug and are counted in the next warn line. */
const WARN_LINES_PER_SECOND = 10;

export interface AuthenticatorDeps {
  readonly state: StateStore;
  readonly keyring: ServerKeyring;
  /**
   * `acl.enabled`; false when absent. When true, a UUID must be the SecretID of a stored ACL
   * token. When false, any UUID passes, because no ACL applies then (Nomad ignores tokens).
   */
  readonly aclEnabled?: boolean;
  /** Wall clock in Unix milliseconds, for the time claims. */
  readonly now: () => number;
  readonly logger: Logger;
  /**
   * Workload identities kept as verified, so that their signature is checked once
   * (VerifiedTokenCache); DEFAULT_VERIFIED_TOKEN_CACHE_SIZE when absent, and 0 checks every
   * signature.
   */
  readonly verifiedTokenCacheSize?: number;
}

/**
 * Finds who sent a request from its token. A UUID is an ACL token, which with ACLs enabled must
 * exist in this server's own state. Any other token must be a workload identity that verifies
 * against that state. A workload identity verified before skips only its signature check, through
 * a VerifiedTokenCache. Every failure reaches the caller as the same 403 `Permission denied`, and
 * the reason goes to this server's log with its code. The token itself is never logged. Whether
 * an ACL token has expired is left to the ACL resolver, which rejects it with its own message.
 */
export class Authenticator {
  readonly #deps: AuthenticatorDeps;
  readonly #verifiedTokens: VerifiedTokenCache | null;
  /** The lookups of every verification, made once because a request should not allocate closures. */
  readonly #lookups: Omit<CachedVerifyOptions, 'now' | 'leewaySeconds'>;
  #windowStart = 0;
  #warnedInWindow = 0;
  #suppressed = 0;

  constructor(deps: AuthenticatorDeps) {
    this.#deps = deps;
    const cacheSize = deps.verifiedTokenCacheSize ?? DEFAULT_VERIFIED_TOKEN_CACHE_SIZE;
    this.#verifiedTokens = cacheSize === 0 ? null : new VerifiedTokenCache(cacheSize);
    const { state, keyring } = deps;
    this.#lookups = {
      key: (kid, unverifiedClaims) => this.#findKey(kid, unverifiedClaims),
      currentKey: (kid) => keyring.signingKey(kid),
      allocation: (id) => state.allocation(id),
      job: (namespace, jobId) => state.job(namespace, jobId),
    };
  }

  /** The cache of verified workload identities, or null when it is turned off. */
  get verifiedTokens(): VerifiedTokenCache | null {
    return this.#verifiedTokens;
  }

  async authenticate(token: string): Promise<Principal> {
    if (UUID.test(token)) return this.#aclToken(token);

    const lookups = this.#lookups;
    const options: CachedVerifyOptions = {
      key: lookups.key,
      currentKey: lookups.currentKey,
      now: this.#deps.now(),
      allocation: lookups.allocation,
      job: lookups.job,
    };
    try {
      const { claims, alloc }: VerifiedWorkload =
        this.#verifiedTokens === null
          ? await verifyWorkloadIdentity(token, options)
          : await this.#verifiedTokens.verifyWorkload(token, options);
      return { kind: 'workload', claims, alloc };
    } catch (err) {
      if (!(err instanceof IdentityError)) throw err;
      this.#logRejection(
        {
          code: err.code,
          keyId: err.keyId || undefined,
          allocationId: err.allocationId || undefined,
          reason: err.message,
        },
        'rejected a workload identity',
      );
      throw new RequestError(403, 'Permission denied');
    }
  }

  #aclToken(secretId: string): Principal {
    if (this.#deps.aclEnabled === true && this.#deps.state.aclTokenBySecret(secretId) === null) {
      this.#logRejection(
        { code: 'ACL_TOKEN_NOT_FOUND', reason: 'no ACL token has this secret ID' },
        'rejected an ACL token',
      );
      throw new RequestError(403, 'Permission denied');
    }
    return { kind: 'acl-token', secretId };
  }

  /**
   * Looks up root key `kid`, and waits for this server to apply it only when the wait can help.
   * The leader signs a token only with a key whose entry committed before the plan entry that
   * carries the token, and a task's token is never replaced. So once this server has applied an
   * allocation that contains a token for the claimed task, it has applied the key too, unless the
   * key was removed since. The claims are not verified here. They only decide whether to wait,
   * and the keyring caps the waits that false claims can cause.
   */
  #findKey(
    kid: string,
    unverifiedClaims: Readonly<Record<string, unknown>> | null,
  ): Promise<SigningKey | null> {
    const { state, keyring } = this.#deps;
    // A kid that is not a UUID names no root key.
    if (!UUID.test(kid)) return Promise.resolve(null);
    const allocationId = unverifiedClaims?.nomad_allocation_id;
    const task = unverifiedClaims?.nomad_task;
    // A token without these claims fails the claim checks whatever its key.
    if (typeof allocationId !== 'string' || allocationId === '' || typeof task !== 'string' || task === '') {
      return Promise.resolve(keyring.signingKey(kid));
    }
    const alloc = state.allocation(allocationId);
    if (alloc !== null && Object.hasOwn(alloc.SignedIdentities, task)) {
      return Promise.resolve(keyring.signingKey(kid));
    }
    return keyring.waitForKey(kid);
  }

  /**
   * Logs a rejected token at warn, at most WARN_LINES_PER_SECOND a second, so a flood of bad
   * tokens cannot fill the log. `fields` must not contain the token.
   */
  #logRejection(fields: Readonly<Record<string, unknown>>, message: string): void {
    const now = performance.now();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#warnedInWindow = 0;
    }
    if (this.#warnedInWindow >= WARN_LINES_PER_SECOND) {
      this.#suppressed++;
      this.#deps.logger.debug(fields, message);
      return;
    }
    this.#warnedInWindow++;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    this.#deps.logger.warn(suppressed > 0 ? { ...fields, suppressed } : fields, message);
  }
}
