import { type Allocation, isTerminal } from '../structs/allocation.js';
import type { Evaluation } from '../structs/evaluation.js';
import type { Job, JobStatus } from '../structs/job.js';
import { isEvalActive } from './eval-fields.js';
import type { Transaction } from './table.js';
import type { Tables } from './tables.js';

/**
 * Derives a job's status from its allocations and evaluations, checked in this order:
 * - `running` while any allocation is not terminal,
 * - `dead` once the job is stopped,
 * - `pending` while an evaluation is pending or blocked,
 * - `dead` when it had allocations or evaluations (a batch job that finished, or a job with
 *   nothing left to place), and `pending` when nothing has happened yet.
 * Nomad's state store checks the same things, except that it keeps a stopped job `pending` until
 * its last evaluation finishes.
 */
export function deriveJobStatus(
  job: Pick<Job, 'Stop'>,
  allocs: readonly Allocation[],
  evals: readonly Evaluation[],
): JobStatus {
  if (allocs.some((alloc) => !isTerminal(alloc))) return 'running';
  if (job.Stop) return 'dead';
  if (evals.some(isEvalActive)) return 'pending';
  return allocs.length > 0 || evals.length > 0 ? 'dead' : 'pending';
}

/**
 * Recomputes the status of each job in `jobKeys` from the transaction's view of its allocations
 * and evaluations, and writes the jobs whose status changed (their ModifyIndex moves too).
 * Missing jobs are skipped: allocations and evaluations outlive a purged job.
 */
export function refreshJobStatuses(txn: Transaction, tables: Tables, jobKeys: Iterable<string>): void {
  const jobs = txn.draft(tables.jobs);
  const allocs = txn.draft(tables.allocs);
  const evals = txn.draft(tables.evals);
  for (const key of jobKeys) {
    const job = jobs.get(key);
    if (job === null) continue;
    const status = deriveJobStatus(job, allocs.rowsBy('job', key), evals.rowsBy('job', key));
    if (status !== job.Status)
      jobs.put(key, Object.freeze({ ...job, Status: status, ModifyIndex: txn.index }));
  }
}
