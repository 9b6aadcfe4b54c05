/**
 * Key of a job in the jobs table and in the by-job indexes of evaluations and allocations. Namespace
 * names have no NUL and job IDs are checked to have none, so the key is unambiguous. NUL sorts
 * first, so keys sort by namespace, then by ID.
 */
export function jobKey(namespace: string, jobId: string): string {
  return `${namespace}\u0000${jobId}`;
}
