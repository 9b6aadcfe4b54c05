import type { Job, JobType, TaskGroup } from '../structs/job.js';
import { decodeTask } from './canonicalize-task.js';
import { decodeList, typeOf } from './decode-list.js';
import { JOB_DEFAULTS } from './defaults.js';
import { isUnsupportedJobType, unsupportedJobType } from './job-types.js';
import { JobValidationError } from './job-validation-error.js';
import { isRecord, JsonFields } from './json-fields.js';
import { JOB_FIELDS, TASK_GROUP_FIELDS } from './nomad-fields.js';
import { JOB_PLACE, type Place, ProblemList, withValidationProblems } from './problems.js';
import { listJobProblems } from './validate-job.js';

/**
 * Reads a job in Nomad's API JSON (the Job object of a `{"Job": {...}}` body) and fills Nomad's
 * defaults. Fields that Nomad has and Signet does not implement are ignored when their type is
 * right. Fields that the servers set (Status, ParentID, the indexes, SubmitTime) start at their
 * defaults whatever the input contains.
 *
 * Raises JobValidationError when a field has the wrong JSON type or asks for what Signet cannot do
 * (a system job, a template read from SourcePath). The error then also lists what validateJob finds
 * in the rest of the job, so a client learns every problem at once. A job returned here can still
 * be invalid: pass it to validateJob.
 */
export function canonicalizeJob(input: unknown): Job {
  const problems = new ProblemList();
  const job = decodeJob(input, problems);
  if (problems.size > 0) {
    throw JobValidationError.fromProblems(withValidationProblems(problems.items, listJobProblems(job)));
  }
  return job;
}

/**
 * Decodes a job and adds every problem found while decoding to `problems`, replacing each bad
 * value by its default so that decoding continues.
 */
export function decodeJob(input: unknown, problems: ProblemList): Job {
  const object = isRecord(input) ? input : {};
  if (!isRecord(input)) problems.add(JOB_PLACE, '', `Job must be a JSON object, got ${typeOf(input)}`);
  const fields = new JsonFields(object, JOB_FIELDS, JOB_PLACE, problems);

  const id = fields.string('ID', '');
  const datacenters = fields.strings('Datacenters') ?? [];
  return {
    ID: id,
    // Without a usable ID the name has no default either. A placeholder keeps validation from
    // adding "Missing job name" to the ID's type problem.
    Name: fields.string('Name', fields.rejected('ID') ? 'invalid-id' : id),
    Namespace: fields.string('Namespace', JOB_DEFAULTS.Namespace),
    Type: decodeJobType(fields, problems),
    Priority: fields.integer('Priority', JOB_DEFAULTS.Priority),
    Datacenters: datacenters.length > 0 ? [...datacenters] : [...JOB_DEFAULTS.Datacenters],
    TaskGroups: decodeList(
      fields.array('TaskGroups'),
      JOB_PLACE,
      'TaskGroups',
      'group',
      problems,
      decodeGroup,
    ),
    // A client must not choose ParentID: workload identities name the parent job in nomad_job_id,
    // so a job registered with another job's ID as its parent would get that job's access.
    ParentID: '',
    Stop: fields.boolean('Stop', false),
    Status: 'pending',
    CreateIndex: 0,
    ModifyIndex: 0,
    JobModifyIndex: 0,
    SubmitTime: 0,
  };
}

function decodeJobType(fields: JsonFields, problems: ProblemList): JobType {
  const type = fields.string('Type', JOB_DEFAULTS.Type);
  if (type === 'service' || type === 'batch') return type;

  if (type === '') problems.add(JOB_PLACE, 'Type', 'Missing job type');
  else if (isUnsupportedJobType(type)) problems.add(JOB_PLACE, 'Type', unsupportedJobType(type));
  else problems.add(JOB_PLACE, 'Type', `Invalid job type: ${JSON.stringify(type)}`);
  return JOB_DEFAULTS.Type;
}

function decodeGroup(
  input: Readonly<Record<string, unknown>>,
  place: Place,
  problems: ProblemList,
): TaskGroup {
  const fields = new JsonFields(input, TASK_GROUP_FIELDS, place, problems);
  return {
    Name: fields.string('Name', ''),
    Count: fields.integer('Count', JOB_DEFAULTS.Count),
    Tasks: decodeList(fields.array('Tasks'), place, 'Tasks', 'task', problems, decodeTask),
  };
}
