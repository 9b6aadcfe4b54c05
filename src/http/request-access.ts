import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import { compileAcl } from '../acl/index.js';
import type { ResolvedAcl } from '../server/acl/acl-resolver.js';
import type { Principal, ServerBackend } from '../server/backend.js';
import { RequestError } from '../server/request-error.js';
import { parseStale } from './read-options.js';
import { requestToken } from './request-token.js';

/**
 * The authentication mode of a route, declared where the route is registered.
 *
 * - `required`: a GET without `?stale` first waits for `backend.consistentRead()`, a write for
 *   `backend.writeBarrier()`. Then the token is authenticated and the ACL resolved, both against
 *   that state, so a token deleted or a policy tightened on the leader is seen even on a lagging
 *   follower. A token that fails is rejected with 403.
 * - `local-state`: as `required`, but without the consistent read, for endpoints about this
 *   agent that must respond while the cluster has no leader. The ACL may lag the leader's.
 * - `ignore-failures`: as `required`, but a token that fails leaves the request anonymous instead
 *   of rejecting it, as Nomad's ACL bootstrap ignores authentication errors.
 * - `none`: no consistent read, no authentication and no ACL, for probes and public documents.
 */
export type AuthMode = 'required' | 'local-state' | 'ignore-failures' | 'none';

/** The principal and ACL of a request, and whether the state they were resolved from is consistent. */
export interface RequestAccess {
  readonly principal: Principal | null;
  readonly acl: ResolvedAcl;
  /** True when `backend.consistentRead()` completed after the request arrived and before the ACL was resolved. */
  readonly consistent: boolean;
  /** The term a write must be committed in, when the leader authorized it without ReadIndex (see `backend.withWriteTerm`). */
  readonly writeTerm: number | null;
}

/**
 * The ACL of a route that authenticates nothing. Every check fails, so a handler of such a route
 * that checks a capability by mistake denies instead of allowing.
 */
const UNAUTHENTICATED_ACL: ResolvedAcl = { acl: compileAcl([]), workload: null, token: null };

/** The parts of an HTTP request that decide how it is authenticated. */
export interface AccessRequest {
  readonly method: string;
  /** Path without the query string, for the log only. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
}

/**
 * Authenticates a request and resolves its ACL according to `mode`. Throws RequestError: 400 for
 * an invalid `?stale` on a GET, 403 for a token that fails (except with `ignore-failures`), and
 * whatever `consistentRead` throws (500 `No cluster leader`). The token is never logged, and the
 * backend logs why a token failed without it.
 */
export async function resolveRequestAccess(
  mode: AuthMode,
  request: AccessRequest,
  backend: ServerBackend,
  log: Logger,
): Promise<RequestAccess> {
  if (mode === 'none') {
    return { principal: null, acl: UNAUTHENTICATED_ACL, consistent: false, writeTerm: null };
  }

  // A write is checked on state that includes every entry committed before it arrived. On the
  // leader that needs no confirmed read, because what it proposes commits only if it still leads.
  const write = request.method !== 'GET';
  const consistent = mode !== 'local-state' && !write && !parseStale(request.query);
  if (consistent) await backend.consistentRead();
  const writeTerm = mode !== 'local-state' && write ? await backend.writeBarrier() : null;

  const token = requestToken(request.headers);
  if (mode !== 'ignore-failures') return { ...(await authenticate(token, backend)), consistent, writeTerm };
  try {
    return { ...(await authenticate(token, backend)), consistent, writeTerm };
  } catch (err) {
    if (!isAuthenticationFailure(err)) throw err;
    // The reason is one of the fixed 403 messages, which never contain the token.
    const { method, path } = request;
    log.debug({ method, path, reason: err.message }, 'request token failed, so the request runs anonymously');
    return { principal: null, acl: await backend.resolveAcl(null), consistent, writeTerm };
  }
}

async function authenticate(
  token: string | null,
  backend: ServerBackend,
): Promise<{ principal: Principal | null; acl: ResolvedAcl }> {
  const principal = token === null ? null : await backend.authenticate(token);
  return { principal, acl: await backend.resolveAcl(principal) };
}

/**
 * True for the 403 of a token that failed: `Permission denied` from authentication, `ACL token
 * not found` or `ACL token expired` from resolution. A 500, such as a stored policy that no longer
 * parses, is not one.
 */
function isAuthenticationFailure(err: unknown): err is RequestError {
  return err instanceof RequestError && err.status === 403;
}
