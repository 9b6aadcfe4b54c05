import type { Acl } from '../acl/index.js';
import { RequestError } from '../server/request-error.js';
import type { ApiRequest } from './api-request.js';
import { describeDeniedChecks, recordDeniedChecks } from './denied-checks.js';
import { namespaceParam } from './query-params.js';

/** Nomad's message for a request that its ACL does not allow; clients match on it. */
export const PERMISSION_DENIED = 'Permission denied';

/**
 * Throws RequestError 403 unless `allowed` passes for the request's ACL. The message starts with
 * Nomad's `Permission denied`, which API clients look for, and goes on with what the ACL lacked:
 * `Permission denied: missing capability "read-job" in namespace "default"`. It names the
 * capability and namespaces that the request carried (its `namespace` parameter, `default` when
 * absent, and its path parameters), never the token or its policies.
 */
export function authorize(request: ApiRequest, allowed: (acl: Acl) => boolean): void {
  const acl = request.acl.acl;
  if (allowed(acl)) return;
  // The predicate runs again only on a denial, so allowed requests pay nothing for the detail.
  const requestNamespaces = new Set([namespaceParam(request.query), ...Object.values(request.params)]);
  const detail = describeDeniedChecks(recordDeniedChecks(acl, allowed), requestNamespaces);
  throw new RequestError(403, detail === '' ? PERMISSION_DENIED : `${PERMISSION_DENIED}: ${detail}`);
}
