import type { Allocation } from '../structs/allocation.js';
import type { Evaluation } from '../structs/evaluation.js';
import type { Job } from '../structs/job.js';
import type { Node, NodeStatus } from '../structs/node.js';
import {
  type AllocClientUpdate,
  type AllocStopDiff,
  readAllocation,
  readAllocClientUpdate,
  readAllocStopDiff,
} from './alloc-fields.js';
import { readArray } from './collection-fields.js';
import { type CommandReader, versions } from './command-reader.js';
import { invalidCommandField } from './errors.js';
import { DESCRIPTION, readEvaluation, readId } from './eval-fields.js';
import { describeValue, joinField, readBoolean, readEnum, readNanoseconds, readString } from './fields.js';
import { readJob, readJobId, readNamespaceName } from './job-fields.js';
import { MAX_CLIENT_UPDATES, MAX_COMMAND_EVALS, MAX_PLAN_ALLOCS } from './limits.js';
import { NODE_STATUSES, readNode } from './node-fields.js';

/**
 * Commands on jobs, evaluations, allocations and nodes. IDs and times are chosen by the proposer
 * and carried here, because apply must be deterministic. Every `time` is Unix nanoseconds. Index
 * fields inside the carried rows (CreateIndex, ModifyIndex, JobModifyIndex, AllocModifyIndex) are
 * ignored: apply sets them from the entry's Raft index.
 */
export type WorkloadCommand =
  /** Creates or updates a job (Stop cleared) and inserts its evaluation, which names the same job. */
  | { type: 'job-register'; v: 1; job: Job; eval: Evaluation | null }
  /** Stops a job, or deletes it with `purge`, and inserts its evaluation. */
  | {
      type: 'job-deregister';
      v: 1;
      namespace: string;
      jobId: string;
      purge: boolean;
      eval: Evaluation | null;
      time: number;
    }
  | { type: 'eval-upsert'; v: 1; evals: readonly Evaluation[] }
  /**
   * The part of a plan that the plan applier accepted: placements, stops and follow-up
   * evaluations. Version 2 placements carry their signed identities. Version 1 entries, from
   * before identities, are read as version 2 with unsigned placements.
   */
  | {
      type: 'plan-apply';
      v: 2;
      place: readonly Allocation[];
      stop: readonly AllocStopDiff[];
      evals: readonly Evaluation[];
      time: number;
    }
  | { type: 'node-register'; v: 1; node: Node }
  | {
      type: 'node-status';
      v: 1;
      nodeId: string;
      status: NodeStatus;
      description: string;
      time: number;
      evals: readonly Evaluation[];
    }
  | {
      type: 'alloc-client-update';
      v: 1;
      updates: readonly AllocClientUpdate[];
      evals: readonly Evaluation[];
      time: number;
    };

const fail = invalidCommandField;

function readEvals(value: unknown, field: string): readonly Evaluation[] {
  const evals = readArray(value, field, fail, MAX_COMMAND_EVALS, (item, itemField) =>
    readEvaluation(item, itemField, fail),
  );
  checkUniqueIds(evals, field, new Set());
  return evals;
}

/**
 * Throws when an item of `items` repeats an ID already in `seen` (from this list or an earlier one
 * of the same command), because the outcome would then depend on the order of the list.
 */
function checkUniqueIds(items: readonly { readonly ID: string }[], field: string, seen: Set<string>): void {
  for (let i = 0; i < items.length; i++) {
    const id = items[i]!.ID;
    if (seen.has(id)) throw fail(joinField(joinField(field, i), 'ID'), `repeats the ID ${describeValue(id)}`);
    seen.add(id);
  }
}

/** Reads a command's evaluation, or null, and checks that it is for the job the command names. */
function readJobEval(value: unknown, field: string, namespace: string, jobId: string): Evaluation | null {
  if (value === null) return null;
  const evaluation = readEvaluation(value, field, fail);
  if (evaluation.Namespace !== namespace) {
    throw fail(`${field}.Namespace`, `must be the job's namespace ${describeValue(namespace)}`);
  }
  if (evaluation.JobID !== jobId)
    throw fail(`${field}.JobID`, `must be the job's ID ${describeValue(jobId)}`);
  return evaluation;
}

function readTime(value: unknown): number {
  return readNanoseconds(value, 'time', fail);
}

/** Readers of the workload commands by type, then by version. READERS in commands.ts explains how versions are added. */
const PLAN_APPLY_FIELDS = ['place', 'stop', 'evals', 'time'];

/** Reads a plan-apply payload of version `layout` into the version 2 shape. */
function readPlanApply(f: Record<string, unknown>, layout: 1 | 2): WorkloadCommand {
  const place = readArray(f.place, 'place', fail, MAX_PLAN_ALLOCS, (item, itemField) =>
    readAllocation(item, itemField, fail, layout),
  );
  const stop = readArray(f.stop, 'stop', fail, MAX_PLAN_ALLOCS, (item, itemField) =>
    readAllocStopDiff(item, itemField, fail),
  );
  // One allocation is either placed or stopped, once.
  const allocIds = new Set<string>();
  checkUniqueIds(place, 'place', allocIds);
  checkUniqueIds(stop, 'stop', allocIds);
  return {
    type: 'plan-apply',
    v: 2,
    place,
    stop,
    evals: readEvals(f.evals, 'evals'),
    time: readTime(f.time),
  };
}

export const WORKLOAD_READERS: readonly [string, ReadonlyMap<number, CommandReader<WorkloadCommand>>][] = [
  [
    'job-register',
    versions([
      1,
      ['job', 'eval'],
      (f) => {
        const job = readJob(f.job, 'job', fail);
        return { type: 'job-register', v: 1, job, eval: readJobEval(f.eval, 'eval', job.Namespace, job.ID) };
      },
    ]),
  ],
  [
    'job-deregister',
    versions([
      1,
      ['namespace', 'jobId', 'purge', 'eval', 'time'],
      (f) => {
        const namespace = readNamespaceName(f.namespace, 'namespace', fail);
        const jobId = readJobId(f.jobId, 'jobId', fail);
        return {
          type: 'job-deregister',
          v: 1,
          namespace,
          jobId,
          purge: readBoolean(f.purge, 'purge', fail),
          eval: readJobEval(f.eval, 'eval', namespace, jobId),
          time: readTime(f.time),
        };
      },
    ]),
  ],
  [
    'eval-upsert',
    versions([1, ['evals'], (f) => ({ type: 'eval-upsert', v: 1, evals: readEvals(f.evals, 'evals') })]),
  ],
  [
    'plan-apply',
    versions(
      [1, PLAN_APPLY_FIELDS, (f) => readPlanApply(f, 1)],
      [2, PLAN_APPLY_FIELDS, (f) => readPlanApply(f, 2)],
    ),
  ],
  [
    'node-register',
    versions([1, ['node'], (f) => ({ type: 'node-register', v: 1, node: readNode(f.node, 'node', fail) })]),
  ],
  [
    'node-status',
    versions([
      1,
      ['nodeId', 'status', 'description', 'time', 'evals'],
      (f) => ({
        type: 'node-status',
        v: 1,
        nodeId: readId(f.nodeId, 'nodeId', fail),
        status: readEnum(f.status, 'status', fail, NODE_STATUSES),
        description: readString(f.description, 'description', fail, DESCRIPTION),
        time: readTime(f.time),
        evals: readEvals(f.evals, 'evals'),
      }),
    ]),
  ],
  [
    'alloc-client-update',
    versions([
      1,
      ['updates', 'evals', 'time'],
      (f) => {
        const updates = readArray(f.updates, 'updates', fail, MAX_CLIENT_UPDATES, (item, itemField) =>
          readAllocClientUpdate(item, itemField, fail),
        );
        checkUniqueIds(updates, 'updates', new Set());
        return {
          type: 'alloc-client-update',
          v: 1,
          updates,
          evals: readEvals(f.evals, 'evals'),
          time: readTime(f.time),
        };
      },
    ]),
  ],
];
