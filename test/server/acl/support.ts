import type { IdentityClaims } from '../../../src/identity/claims.js';
import type { Principal } from '../../../src/server/backend.js';
import type { AclPolicy, StateStore } from '../../../src/state/store.js';
import { makePolicy, makeToken, upsertPolicies, upsertTokens } from '../../state/acl-fixtures.js';
import { applyOk, makeAlloc } from '../../state/workload-fixtures.js';

export {
  accessorId,
  jobAcl,
  makePolicy,
  makeToken,
  managementToken,
  secretId,
} from '../../state/acl-fixtures.js';

/** Stores policies, each built from `makePolicy` with the given fields. */
export function putPolicies(store: StateStore, ...policies: Partial<AclPolicy>[]): number {
  return applyOk(store, upsertPolicies(...policies.map((fields) => makePolicy(fields))));
}

/** Stores tokens, each built from `makeToken` with the given fields. */
export function putTokens(store: StateStore, ...tokens: Parameters<typeof makeToken>[0][]): number {
  return applyOk(store, upsertTokens(...tokens.map((fields) => makeToken(fields))));
}

/**
 * Builds the principal of a verified workload identity, as the authenticator returns it: task
 * `task` of group `group` of job `jobId` (the parent's id for a child job) in `namespace`.
 */
export function workloadPrincipal(
  fields: { namespace?: string; jobId?: string; allocJobId?: string; group?: string; task?: string } = {},
): Principal {
  const namespace = fields.namespace ?? 'default';
  const jobId = fields.jobId ?? 'web';
  const group = fields.group ?? 'frontend';
  const task = fields.task ?? 'server';
  const alloc = makeAlloc({
    ID: 'alloc-1',
    Namespace: namespace,
    JobID: fields.allocJobId ?? jobId,
    TaskGroup: group,
  });
  const claims: IdentityClaims = {
    nomad_namespace: namespace,
    nomad_job_id: jobId,
    nomad_allocation_id: alloc.ID,
    nomad_task: task,
    iat: 1_767_225_600,
    nbf: 1_767_225_600,
    aud: ['nomadproject.io'],
    sub: `global:${namespace}:${jobId}:${group}:${task}:default`,
    jti: 'c0ffee00-0000-4000-8000-000000000001',
  };
  return { kind: 'workload', claims, alloc };
}
