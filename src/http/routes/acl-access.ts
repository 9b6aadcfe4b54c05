import { selectWorkloadPolicies } from '../../acl/index.js';
import { ACL_DISABLED_MESSAGE } from '../../server/acl/acl-operations.js';
import { ANONYMOUS_POLICY_NAME } from '../../server/acl/acl-resolver.js';
import { RequestError } from '../../server/request-error.js';
import type { ApiRequest } from '../api-request.js';
import { authorize } from '../authorize.js';

// Access rules of the ACL endpoints, which Nomad checks in the endpoints themselves.

/** Rejects every ACL endpoint with Nomad's 400 `ACL support disabled` while ACLs are off. */
export function requireAclEnabled(request: ApiRequest): void {
  if (!request.backend.acl.enabled) throw new RequestError(400, ACL_DISABLED_MESSAGE);
}

/** Throws 403 `Permission denied` unless the request carries a management token. */
export function requireManagement(request: ApiRequest): void {
  authorize(request, (acl) => acl.isManagement());
}

/**
 * Returns the names of the policies that the caller may read, or null for a management caller,
 * who may read all. A token links its own policies, a workload identity the policies tied to its
 * job, group and task, and an anonymous request the `anonymous` policy.
 */
export function readablePolicyNames(request: ApiRequest): ReadonlySet<string> | null {
  const { acl, token, workload } = request.acl;
  if (acl.isManagement()) return null;
  if (token !== null) return new Set(token.Policies);
  if (workload !== null) {
    const candidates = request.backend.state.aclPoliciesForJob(workload.namespace, workload.jobId);
    return new Set(selectWorkloadPolicies(candidates, workload).map((policy) => policy.Name));
  }
  return new Set([ANONYMOUS_POLICY_NAME]);
}
