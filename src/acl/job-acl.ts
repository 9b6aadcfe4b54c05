import type { WorkloadScope } from './workload-scope.js';

/**
 * A policy's tie to workloads, in Nomad's JSON shape. '' marks an unset field. A namespace alone
 * ties the policy to every workload of that namespace (Nomad 1.11 and later).
 */
export interface JobAcl {
  readonly Namespace: string;
  readonly JobID: string;
  readonly Group: string;
  readonly Task: string;
}

/**
 * Checks a policy's JobACL and returns every problem found, or [] when it is valid (null included).
 * The messages are Nomad's. The namespace is not defaulted: a job without a namespace is an error.
 */
export function validateJobAcl(jobAcl: JobAcl | null): string[] {
  if (jobAcl === null) return [];
  const errors: string[] = [];
  if (jobAcl.JobID !== '' && jobAcl.Namespace === '') errors.push('namespace must be set to set job ID');
  if (jobAcl.Group !== '' && jobAcl.JobID === '') errors.push('job ID must be set to set group');
  if (jobAcl.Task !== '' && jobAcl.Group === '') errors.push('group must be set to set task');
  return errors;
}

/**
 * Tests whether a policy with this JobACL applies to the workload. It does when the JobACL names
 * the workload's namespace and job, with no group or the workload's group, and no task or the
 * workload's task. It also does when the JobACL names the namespace alone. A policy without a
 * JobACL never applies to a workload.
 */
export function jobAclApplies(jobAcl: JobAcl | null, workload: WorkloadScope): boolean {
  if (jobAcl === null || jobAcl.Namespace !== workload.namespace) return false;
  if (jobAcl.JobID === '') return jobAcl.Group === '' && jobAcl.Task === '';
  if (jobAcl.JobID !== workload.jobId) return false;
  if (jobAcl.Group === '') return jobAcl.Task === '';
  if (jobAcl.Group !== workload.group) return false;
  return jobAcl.Task === '' || jobAcl.Task === workload.task;
}

/** Returns the policies whose JobACL applies to the workload, in their given order. */
export function selectWorkloadPolicies<P extends { readonly JobACL: JobAcl | null }>(
  policies: readonly P[],
  workload: WorkloadScope,
): P[] {
  return policies.filter((policy) => jobAclApplies(policy.JobACL, workload));
}
