import type { Acl } from '../acl/index.js';
import { RequestError } from '../server/request-error.js';
import type { ApiRequest } from './api-request.js';

/** Nomad's message for a request that its ACL does not allow; clients match on it. */
export const PERMISSION_DENIED = 'Permission denied';

/** Throws RequestError 403 `Permission denied` unless `allowed` passes for the request's ACL. */
export function authorize(request: ApiRequest, allowed: (acl: Acl) => boolean): void {
  if (!allowed(request.acl.acl)) throw new RequestError(403, PERMISSION_DENIED);
}
