import { NAMESPACE_NAME_PATTERN } from '../state/namespaces.js';
import type { Job, TaskGroup } from '../structs/job.js';
import { JOB_LIMITS } from './defaults.js';
import { isUnsupportedJobType, unsupportedJobType } from './job-types.js';
import { JobValidationError } from './job-validation-error.js';
import { JOB_PLACE, type JobProblem, namedLabel, type Place, ProblemList, placeInside } from './problems.js';
import { checkTask, checkUniqueNames } from './validate-task.js';

/**
 * Checks a canonical job against Nomad's job validation rules that apply to what Signet runs, and
 * returns every problem found (an empty list for a valid job). Messages use Nomad's wording where
 * Nomad has the rule, prefixed with the group and task they concern.
 */
export function validateJob(job: Job): string[] {
  return listJobProblems(job).map((problem) => problem.text);
}

/** Returns the problems of validateJob with the path of the field each one concerns. */
export function listJobProblems(job: Job): JobProblem[] {
  const problems = new ProblemList();
  checkJob(job, problems);
  return [...problems.items];
}

/** Returns the job, or raises JobValidationError listing every problem that validateJob finds. */
export function requireValidJob(job: Job): Job {
  const problems = listJobProblems(job);
  if (problems.length > 0) throw JobValidationError.fromProblems(problems);
  return job;
}

function checkJob(job: Job, problems: ProblemList): void {
  checkJobId(job.ID, problems);

  if (job.Name === '') problems.add(JOB_PLACE, 'Name', 'Missing job name');
  else if (job.Name.includes('\0')) problems.add(JOB_PLACE, 'Name', 'Job Name contains a null character');

  if (job.Namespace === '') problems.add(JOB_PLACE, 'Namespace', 'Job must be in a namespace');
  else if (!NAMESPACE_NAME_PATTERN.test(job.Namespace)) {
    problems.add(
      JOB_PLACE,
      'Namespace',
      `Invalid namespace ${JSON.stringify(job.Namespace)}: must be 1 to 128 letters, digits and dashes`,
    );
  }

  // The Job type allows only these two, but a job built in code or decoded elsewhere may not obey it.
  const type: string = job.Type;
  if (type === '') problems.add(JOB_PLACE, 'Type', 'Missing job type');
  else if (isUnsupportedJobType(type)) problems.add(JOB_PLACE, 'Type', unsupportedJobType(type));
  else if (type !== 'service' && type !== 'batch') {
    problems.add(JOB_PLACE, 'Type', `Invalid job type: ${JSON.stringify(type)}`);
  }

  if (
    !Number.isInteger(job.Priority) ||
    job.Priority < JOB_LIMITS.MinPriority ||
    job.Priority > JOB_LIMITS.MaxPriority
  ) {
    problems.add(
      JOB_PLACE,
      'Priority',
      `job priority must be between [${JOB_LIMITS.MinPriority}, ${JOB_LIMITS.MaxPriority}]`,
    );
  }

  if (job.Datacenters.length === 0) problems.add(JOB_PLACE, 'Datacenters', 'Missing job datacenters');
  job.Datacenters.forEach((datacenter, index) => {
    if (datacenter === '') {
      problems.add(JOB_PLACE, `Datacenters[${index}]`, 'Job datacenter must be non-empty string');
    }
  });

  if (job.TaskGroups.length === 0) problems.add(JOB_PLACE, 'TaskGroups', 'Missing job task groups');
  checkUniqueNames(job.TaskGroups, JOB_PLACE, 'TaskGroups', 'Job task group', 'group', problems);
  job.TaskGroups.forEach((group, index) => {
    checkGroup(
      group,
      placeInside(JOB_PLACE, `TaskGroups[${index}]`, namedLabel('group', group.Name, index)),
      problems,
    );
  });
}

function checkJobId(id: string, problems: ProblemList): void {
  if (id === '') {
    problems.add(JOB_PLACE, 'ID', 'Missing job ID');
    return;
  }
  if (id.includes(' ')) problems.add(JOB_PLACE, 'ID', 'Job ID contains a space');
  if (id.includes('\0')) problems.add(JOB_PLACE, 'ID', 'Job ID contains a null character');

  // Signet's own limit: IDs end up in allocation names, token subjects and log lines.
  const length = [...id].length;
  if (length > JOB_LIMITS.MaxIdLength) {
    problems.add(
      JOB_PLACE,
      'ID',
      `Job ID must be at most ${JOB_LIMITS.MaxIdLength} characters, got ${length}`,
    );
  }
}

function checkGroup(group: TaskGroup, place: Place, problems: ProblemList): void {
  if (group.Name === '') problems.add(place, 'Name', 'Missing task group name');
  else if (group.Name.includes('\0')) problems.add(place, 'Name', 'Task group name contains null character');

  if (!Number.isInteger(group.Count) || group.Count < 0) {
    problems.add(place, 'Count', "Task group count can't be negative");
  }

  if (group.Tasks.length === 0) problems.add(place, 'Tasks', 'Missing tasks for task group');
  checkUniqueNames(group.Tasks, place, 'Tasks', 'Task', 'task', problems);
  group.Tasks.forEach((task, index) => {
    checkTask(task, placeInside(place, `Tasks[${index}]`, namedLabel('task', task.Name, index)), problems);
  });
}
