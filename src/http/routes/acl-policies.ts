import { ANONYMOUS_POLICY_NAME } from '../../server/acl/acl-resolver.js';
import type { ApiReply, ApiRequest } from '../api-request.js';
import { jsonReply, writeReply } from '../api-request.js';
import { authorize } from '../authorize.js';
import { blockingRead } from '../blocking-read.js';
import { prefixParam } from '../query-params.js';
import type { ApiRouter } from '../router.js';
import { readablePolicyNames, requireAclEnabled, requireManagement } from './acl-access.js';
import { policyRequestFromBody } from './acl-bodies.js';
import { aclPolicyStub } from './acl-views.js';
import { notFound } from './not-found.js';

/** ACL policy endpoints (`/v1/acl/policies`, `/v1/acl/policy/:name`), with Nomad's paths and JSON. */
export function registerAclPolicyRoutes(router: ApiRouter): void {
  router.on('GET', '/v1/acl/policies', listPolicies);
  router.on('GET', '/v1/acl/policy/:name', readPolicy);
  router.on(['PUT', 'POST'], '/v1/acl/policy/:name', upsertPolicy);
  router.on('DELETE', '/v1/acl/policy/:name', deletePolicy);
}

/** Lists every policy for a management caller, and only the caller's own policies for anyone else. */
async function listPolicies(request: ApiRequest): Promise<ApiReply> {
  requireAclEnabled(request);
  const prefix = prefixParam(request.query);
  const readable = readablePolicyNames(request);
  const { state } = request.backend;
  return blockingRead(request, 'aclPolicies', () => {
    const policies = state
      .aclPolicies()
      .filter((policy) => policy.Name.startsWith(prefix) && (readable === null || readable.has(policy.Name)));
    return { index: state.tableIndex('aclPolicies'), reply: jsonReply(policies.map(aclPolicyStub)) };
  });
}

/**
 * Returns a policy, Rules included, to a management caller, to a caller that the policy applies
 * to, and for `anonymous` to anyone. Others get 403 whether or not the policy exists.
 */
async function readPolicy(request: ApiRequest): Promise<ApiReply> {
  requireAclEnabled(request);
  const name = request.params.name!;
  const readable = readablePolicyNames(request);
  authorize(request, () => readable === null || readable.has(name) || name === ANONYMOUS_POLICY_NAME);
  const { state } = request.backend;
  return blockingRead(request, 'aclPolicies', () => {
    const policy = state.aclPolicy(name);
    if (policy === null)
      return { index: state.tableIndex('aclPolicies'), reply: notFound('ACL policy not found') };
    return { index: policy.ModifyIndex, reply: jsonReply(policy) };
  });
}

async function upsertPolicy(request: ApiRequest): Promise<ApiReply> {
  requireAclEnabled(request);
  requireManagement(request);
  const policy = policyRequestFromBody(await request.readJson(), request.params.name!);
  const { Index } = await request.backend.acl.upsertPolicy(policy);
  return writeReply(Index);
}

async function deletePolicy(request: ApiRequest): Promise<ApiReply> {
  requireAclEnabled(request);
  requireManagement(request);
  const { Index } = await request.backend.acl.deletePolicy(request.params.name!);
  return writeReply(Index);
}
