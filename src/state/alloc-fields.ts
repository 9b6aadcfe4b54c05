import type {
  Allocation,
  AllocClientStatus,
  AllocDesiredStatus,
  TaskEvent,
  TaskState,
} from '../structs/allocation.js';
import { readArray, readRecord } from './collection-fields.js';
import type { FieldErrorFactory } from './errors.js';
import { DESCRIPTION, readId, readOptionalId } from './eval-fields.js';
import {
  describeValue,
  readBoolean,
  readEnum,
  readFields,
  readInteger,
  readNanoseconds,
  readString,
} from './fields.js';
import { readIndex, readJobId, readNamespaceName, readResources } from './job-fields.js';
import { MAX_ALLOC_NAME_BYTES, MAX_MAP_ENTRIES, MAX_NAME_BYTES, MAX_TASK_EVENTS } from './limits.js';

/** A plan's change to an allocation it stops: the reason, and `lost` when its node is gone. */
export interface AllocStopDiff {
  readonly ID: string;
  readonly DesiredDescription: string;
  readonly ClientStatus?: 'lost';
}

/** A client agent's report on one of its allocations. */
export interface AllocClientUpdate {
  readonly ID: string;
  /** Any client status but `lost`, which only the servers set. */
  readonly ClientStatus: Exclude<AllocClientStatus, 'lost'>;
  readonly ClientDescription: string;
  readonly TaskStates: Readonly<Record<string, TaskState>>;
}

export const ALLOC_DESIRED_STATUSES: readonly AllocDesiredStatus[] = Object.freeze(['run', 'stop', 'evict']);
export const ALLOC_CLIENT_STATUSES: readonly AllocClientStatus[] = Object.freeze([
  'pending',
  'running',
  'complete',
  'failed',
  'lost',
]);
const REPORTED_CLIENT_STATUSES = ['pending', 'running', 'complete', 'failed'] as const;

const TASK_NAME = { minBytes: 1, maxBytes: MAX_NAME_BYTES } as const;

// An RFC 3339 time as Go's time.Time marshals it (`2026-01-02T15:04:05.123Z`), or '' before it happens.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

function readRfc3339OrEmpty(value: unknown, field: string, fail: FieldErrorFactory): string {
  const text = readString(value, field, fail, { maxBytes: 64 });
  if (text !== '' && !RFC3339.test(text)) {
    throw fail(field, `must be an RFC 3339 time or '', got ${describeValue(text)}`);
  }
  return text;
}

function readTaskEvent(value: unknown, field: string, fail: FieldErrorFactory): TaskEvent {
  const f = readFields(value, field, ['Type', 'Time', 'DisplayMessage', 'ExitCode'], fail);
  return Object.freeze({
    Type: readString(f.Type, `${field}.Type`, fail, TASK_NAME),
    Time: readNanoseconds(f.Time, `${field}.Time`, fail),
    DisplayMessage: readString(f.DisplayMessage, `${field}.DisplayMessage`, fail, DESCRIPTION),
    ExitCode: readInteger(f.ExitCode, `${field}.ExitCode`, fail, -(2 ** 31), 2 ** 31 - 1),
  });
}

const TASK_STATE_FIELDS = ['State', 'Failed', 'Restarts', 'StartedAt', 'FinishedAt', 'Events'] as const;

function readTaskState(value: unknown, field: string, fail: FieldErrorFactory): TaskState {
  const f = readFields(value, field, TASK_STATE_FIELDS, fail);
  return Object.freeze({
    State: readEnum(f.State, `${field}.State`, fail, ['pending', 'running', 'dead']),
    Failed: readBoolean(f.Failed, `${field}.Failed`, fail),
    Restarts: readInteger(f.Restarts, `${field}.Restarts`, fail, 0, 2 ** 31 - 1),
    StartedAt: readRfc3339OrEmpty(f.StartedAt, `${field}.StartedAt`, fail),
    FinishedAt: readRfc3339OrEmpty(f.FinishedAt, `${field}.FinishedAt`, fail),
    Events: readArray(f.Events, `${field}.Events`, fail, MAX_TASK_EVENTS, (item, itemField) =>
      readTaskEvent(item, itemField, fail),
    ),
  });
}

export function readTaskStates(
  value: unknown,
  field: string,
  fail: FieldErrorFactory,
): Readonly<Record<string, TaskState>> {
  return readRecord(value, field, fail, MAX_MAP_ENTRIES, TASK_NAME, (entry, entryField) =>
    readTaskState(entry, entryField, fail),
  );
}

const ALLOC_FIELDS = [
  'ID',
  'Namespace',
  'EvalID',
  'Name',
  'NodeID',
  'NodeName',
  'JobID',
  'JobVersion',
  'TaskGroup',
  'TaskResources',
  'DesiredStatus',
  'DesiredDescription',
  'ClientStatus',
  'ClientDescription',
  'TaskStates',
  'SignedIdentities',
  'SigningKeyID',
  'PreviousAllocation',
  'CreateIndex',
  'ModifyIndex',
  'AllocModifyIndex',
  'CreateTime',
  'ModifyTime',
] as const;

/** Fields that allocations gained with workload identities (plan-apply v2, snapshot v3). */
const IDENTITY_FIELDS = ['SignedIdentities', 'SigningKeyID'] as const;
const ALLOC_FIELDS_V1 = ALLOC_FIELDS.filter(
  (name): name is Exclude<(typeof ALLOC_FIELDS)[number], (typeof IDENTITY_FIELDS)[number]> =>
    !(IDENTITY_FIELDS as readonly string[]).includes(name),
);

// A compact JWS: three base64url parts. The bound is far above a real token (under 1 KiB).
const SIGNED_IDENTITY = {
  minBytes: 1,
  maxBytes: 16 * 1024,
  pattern: /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/,
};

/**
 * Checks an allocation in Nomad's JSON shape and returns a deeply frozen copy. With `layout` 1
 * (plan-apply v1 entries and snapshots before v3) the identity fields must be absent and read as
 * unsigned; otherwise they are required.
 */
export function readAllocation(
  value: unknown,
  field: string,
  fail: FieldErrorFactory,
  layout: 1 | 2 = 2,
): Allocation {
  const f =
    layout === 1
      ? { ...readFields(value, field, ALLOC_FIELDS_V1, fail), SignedIdentities: {}, SigningKeyID: '' }
      : readFields(value, field, ALLOC_FIELDS, fail);
  return Object.freeze({
    ID: readId(f.ID, `${field}.ID`, fail),
    Namespace: readNamespaceName(f.Namespace, `${field}.Namespace`, fail),
    EvalID: readId(f.EvalID, `${field}.EvalID`, fail),
    Name: readString(f.Name, `${field}.Name`, fail, { minBytes: 1, maxBytes: MAX_ALLOC_NAME_BYTES }),
    NodeID: readId(f.NodeID, `${field}.NodeID`, fail),
    NodeName: readString(f.NodeName, `${field}.NodeName`, fail, { maxBytes: MAX_NAME_BYTES }),
    JobID: readJobId(f.JobID, `${field}.JobID`, fail),
    JobVersion: readIndex(f.JobVersion, `${field}.JobVersion`, fail),
    TaskGroup: readString(f.TaskGroup, `${field}.TaskGroup`, fail, TASK_NAME),
    TaskResources: readRecord(
      f.TaskResources,
      `${field}.TaskResources`,
      fail,
      MAX_MAP_ENTRIES,
      TASK_NAME,
      (entry, entryField) => readResources(entry, entryField, fail),
    ),
    DesiredStatus: readEnum(f.DesiredStatus, `${field}.DesiredStatus`, fail, ALLOC_DESIRED_STATUSES),
    DesiredDescription: readString(f.DesiredDescription, `${field}.DesiredDescription`, fail, DESCRIPTION),
    ClientStatus: readEnum(f.ClientStatus, `${field}.ClientStatus`, fail, ALLOC_CLIENT_STATUSES),
    ClientDescription: readString(f.ClientDescription, `${field}.ClientDescription`, fail, DESCRIPTION),
    TaskStates: readTaskStates(f.TaskStates, `${field}.TaskStates`, fail),
    SignedIdentities: readRecord(
      f.SignedIdentities,
      `${field}.SignedIdentities`,
      fail,
      MAX_MAP_ENTRIES,
      TASK_NAME,
      (entry, entryField) => readString(entry, entryField, fail, SIGNED_IDENTITY),
    ),
    SigningKeyID: readOptionalId(f.SigningKeyID, `${field}.SigningKeyID`, fail),
    PreviousAllocation: readOptionalId(f.PreviousAllocation, `${field}.PreviousAllocation`, fail),
    CreateIndex: readIndex(f.CreateIndex, `${field}.CreateIndex`, fail),
    ModifyIndex: readIndex(f.ModifyIndex, `${field}.ModifyIndex`, fail),
    AllocModifyIndex: readIndex(f.AllocModifyIndex, `${field}.AllocModifyIndex`, fail),
    CreateTime: readNanoseconds(f.CreateTime, `${field}.CreateTime`, fail),
    ModifyTime: readNanoseconds(f.ModifyTime, `${field}.ModifyTime`, fail),
  });
}

export function readAllocStopDiff(value: unknown, field: string, fail: FieldErrorFactory): AllocStopDiff {
  const f = readFields(value, field, ['ID', 'DesiredDescription', 'ClientStatus'], fail, ['ClientStatus']);
  const diff = {
    ID: readId(f.ID, `${field}.ID`, fail),
    DesiredDescription: readString(f.DesiredDescription, `${field}.DesiredDescription`, fail, DESCRIPTION),
  };
  // An absent ClientStatus stays absent in the copy, as MessagePack would carry it.
  if (f.ClientStatus === undefined) return Object.freeze(diff);
  return Object.freeze({
    ...diff,
    ClientStatus: readEnum(f.ClientStatus, `${field}.ClientStatus`, fail, ['lost']),
  });
}

export function readAllocClientUpdate(
  value: unknown,
  field: string,
  fail: FieldErrorFactory,
): AllocClientUpdate {
  const f = readFields(value, field, ['ID', 'ClientStatus', 'ClientDescription', 'TaskStates'], fail);
  return Object.freeze({
    ID: readId(f.ID, `${field}.ID`, fail),
    ClientStatus: readEnum(f.ClientStatus, `${field}.ClientStatus`, fail, REPORTED_CLIENT_STATUSES),
    ClientDescription: readString(f.ClientDescription, `${field}.ClientDescription`, fail, DESCRIPTION),
    TaskStates: readTaskStates(f.TaskStates, `${field}.TaskStates`, fail),
  });
}
