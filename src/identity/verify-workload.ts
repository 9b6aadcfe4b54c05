import { type Allocation, isClientTerminal } from '../structs/allocation.js';
import type { Job } from '../structs/job.js';
import type { IdentityClaims } from './claims.js';
import { IdentityError } from './errors.js';
import { type VerifyIdentityOptions, verifyToken } from './verify.js';

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

export interface VerifiedWorkload {
  readonly claims: IdentityClaims;
  readonly alloc: Allocation;
}

function jobMatches(
  claims: IdentityClaims,
  alloc: Allocation,
  options: VerifyWorkloadIdentityOptions,
): boolean {
  if (claims.nomad_job_id === alloc.JobID) return true;
  const job = options.job?.(alloc.Namespace, alloc.JobID) ?? null;
  return job !== null && job.ParentID !== '' && claims.nomad_job_id === job.ParentID;
}

/** Returns true when the claimed task has a token in the allocation or is in its group, which TaskResources lists. */
function taskMatches(claims: IdentityClaims, alloc: Allocation): boolean {
  return (
    Object.hasOwn(alloc.SignedIdentities, claims.nomad_task) ||
    Object.hasOwn(alloc.TaskResources, claims.nomad_task)
  );
}

/**
 * Verifies a workload identity as `verifyIdentity` does, then checks it against the allocation it
 * names: the allocation exists, its namespace, job and task match the claims, and its client
 * status is not complete, failed or lost. A desired stop alone does not end the identity, so the
 * tasks of a stopping allocation keep their access until the client reports them finished.
 * Throws an IdentityError (ALLOCATION_NOT_FOUND, CLAIMS_MISMATCH, ALLOCATION_TERMINAL, or a code
 * of `verifyIdentity`).
 */
export async function verifyWorkloadIdentity(
  token: string,
  options: VerifyWorkloadIdentityOptions,
): Promise<VerifiedWorkload> {
  const { claims, keyId } = await verifyToken(token, options);
  const allocationId = claims.nomad_allocation_id;
  const ids = { keyId, allocationId };

  const alloc = options.allocation(allocationId);
  if (alloc === null) {
    throw new IdentityError(
      'ALLOCATION_NOT_FOUND',
      `workload identity rejected: allocation ${allocationId} does not exist`,
      ids,
    );
  }
  const mismatch = (claim: string): IdentityError =>
    new IdentityError(
      'CLAIMS_MISMATCH',
      `workload identity rejected: claim ${claim} does not match allocation ${allocationId}`,
      ids,
    );
  if (claims.nomad_namespace !== alloc.Namespace) throw mismatch('nomad_namespace');
  if (!jobMatches(claims, alloc, options)) throw mismatch('nomad_job_id');
  if (!taskMatches(claims, alloc)) throw mismatch('nomad_task');

  if (isClientTerminal(alloc.ClientStatus)) {
    throw new IdentityError(
      'ALLOCATION_TERMINAL',
      `workload identity rejected: allocation ${allocationId} is terminal (client status ${alloc.ClientStatus})`,
      ids,
    );
  }
  return { claims, alloc };
}
