import { type Allocation, isClientTerminal } from '../structs/allocation.js';
import type { Evaluation } from '../structs/evaluation.js';
import type { AllocClientUpdate, AllocStopDiff } from './alloc-fields.js';
import { readAllocation } from './alloc-fields.js';
import { APPLIED, APPLIED_FREEING_CAPACITY, type ApplyResult, rejected } from './apply-result.js';
import { invalidSnapshotField } from './errors.js';
import { upsertEvals } from './evals.js';
import { jobKey } from './job-key.js';
import { refreshJobStatuses } from './job-status.js';
import { compareAscii } from './key-order.js';
import { checkRowIndexes } from './row-indexes.js';
import type { RowContext, TableSpec, Transaction } from './table.js';
import type { Tables } from './tables.js';

export interface PlanResult {
  readonly place: readonly Allocation[];
  readonly stop: readonly AllocStopDiff[];
  readonly evals: readonly Evaluation[];
  /** Unix nanoseconds, stamped as ModifyTime (and CreateTime when a placement has none). */
  readonly time: number;
}

/**
 * Commits what the plan applier accepted, all or nothing. Placements insert allocations, or update
 * existing ones in place: the servers' fields are replaced, while CreateIndex, CreateTime and the
 * client's fields (ClientStatus, ClientDescription, TaskStates) are kept, and AllocModifyIndex moves.
 * Stops set DesiredStatus `stop`, and `lost` replaces a client status that is not terminal yet, so
 * an allocation that completed stays complete.
 *
 * The whole command is rejected when a placement names a node or job that does not exist, was
 * signed with a root key that does not exist, or reuses the ID of another job's allocation. It is
 * also rejected when a stop names an unknown allocation. No command deletes allocations or nodes,
 * so only a faulty proposer builds such a plan (or a key removal that committed after signing).
 */
export function applyPlan(txn: Transaction, tables: Tables, plan: PlanResult): ApplyResult {
  const allocs = txn.draft(tables.allocs);
  const nodes = txn.draft(tables.nodes);
  const jobs = txn.draft(tables.jobs);
  const touchedJobs = new Set<string>();

  for (const alloc of plan.place) {
    if (nodes.get(alloc.NodeID) === null) {
      return rejected(
        404,
        `cannot apply plan: allocation ${alloc.ID} is placed on node ${alloc.NodeID}, which is not registered`,
      );
    }
    const key = jobKey(alloc.Namespace, alloc.JobID);
    if (jobs.get(key) === null) {
      return rejected(
        404,
        `cannot apply plan: allocation ${alloc.ID} belongs to job ${JSON.stringify(alloc.JobID)} in namespace ${alloc.Namespace}, which does not exist`,
      );
    }
    // The leader signs only with an applied key, but a rotation and a removal can commit between
    // its signing and this entry. Tokens of a removed key would fail on every server for the
    // allocation's whole life, so the plan is rejected and its worker plans again.
    if (alloc.SigningKeyID !== '' && txn.draft(tables.rootKeys).get(alloc.SigningKeyID) === null) {
      return rejected(
        409,
        `cannot apply plan: allocation ${alloc.ID} was signed with root key ${alloc.SigningKeyID}, which no longer exists`,
      );
    }
    const existing = allocs.get(alloc.ID);
    if (existing !== null && (existing.Namespace !== alloc.Namespace || existing.JobID !== alloc.JobID)) {
      return rejected(
        409,
        `cannot apply plan: allocation ${alloc.ID} already exists for job ${JSON.stringify(existing.JobID)} in namespace ${existing.Namespace}`,
      );
    }
    allocs.put(alloc.ID, placedRow(alloc, existing, txn.index, plan.time));
    touchedJobs.add(key);
  }

  let freed = false;
  for (const stop of plan.stop) {
    const existing = allocs.get(stop.ID);
    if (existing === null) {
      return rejected(404, `cannot apply plan: allocation ${stop.ID} to stop does not exist`);
    }
    if (existing.DesiredStatus === 'run' && !isClientTerminal(existing.ClientStatus)) freed = true;
    const lost = stop.ClientStatus === 'lost' && !isClientTerminal(existing.ClientStatus);
    allocs.put(
      stop.ID,
      Object.freeze({
        ...existing,
        DesiredStatus: 'stop',
        DesiredDescription: stop.DesiredDescription,
        ClientStatus: lost ? 'lost' : existing.ClientStatus,
        ModifyIndex: txn.index,
        AllocModifyIndex: txn.index,
        ModifyTime: plan.time,
      }),
    );
    touchedJobs.add(jobKey(existing.Namespace, existing.JobID));
  }

  for (const key of upsertEvals(txn, tables, plan.evals)) touchedJobs.add(key);
  refreshJobStatuses(txn, tables, touchedJobs);
  return freed ? APPLIED_FREEING_CAPACITY : APPLIED;
}

function placedRow(alloc: Allocation, existing: Allocation | null, index: number, time: number): Allocation {
  if (existing === null) {
    return Object.freeze({
      ...alloc,
      CreateIndex: index,
      ModifyIndex: index,
      AllocModifyIndex: index,
      CreateTime: alloc.CreateTime === 0 ? time : alloc.CreateTime,
      ModifyTime: time,
    });
  }
  return Object.freeze({
    ...alloc,
    ClientStatus: existing.ClientStatus,
    ClientDescription: existing.ClientDescription,
    TaskStates: existing.TaskStates,
    CreateIndex: existing.CreateIndex,
    ModifyIndex: index,
    AllocModifyIndex: index,
    CreateTime: existing.CreateTime,
    ModifyTime: time,
  });
}

export interface ClientUpdates {
  readonly updates: readonly AllocClientUpdate[];
  readonly evals: readonly Evaluation[];
  /** Unix nanoseconds, stamped as ModifyTime. */
  readonly time: number;
}

/**
 * Records what client agents report. Each update replaces ClientStatus, ClientDescription and
 * TaskStates and moves ModifyIndex, but not AllocModifyIndex, which tracks the servers' changes
 * only, so a client is not woken by its own report. Updates for unknown allocations, or for
 * allocations whose client status is already terminal (complete, failed, lost), change nothing:
 * a report that arrives late must not bring a finished or lost allocation back. Their IDs are
 * returned in `skipped`. The evaluations are inserted in the same entry.
 */
export function updateAllocsFromClient(
  txn: Transaction,
  tables: Tables,
  request: ClientUpdates,
): ApplyResult {
  const allocs = txn.draft(tables.allocs);
  const touchedJobs = new Set<string>();
  const skipped: string[] = [];
  let freed = false;
  for (const update of request.updates) {
    const existing = allocs.get(update.ID);
    if (existing === null || isClientTerminal(existing.ClientStatus)) {
      skipped.push(update.ID);
      continue;
    }
    if (existing.DesiredStatus === 'run' && isClientTerminal(update.ClientStatus)) freed = true;
    allocs.put(
      update.ID,
      Object.freeze({
        ...existing,
        ClientStatus: update.ClientStatus,
        ClientDescription: update.ClientDescription,
        TaskStates: update.TaskStates,
        ModifyIndex: txn.index,
        ModifyTime: request.time,
      }),
    );
    touchedJobs.add(jobKey(existing.Namespace, existing.JobID));
  }
  for (const key of upsertEvals(txn, tables, request.evals)) touchedJobs.add(key);
  refreshJobStatuses(txn, tables, touchedJobs);
  const result: { ok: true; skipped?: readonly string[]; capacityFreed?: true } = { ok: true };
  if (skipped.length > 0) result.skipped = Object.freeze(skipped);
  if (freed) result.capacityFreed = true;
  return result;
}

function decodeAllocRow(value: unknown, field: string, context: RowContext): Allocation {
  // Rows from snapshots before version 3 predate signed identities.
  const alloc = readAllocation(value, field, invalidSnapshotField, context.snapshotVersion >= 3 ? 2 : 1);
  checkRowIndexes(field, context, [
    ['CreateIndex', alloc.CreateIndex],
    ['AllocModifyIndex', alloc.AllocModifyIndex],
    ['ModifyIndex', alloc.ModifyIndex],
  ]);
  return alloc;
}

/**
 * Allocations by ID, with indexes by job key (`jobKey(Namespace, JobID)`), by node ID, and by the
 * root key that signed their identities ('' while unsigned).
 */
export const allocTableSpec: TableSpec<string, Allocation, 'job' | 'node' | 'signingKey'> = {
  name: 'allocs',
  sinceSnapshotVersion: 2,
  keyOf: (row) => row.ID,
  compareKeys: compareAscii,
  initialRows: () => [],
  decodeRow: decodeAllocRow,
  checkRows() {},
  indexes: {
    job: (row) => jobKey(row.Namespace, row.JobID),
    node: (row) => row.NodeID,
    signingKey: (row) => row.SigningKeyID,
  },
};
