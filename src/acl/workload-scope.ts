/**
 * The workload behind a workload identity, for its implicit access to variables. `jobId` is the
 * parent job's id for a dispatched or periodic child job, as in the identity's `nomad_job_id`.
 */
export interface WorkloadScope {
  readonly namespace: string;
  readonly jobId: string;
  readonly group: string;
  /** '' for an identity that belongs to a group rather than a task. */
  readonly task: string;
}

const JOBS_ROOT = 'nomad/jobs';
const SLASH = 0x2f;

/**
 * Tests whether `path` is one of the exact paths that a workload may read and list without any
 * policy: `nomad/jobs`, `nomad/jobs/JOB`, `nomad/jobs/JOB/GROUP` and `nomad/jobs/JOB/GROUP/TASK`.
 * Nothing below them, and nothing from an empty job, group or task name, or one with a slash.
 */
export function isImplicitWorkloadPath(path: string, workload: WorkloadScope): boolean {
  if (!path.startsWith(JOBS_ROOT)) return false;
  let at = JOBS_ROOT.length;
  if (at === path.length) return true;
  for (const name of [workload.jobId, workload.group, workload.task]) {
    // A name with a slash would make its path another workload's: job `web/cache` would reach
    // group `cache` of job `web`. Such a workload keeps only `nomad/jobs` and the levels above it.
    if (name === '' || name.includes('/')) return false;
    if (path.charCodeAt(at) !== SLASH || !path.startsWith(name, at + 1)) return false;
    at += 1 + name.length;
    if (at === path.length) return true;
  }
  return false;
}
