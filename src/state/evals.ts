import type { Evaluation } from '../structs/evaluation.js';
import { invalidSnapshotField } from './errors.js';
import { readEvaluation } from './eval-fields.js';
import { jobKey } from './job-key.js';
import { compareAscii } from './key-order.js';
import { checkRowIndexes } from './row-indexes.js';
import type { RowContext, TableSpec, Transaction } from './table.js';
import type { Tables } from './tables.js';

/**
 * Inserts or replaces evaluations. A replaced evaluation keeps its CreateIndex and CreateTime, so
 * that they still record its creation after a scheduler updates its status. Returns the keys of the
 * jobs whose status may change with them, before and after.
 */
export function upsertEvals(txn: Transaction, tables: Tables, evals: readonly Evaluation[]): Set<string> {
  const draft = txn.draft(tables.evals);
  const jobKeys = new Set<string>();
  for (const evaluation of evals) {
    const existing = draft.get(evaluation.ID);
    draft.put(
      evaluation.ID,
      Object.freeze({
        ...evaluation,
        CreateIndex: existing?.CreateIndex ?? txn.index,
        ModifyIndex: txn.index,
        CreateTime: existing?.CreateTime ?? evaluation.CreateTime,
      }),
    );
    jobKeys.add(jobKey(evaluation.Namespace, evaluation.JobID));
    // A replacement may name another job, and the job it leaves may change status too.
    if (existing !== null) jobKeys.add(jobKey(existing.Namespace, existing.JobID));
  }
  return jobKeys;
}

function decodeEvalRow(value: unknown, field: string, context: RowContext): Evaluation {
  const evaluation = readEvaluation(value, field, invalidSnapshotField);
  checkRowIndexes(field, context, [
    ['CreateIndex', evaluation.CreateIndex],
    ['ModifyIndex', evaluation.ModifyIndex],
  ]);
  return evaluation;
}

/** Evaluations by ID, with an index by job key (`jobKey(Namespace, JobID)`). */
export const evalTableSpec: TableSpec<string, Evaluation, 'job'> = {
  name: 'evals',
  sinceSnapshotVersion: 2,
  keyOf: (row) => row.ID,
  compareKeys: compareAscii,
  initialRows: () => [],
  decodeRow: decodeEvalRow,
  checkRows() {},
  indexes: { job: (row) => jobKey(row.Namespace, row.JobID) },
};
