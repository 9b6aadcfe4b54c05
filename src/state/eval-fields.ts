import type { EvalStatus, EvalTrigger, Evaluation } from '../structs/evaluation.js';
import { readRecord } from './collection-fields.js';
import type { FieldErrorFactory } from './errors.js';
import {
  readEnum,
  readFields,
  readInteger,
  readNanoseconds,
  readString,
  type StringRules,
} from './fields.js';
import { readIndex, readJobId, readNamespaceName, readPriority } from './job-fields.js';
import {
  ID_PATTERN,
  MAX_DESCRIPTION_BYTES,
  MAX_GROUP_COUNT,
  MAX_MAP_ENTRIES,
  MAX_NAME_BYTES,
} from './limits.js';

export const EVAL_TRIGGERS: readonly EvalTrigger[] = Object.freeze([
  'job-register',
  'job-deregister',
  'node-update',
  'alloc-failure',
  'queued-allocs',
  'alloc-stop',
]);

export const EVAL_STATUSES: readonly EvalStatus[] = Object.freeze([
  'pending',
  'complete',
  'failed',
  'blocked',
  'canceled',
]);

/** Reads an ID of an evaluation, allocation or node. */
export function readId(value: unknown, field: string, fail: FieldErrorFactory): string {
  return readString(value, field, fail, { pattern: ID_PATTERN });
}

/** Reads a reference to another evaluation, allocation or node: an ID, or '' for none. */
export function readOptionalId(value: unknown, field: string, fail: FieldErrorFactory): string {
  if (value === '') return '';
  return readString(value, field, fail, { pattern: ID_PATTERN });
}

export const DESCRIPTION: StringRules = Object.freeze({ maxBytes: MAX_DESCRIPTION_BYTES });

const EVAL_FIELDS = [
  'ID',
  'Namespace',
  'Priority',
  'Type',
  'TriggeredBy',
  'JobID',
  'JobModifyIndex',
  'NodeID',
  'Status',
  'StatusDescription',
  'BlockedEval',
  'PreviousEval',
  'QueuedAllocations',
  'CreateIndex',
  'ModifyIndex',
  'CreateTime',
  'ModifyTime',
] as const;

/** Checks an evaluation in Nomad's JSON shape and returns a frozen copy. */
export function readEvaluation(value: unknown, field: string, fail: FieldErrorFactory): Evaluation {
  const f = readFields(value, field, EVAL_FIELDS, fail);
  return Object.freeze({
    ID: readId(f.ID, `${field}.ID`, fail),
    Namespace: readNamespaceName(f.Namespace, `${field}.Namespace`, fail),
    Priority: readPriority(f.Priority, `${field}.Priority`, fail),
    Type: readEnum(f.Type, `${field}.Type`, fail, ['service', 'batch']),
    TriggeredBy: readEnum(f.TriggeredBy, `${field}.TriggeredBy`, fail, EVAL_TRIGGERS),
    JobID: readJobId(f.JobID, `${field}.JobID`, fail),
    JobModifyIndex: readIndex(f.JobModifyIndex, `${field}.JobModifyIndex`, fail),
    NodeID: readOptionalId(f.NodeID, `${field}.NodeID`, fail),
    Status: readEnum(f.Status, `${field}.Status`, fail, EVAL_STATUSES),
    StatusDescription: readString(f.StatusDescription, `${field}.StatusDescription`, fail, DESCRIPTION),
    BlockedEval: readOptionalId(f.BlockedEval, `${field}.BlockedEval`, fail),
    PreviousEval: readOptionalId(f.PreviousEval, `${field}.PreviousEval`, fail),
    QueuedAllocations: readRecord(
      f.QueuedAllocations,
      `${field}.QueuedAllocations`,
      fail,
      MAX_MAP_ENTRIES,
      { minBytes: 1, maxBytes: MAX_NAME_BYTES },
      (entry, entryField) => readInteger(entry, entryField, fail, 0, MAX_GROUP_COUNT),
    ),
    CreateIndex: readIndex(f.CreateIndex, `${field}.CreateIndex`, fail),
    ModifyIndex: readIndex(f.ModifyIndex, `${field}.ModifyIndex`, fail),
    CreateTime: readNanoseconds(f.CreateTime, `${field}.CreateTime`, fail),
    ModifyTime: readNanoseconds(f.ModifyTime, `${field}.ModifyTime`, fail),
  });
}

/** True while an evaluation may still lead to scheduling work. */
export function isEvalActive(evaluation: Pick<Evaluation, 'Status'>): boolean {
  return evaluation.Status === 'pending' || evaluation.Status === 'blocked';
}
