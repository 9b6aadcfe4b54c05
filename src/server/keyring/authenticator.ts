import type { Logger } from 'pino';
import { IdentityError, verifyWorkloadIdentity } from '../../identity/index.js';
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
  /** Wall clock in Unix milliseconds, for the time claims. */
  readonly now: () => number;
  readonly logger: Logger;
}

/**
 * Finds who sent a request from its token. A UUID is an ACL token; any other token must be a
 * workload identity that verifies against this server's own state. Every failure reaches the
 * caller as the same 403 `Permission denied`, and the reason goes to this server's log with its
 * error code. The token itself is never logged.
 */
export class Authenticator {
  readonly #deps: AuthenticatorDeps;
  #windowStart = 0;
  #warnedInWindow = 0;
  #suppressed = 0;

  constructor(deps: AuthenticatorDeps) {
    this.#deps = deps;
  }

  async authenticate(token: string): Promise<Principal> {
    // TODO: resolve the secret id to an ACL token and its policies once ACL tokens are stored.
    // Until then any UUID passes as an anonymous ACL token.
    if (UUID.test(token)) return { kind: 'acl-token', secretId: token };

    const { state } = this.#deps;
    try {
      const { claims, alloc } = await verifyWorkloadIdentity(token, {
        key: (kid, unverifiedClaims) => this.#findKey(kid, unverifiedClaims),
        now: this.#deps.now(),
        allocation: (id) => state.allocation(id),
        job: (namespace, jobId) => state.job(namespace, jobId),
      });
      return { kind: 'workload', claims, alloc };
    } catch (err) {
      if (!(err instanceof IdentityError)) throw err;
      this.#logRejection(err);
      throw new RequestError(403, 'Permission denied');
    }
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

  /** Logs a rejected identity at warn, at most WARN_LINES_PER_SECOND a second, so a flood of bad tokens cannot fill the log. */
  #logRejection(err: IdentityError): void {
    const fields = {
      code: err.code,
      keyId: err.keyId || undefined,
      allocationId: err.allocationId || undefined,
      reason: err.message,
    };
    const now = performance.now();
    if (now - this.#windowStart >= 1000) {
      this.#windowStart = now;
      this.#warnedInWindow = 0;
    }
    if (this.#warnedInWindow >= WARN_LINES_PER_SECOND) {
      this.#suppressed++;
      this.#deps.logger.debug(fields, 'rejected a workload identity');
      return;
    }
    this.#warnedInWindow++;
    const suppressed = this.#suppressed;
    this.#suppressed = 0;
    this.#deps.logger.warn(
      suppressed > 0 ? { ...fields, suppressed } : fields,
      'rejected a workload identity',
    );
  }
}
