import type { Evaluation } from '../structs/evaluation.js';
import type { Job } from '../structs/job.js';
import { APPLIED, type ApplyResult, rejected } from './apply-result.js';
import { invalidSnapshotField } from './errors.js';
import { upsertEvals } from './evals.js';
import { readJob } from './job-fields.js';
import { jobKey } from './job-key.js';
import { refreshJobStatuses } from './job-status.js';
import { compareCodePoints } from './key-order.js';
import { plainEqual } from './plain-equal.js';
import { checkRowIndexes } from './row-indexes.js';
import type { RowContext, TableSpec, Transaction } from './table.js';
import type { Tables } from './tables.js';

/**
 * True when `b` runs something other than `a`: every field counts except those the servers keep
 * (status, Raft indexes, submit time). `Stop` counts, so re-running a stopped job is a new version.
 */
function specChanged(a: Job, b: Job): boolean {
  return (
    a.ID !== b.ID ||
    a.Name !== b.Name ||
    a.Namespace !== b.Namespace ||
    a.Type !== b.Type ||
    a.Priority !== b.Priority ||
    a.ParentID !== b.ParentID ||
    a.Stop !== b.Stop ||
    !plainEqual(a.Datacenters, b.Datacenters) ||
    !plainEqual(a.TaskGroups, b.TaskGroups)
  );
}

/**
 * Creates or updates a job, and inserts its evaluation in the same entry. The job's Stop is cleared
 * and its CreateIndex kept. JobModifyIndex moves to this entry only when the spec changed, and the
 * evaluation records the resulting JobModifyIndex. Status is derived from the allocations and
 * evaluations, so a new job is `pending`.
 */
export function registerJob(
  txn: Transaction,
  tables: Tables,
  input: Job,
  evaluation: Evaluation | null,
): ApplyResult {
  if (txn.draft(tables.namespaces).get(input.Namespace) === null) {
    return rejected(
      400,
      `job ${JSON.stringify(input.ID)} is in nonexistent namespace ${JSON.stringify(input.Namespace)}`,
    );
  }
  const jobs = txn.draft(tables.jobs);
  const key = jobKey(input.Namespace, input.ID);
  const existing = jobs.get(key);
  const running: Job = { ...input, Stop: false };
  const job: Job = Object.freeze({
    ...running,
    Status: existing?.Status ?? 'pending',
    CreateIndex: existing?.CreateIndex ?? txn.index,
    ModifyIndex: txn.index,
    JobModifyIndex: existing === null || specChanged(existing, running) ? txn.index : existing.JobModifyIndex,
  });
  jobs.put(key, job);

  if (evaluation !== null) {
    upsertEvals(txn, tables, [Object.freeze({ ...evaluation, JobModifyIndex: job.JobModifyIndex })]);
  }
  refreshJobStatuses(txn, tables, [key]);
  return APPLIED;
}

export interface JobDeregistration {
  readonly namespace: string;
  readonly jobId: string;
  readonly purge: boolean;
  readonly evaluation: Evaluation | null;
  /** Unix nanoseconds, recorded as the stopped job's SubmitTime. */
  readonly time: number;
}

/**
 * Stops a job (Stop set, a new JobModifyIndex unless it was already stopped, SubmitTime = `time`)
 * or, with `purge`, deletes it. Its allocations and evaluations stay: the scheduler stops the
 * allocations in response to the evaluation inserted here. 404 `job not found` when it does not exist.
 */
export function deregisterJob(txn: Transaction, tables: Tables, request: JobDeregistration): ApplyResult {
  const jobs = txn.draft(tables.jobs);
  const key = jobKey(request.namespace, request.jobId);
  const existing = jobs.get(key);
  if (existing === null) return rejected(404, 'job not found');

  let jobModifyIndex = txn.index;
  if (request.purge) {
    jobs.delete(key);
  } else {
    jobModifyIndex = existing.Stop ? existing.JobModifyIndex : txn.index;
    jobs.put(
      key,
      Object.freeze({
        ...existing,
        Stop: true,
        ModifyIndex: txn.index,
        JobModifyIndex: jobModifyIndex,
        SubmitTime: request.time,
      }),
    );
  }
  if (request.evaluation !== null) {
    upsertEvals(txn, tables, [Object.freeze({ ...request.evaluation, JobModifyIndex: jobModifyIndex })]);
  }
  refreshJobStatuses(txn, tables, [key]);
  return APPLIED;
}

function decodeJobRow(value: unknown, field: string, context: RowContext): Job {
  const job = readJob(value, field, invalidSnapshotField);
  checkRowIndexes(field, context, [
    ['CreateIndex', job.CreateIndex],
    ['JobModifyIndex', job.JobModifyIndex],
    ['ModifyIndex', job.ModifyIndex],
  ]);
  return job;
}

export const jobTableSpec: TableSpec<string, Job> = {
  name: 'jobs',
  sinceSnapshotVersion: 2,
  keyOf: (row) => jobKey(row.Namespace, row.ID),
  compareKeys: compareCodePoints,
  initialRows: () => [],
  decodeRow: decodeJobRow,
  checkRows() {},
  indexes: {},
};
