import type { Job, Resources, Task, TaskGroup, Template, WorkloadIdentity } from '../structs/job.js';
import { readArray, readPlainMap, readRecord, readStringArray } from './collection-fields.js';
import type { FieldErrorFactory } from './errors.js';
import {
  describeValue,
  joinField,
  readBoolean,
  readEnum,
  readFields,
  readInteger,
  readNanoseconds,
  readString,
} from './fields.js';
import {
  CONFIG_RULES,
  MAX_DESCRIPTION_BYTES,
  MAX_GROUP_COUNT,
  MAX_INDEX,
  MAX_JOB_ID_BYTES,
  MAX_LIST_ITEMS,
  MAX_MAP_ENTRIES,
  MAX_NAME_BYTES,
  MAX_RESOURCE,
  MAX_TEXT_BYTES,
} from './limits.js';
import { NAMESPACE_NAME_PATTERN } from './namespaces.js';

// Readers for a job as commands and snapshots carry it. They check types, enumerations and size
// limits, which are the rules that keep the tables consistent. Nomad's rules on job content (for
// example, that a job ID has no space) belong to the job parser's validation, which runs before a
// command is built.

const NAME = { minBytes: 1, maxBytes: MAX_NAME_BYTES } as const;

/** Reads a job ID: 1 to MAX_JOB_ID_BYTES bytes without NUL, or '' when `allowEmpty` is set. */
export function readJobId(
  value: unknown,
  field: string,
  fail: FieldErrorFactory,
  allowEmpty = false,
): string {
  const id = readString(value, field, fail, { minBytes: allowEmpty ? 0 : 1, maxBytes: MAX_JOB_ID_BYTES });
  if (id.includes('\u0000')) throw fail(field, 'must not contain a NUL character');
  return id;
}

export function readNamespaceName(value: unknown, field: string, fail: FieldErrorFactory): string {
  return readString(value, field, fail, { pattern: NAMESPACE_NAME_PATTERN });
}

/** Reads a job priority, 1 to 100 as in Nomad. */
export function readPriority(value: unknown, field: string, fail: FieldErrorFactory): number {
  return readInteger(value, field, fail, 1, 100);
}

export function readIndex(value: unknown, field: string, fail: FieldErrorFactory): number {
  return readInteger(value, field, fail, 0, MAX_INDEX);
}

export function readResources(value: unknown, field: string, fail: FieldErrorFactory): Resources {
  const f = readFields(value, field, ['CPU', 'MemoryMB'], fail);
  return Object.freeze({
    CPU: readInteger(f.CPU, `${field}.CPU`, fail, 0, MAX_RESOURCE),
    MemoryMB: readInteger(f.MemoryMB, `${field}.MemoryMB`, fail, 0, MAX_RESOURCE),
  });
}

/** Throws when two items of `items` share a name, since names key task states and resources. */
function checkUniqueNames(
  items: readonly { readonly Name: string }[],
  field: string,
  fail: FieldErrorFactory,
) {
  const seen = new Set<string>();
  for (let i = 0; i < items.length; i++) {
    const name = items[i]!.Name;
    if (seen.has(name)) throw fail(joinField(field, i), `repeats the name ${describeValue(name)}`);
    seen.add(name);
  }
}

const JOB_FIELDS = [
  'ID',
  'Name',
  'Namespace',
  'Type',
  'Priority',
  'Datacenters',
  'TaskGroups',
  'ParentID',
  'Stop',
  'Status',
  'CreateIndex',
  'ModifyIndex',
  'JobModifyIndex',
  'SubmitTime',
] as const;

/** Checks a job in Nomad's JSON shape and returns a deeply frozen copy. */
export function readJob(value: unknown, field: string, fail: FieldErrorFactory): Job {
  const f = readFields(value, field, JOB_FIELDS, fail);
  const job: Job = Object.freeze({
    ID: readJobId(f.ID, `${field}.ID`, fail),
    Name: readString(f.Name, `${field}.Name`, fail, { minBytes: 1, maxBytes: MAX_JOB_ID_BYTES }),
    Namespace: readNamespaceName(f.Namespace, `${field}.Namespace`, fail),
    Type: readEnum(f.Type, `${field}.Type`, fail, ['service', 'batch']),
    Priority: readPriority(f.Priority, `${field}.Priority`, fail),
    Datacenters: readStringArray(f.Datacenters, `${field}.Datacenters`, fail, MAX_LIST_ITEMS, NAME),
    TaskGroups: readArray(f.TaskGroups, `${field}.TaskGroups`, fail, MAX_LIST_ITEMS, (item, itemField) =>
      readTaskGroup(item, itemField, fail),
    ),
    ParentID: readJobId(f.ParentID, `${field}.ParentID`, fail, true),
    Stop: readBoolean(f.Stop, `${field}.Stop`, fail),
    Status: readEnum(f.Status, `${field}.Status`, fail, ['pending', 'running', 'dead']),
    CreateIndex: readIndex(f.CreateIndex, `${field}.CreateIndex`, fail),
    ModifyIndex: readIndex(f.ModifyIndex, `${field}.ModifyIndex`, fail),
    JobModifyIndex: readIndex(f.JobModifyIndex, `${field}.JobModifyIndex`, fail),
    SubmitTime: readNanoseconds(f.SubmitTime, `${field}.SubmitTime`, fail),
  });
  checkUniqueNames(job.TaskGroups, `${field}.TaskGroups`, fail);
  return job;
}

function readTaskGroup(value: unknown, field: string, fail: FieldErrorFactory): TaskGroup {
  const f = readFields(value, field, ['Name', 'Count', 'Tasks'], fail);
  const group: TaskGroup = Object.freeze({
    Name: readString(f.Name, `${field}.Name`, fail, NAME),
    Count: readInteger(f.Count, `${field}.Count`, fail, 0, MAX_GROUP_COUNT),
    Tasks: readArray(f.Tasks, `${field}.Tasks`, fail, MAX_LIST_ITEMS, (item, itemField) =>
      readTask(item, itemField, fail),
    ),
  });
  checkUniqueNames(group.Tasks, `${field}.Tasks`, fail);
  return group;
}

const TASK_FIELDS = [
  'Name',
  'Driver',
  'Config',
  'Env',
  'Resources',
  'Identity',
  'Identities',
  'Templates',
  'KillTimeout',
] as const;

function readTask(value: unknown, field: string, fail: FieldErrorFactory): Task {
  const f = readFields(value, field, TASK_FIELDS, fail);
  const task: Task = Object.freeze({
    Name: readString(f.Name, `${field}.Name`, fail, NAME),
    Driver: readString(f.Driver, `${field}.Driver`, fail, NAME),
    Config: readPlainMap(f.Config, `${field}.Config`, fail, CONFIG_RULES),
    Env:
      f.Env === null
        ? null
        : readRecord(f.Env, `${field}.Env`, fail, MAX_MAP_ENTRIES, NAME, (entry, entryField) =>
            readString(entry, entryField, fail, { maxBytes: MAX_TEXT_BYTES }),
          ),
    Resources: readResources(f.Resources, `${field}.Resources`, fail),
    Identity: f.Identity === null ? null : readIdentity(f.Identity, `${field}.Identity`, fail),
    Identities: readArray(f.Identities, `${field}.Identities`, fail, MAX_LIST_ITEMS, (item, itemField) =>
      readIdentity(item, itemField, fail),
    ),
    Templates: readArray(f.Templates, `${field}.Templates`, fail, MAX_LIST_ITEMS, (item, itemField) =>
      readTemplate(item, itemField, fail),
    ),
    KillTimeout: readNanoseconds(f.KillTimeout, `${field}.KillTimeout`, fail),
  });
  checkUniqueNames(task.Identities, `${field}.Identities`, fail);
  return task;
}

function readIdentity(value: unknown, field: string, fail: FieldErrorFactory): WorkloadIdentity {
  const f = readFields(value, field, ['Name', 'Audience', 'Env', 'File', 'TTL'], fail);
  return Object.freeze({
    Name: readString(f.Name, `${field}.Name`, fail, NAME),
    Audience: readStringArray(f.Audience, `${field}.Audience`, fail, MAX_LIST_ITEMS, {
      minBytes: 1,
      maxBytes: MAX_DESCRIPTION_BYTES,
    }),
    Env: readBoolean(f.Env, `${field}.Env`, fail),
    File: readBoolean(f.File, `${field}.File`, fail),
    TTL: readNanoseconds(f.TTL, `${field}.TTL`, fail),
  });
}

function readTemplate(value: unknown, field: string, fail: FieldErrorFactory): Template {
  const f = readFields(value, field, ['DestPath', 'EmbeddedTmpl', 'ChangeMode', 'Envvars'], fail);
  return Object.freeze({
    DestPath: readString(f.DestPath, `${field}.DestPath`, fail, {
      minBytes: 1,
      maxBytes: MAX_DESCRIPTION_BYTES,
    }),
    EmbeddedTmpl: readString(f.EmbeddedTmpl, `${field}.EmbeddedTmpl`, fail, { maxBytes: MAX_TEXT_BYTES }),
    ChangeMode: readEnum(f.ChangeMode, `${field}.ChangeMode`, fail, ['noop', 'restart', 'signal']),
    Envvars: readBoolean(f.Envvars, `${field}.Envvars`, fail),
  });
}
