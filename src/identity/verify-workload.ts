import { type Allocation, isClientTerminal } from '../structs/allocation.js';
import type { Job } from '../structs/job.js';
import type { IdentityClaims } from './claims.js';
import { IdentityError } from './errors.js';
import { type VerifiedToken, type VerifyIdentityOptions, verifyToken } from './verify.js';

export interface VerifyWorkloadIdentityOptions extends VerifyIdentityOptions {
  /** Looks up an allocation in this server's state. */
  allocation(id: string): Allocation | null;
  /**
   * Looks up a job in this server's state. A child job's token names its parent in
   * `nomad_job_id`, and only the job's ParentID can confirm that. Without this lookup, or when
   * the job is gone, only the allocation's own JobID matches.
   */
  job?(namespace: string, jobId: string): Job | null;
}

/** The lookups in this server's state that `checkWorkloadClaims` needs. */
export type WorkloadLookups = Pick<VerifyWorkloadIdentityOptions, 'allocation' | 'job'>;

export interface VerifiedWorkload {
  readonly claims: IdentityClaims;
  readonly alloc: Allocation;
}

function jobMatches(claims: IdentityClaims, alloc: Allocation, lookups: WorkloadLookups): boolean {
  if (claims.nomad_job_id === alloc.JobID) return true;
  const job = lookups.job?.(alloc.Namespace, alloc.JobID) ?? null;
  return job !== null && job.ParentID !== '' && claims.nomad_job_id === job.ParentID;
}

/** Returns true when the claimed task has a token in the allocation or is in its group, which TaskResources lists. */
function taskMatches(claims: IdentityClaims, alloc: Allocation): boolean {
  return (
    Object.hasOwn(alloc.SignedIdentities, claims.nomad_task) ||
    Object.hasOwn(alloc.TaskResources, claims.nomad_task)
  );
}

function claimMismatch(claim: string, ids: { keyId: string; allocationId: string }): IdentityError {
  return new IdentityError(
    'CLAIMS_MISMATCH',
    `workload identity rejected: claim ${claim} does not match allocation ${ids.allocationId}`,
    ids,
  );
}

/**
 * Verifies a workload identity as `verifyIdentity` does, then checks it against the allocation it
 * names with `checkWorkloadClaims`. Throws an IdentityError (ALLOCATION_NOT_FOUND,
 * CLAIMS_MISMATCH, ALLOCATION_TERMINAL, or a code of `verifyIdentity`).
 */
export async function verifyWorkloadIdentity(
  token: string,
  options: VerifyWorkloadIdentityOptions,
): Promise<VerifiedWorkload> {
  return checkWorkloadClaims(await verifyToken(token, options), options);
}

/**
 * Checks the claims of a verified token against the allocation they name: the allocation exists,
 * its namespace, job and task match the claims, and its client status is not complete, failed or
 * lost. A desired stop alone does not end the identity, so the tasks of a stopping allocation keep
 * their access until the client reports them finished. Throws an IdentityError
 * (ALLOCATION_NOT_FOUND, CLAIMS_MISMATCH or ALLOCATION_TERMINAL).
 */
export function checkWorkloadClaims(
  verified: Pick<VerifiedToken, 'claims' | 'keyId'>,
  lookups: WorkloadLookups,
): VerifiedWorkload {
  const { claims, keyId } = verified;
  const allocationId = claims.nomad_allocation_id;
  const ids = { keyId, allocationId };

  const alloc = lookups.allocation(allocationId);
  if (alloc === null) {
    throw new IdentityError(
      'ALLOCATION_NOT_FOUND',
      `workload identity rejected: allocation ${allocationId} does not exist`,
      ids,
    );
  }
  if (claims.nomad_namespace !== alloc.Namespace) throw claimMismatch('nomad_namespace', ids);
  if (!jobMatches(claims, alloc, lookups)) throw claimMismatch('nomad_job_id', ids);
  if (!taskMatches(claims, alloc)) throw claimMismatch('nomad_task', ids);

  if (isClientTerminal(alloc.ClientStatus)) {
    throw new IdentityError(
      'ALLOCATION_TERMINAL',
      `workload identity rejected: allocation ${allocationId} is terminal (client status ${alloc.ClientStatus})`,
      ids,
    );
  }
  return { claims, alloc };
}
