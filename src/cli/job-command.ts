import type { Command } from 'commander';
import { type ApiClient, ApiError } from '../http/client.js';
import type { AllocListStub, JobListStub } from '../http/routes/views.js';
import type { Evaluation } from '../structs/evaluation.js';
import type { Job } from '../structs/job.js';
import { allocationTable } from './alloc-table.js';
import {
  apiAction,
  clientFor,
  type NamespaceFlags,
  namespaceFor,
  withApiFlags,
  withNamespaceFlag,
} from './api-command.js';
import { formatNanos } from './display.js';
import { EXIT_ERROR, monitorEvaluation } from './eval-monitor.js';
import { parseMonitorTimeout } from './follow-stop.js';
import { readJobFile } from './job-file.js';
import { followJob } from './job-follow.js';
import { type OutputFlags, outputChoice, printOutput, withOutputFlags } from './output-flags.js';
import { formatKeyValues, formatTable } from './table.js';

interface StatusFlags extends NamespaceFlags, OutputFlags {
  readonly verbose?: boolean;
}

interface RunFlags extends NamespaceFlags {
  readonly detach?: boolean;
  /** Whether to read the job file as JSON whatever it starts with. */
  readonly json?: boolean;
  readonly verbose?: boolean;
  readonly monitorTimeout: string;
}

interface StopFlags extends NamespaceFlags {
  readonly detach?: boolean;
  readonly verbose?: boolean;
  readonly purge?: boolean;
}

/** Default of `job run -monitor-timeout`. */
const DEFAULT_MONITOR_TIMEOUT = '5m';

interface RegisterResponse {
  readonly EvalID: string;
  readonly JobModifyIndex: number;
}

/** Registers `job run`, `job status` and `job stop`. */
export function registerJobCommands(program: Command): void {
  const job = program.command('job').description('submit, inspect and stop jobs');

  withNamespaceFlag(withApiFlags(job.command('run')))
    .description(
      'submit a job from an HCL or JSON file (- for stdin), follow its evaluation until placement, then ' +
        'its allocations until they run; exits 2 when allocations could not be placed, 1 when one failed',
    )
    .argument('<file>', 'job file in HCL or JSON (Nomad API shape), or - to read stdin')
    .option('--detach', 'print the evaluation ID and exit without following it', false)
    .option('--json', 'read the job file as JSON whatever it starts with', false)
    .option('--verbose', 'print full IDs instead of their first 8 characters', false)
    .option(
      '--monitor-timeout <duration>',
      'stop following after this long (a Go duration, 0 for no limit) and exit as if placement ended there; ' +
        'Ctrl-C does the same',
      DEFAULT_MONITOR_TIMEOUT,
    )
    .action((file: string, flags: RunFlags) => runCommand(() => runJob(file, flags)));

  withOutputFlags(withNamespaceFlag(withApiFlags(job.command('status'))), 'job or the job list')
    .description('list the jobs, or show one job with its allocations')
    .argument('[id]', 'job ID or ID prefix')
    .option('--verbose', 'print full IDs and exact times', false)
    .action(
      apiAction(async (id: string | undefined, flags: StatusFlags) => {
        if (id === undefined) await listJobs(flags);
        else await showJob(id, flags);
      }),
    );

  withNamespaceFlag(withApiFlags(job.command('stop')))
    .description('stop a job and its allocations; with -purge, also delete it from the state')
    .argument('<id>', 'job ID or ID prefix')
    .option('--purge', 'delete the job instead of keeping it as stopped', false)
    .option('--detach', 'print the evaluation ID and exit without following it', false)
    .option('--verbose', 'print full IDs instead of their first 8 characters', false)
    .action((id: string, flags: StopFlags) => runCommand(() => stopJob(id, flags)));
}

/** Runs a command that chooses its own exit code; a thrown error prints one line and exits 1. */
async function runCommand(run: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await run();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    // Job validation errors list one problem per line, so they are printed as they are.
    process.stderr.write(`Error: ${message.trimEnd()}\n`);
    process.exitCode = EXIT_ERROR;
  }
}

async function runJob(file: string, flags: RunFlags): Promise<number> {
  const deadlineMs = parseMonitorTimeout(flags.monitorTimeout);
  const namespace = namespaceFor(flags);
  const job = await readJobFile(file, flags.json === true, namespace);
  if (namespace !== null && (job.Namespace === undefined || job.Namespace === '')) job.Namespace = namespace;

  const client = clientFor(flags);
  const body = await submitJob(client, job, namespace);
  if (flags.detach === true) {
    process.stdout.write(`Job registration successful\nEvaluation ID: ${body.EvalID}\n`);
    return 0;
  }
  return followJob(client, body.EvalID, {
    jobId: typeof job.ID === 'string' ? job.ID : '',
    verbose: flags.verbose === true,
    deadlineMs,
  });
}

/**
 * Sends the job to `PUT /v1/jobs`. The server takes the namespace from the job, and the query
 * repeats it so that a 403 may name it, because a 403 names only namespaces the request carried.
 * A rejected job's problems come one per line, and the client's one-line error message would run
 * them together, so they are passed on as the server wrote them.
 */
async function submitJob(
  client: ApiClient,
  job: Record<string, unknown>,
  flagNamespace: string | null,
): Promise<RegisterResponse> {
  const namespace = typeof job.Namespace === 'string' && job.Namespace !== '' ? job.Namespace : flagNamespace;
  try {
    return (
      await client.put<RegisterResponse>('/v1/jobs', { Job: job }, { namespace: namespace ?? undefined })
    ).body;
  } catch (err) {
    if (err instanceof ApiError && err.status === 400 && err.serverMessage !== null) {
      throw new Error(`Job rejected by ${client.address}: ${err.serverMessage}`);
    }
    throw err;
  }
}

async function stopJob(id: string, flags: StopFlags): Promise<number> {
  const client = clientFor(flags);
  const query = namespaceQuery(flags);
  const found = await findJob(client, id, query);
  const { body } = await client.delete<{ EvalID: string }>(jobPath(found.ID), {
    ...query,
    purge: flags.purge === true,
  });
  if (flags.detach === true || body.EvalID === '') {
    process.stdout.write(`${body.EvalID === '' ? 'Job stopped' : body.EvalID}\n`);
    return 0;
  }
  const outcome = await monitorEvaluation(client, body.EvalID, {
    verbose: flags.verbose === true,
    write: writeStdout,
  });
  // Without a signal, the monitor runs until the evaluation is final.
  return outcome?.exitCode ?? EXIT_ERROR;
}

async function listJobs(flags: StatusFlags): Promise<void> {
  const output = outputChoice(flags);
  const query = namespaceQuery(flags);
  const { body } = await clientFor(flags).get<JobListStub[]>('/v1/jobs', query);
  await printOutput(output, body, () =>
    body.length === 0 ? 'No running jobs\n' : jobListTable(body, query.namespace === '*'),
  );
}

function jobListTable(jobs: readonly JobListStub[], allNamespaces: boolean): string {
  const header = ['ID', ...(allNamespaces ? ['Namespace'] : []), 'Type', 'Priority', 'Status', 'Submit Date'];
  const rows = jobs.map((job) => [
    job.ID,
    ...(allNamespaces ? [job.Namespace] : []),
    job.Type,
    String(job.Priority),
    job.Status,
    formatNanos(job.SubmitTime),
  ]);
  return formatTable(header, rows);
}

async function showJob(id: string, flags: StatusFlags): Promise<void> {
  const output = outputChoice(flags);
  const client = clientFor(flags);
  const query = namespaceQuery(flags);
  const job = await findJob(client, id, query);
  if (output.kind !== 'human') {
    await printOutput(output, job, () => '');
    return;
  }
  const path = jobPath(job.ID);
  const jobQuery = { namespace: job.Namespace };
  const allocs = (await client.get<AllocListStub[]>(`${path}/allocations`, jobQuery)).body;
  const evals = (await client.get<Evaluation[]>(`${path}/evaluations`, jobQuery)).body;

  const verbose = flags.verbose === true;
  const out: string[] = [
    formatKeyValues([
      ['ID', job.ID],
      ['Name', job.Name],
      ['Submit Date', formatNanos(job.SubmitTime)],
      ['Type', job.Type],
      ['Priority', String(job.Priority)],
      ['Datacenters', job.Datacenters.join(',')],
      ['Namespace', job.Namespace],
      ['Status', job.Status],
    ]),
  ];
  out.push(`\nSummary\n${summaryTable(job, allocs, latestEvaluation(evals))}`);
  const failures = placementFailures(latestEvaluation(evals));
  if (failures !== '') out.push(`\nPlacement Failure\n${failures}`);
  out.push('\nAllocations\n');
  out.push(allocs.length === 0 ? 'No allocations placed\n' : allocationTable(allocs, verbose));
  process.stdout.write(out.join(''));
}

/** Counts of the job's allocations by client status, per task group, as Nomad's job summary. */
function summaryTable(job: Job, allocs: readonly AllocListStub[], latest: Evaluation | null): string {
  const rows = job.TaskGroups.map((group) => {
    const ofGroup = allocs.filter((alloc) => alloc.TaskGroup === group.Name);
    const count = (status: AllocListStub['ClientStatus']): string =>
      String(ofGroup.filter((alloc) => alloc.ClientStatus === status).length);
    const queued = latest?.QueuedAllocations[group.Name] ?? 0;
    return [
      group.Name,
      String(queued),
      count('pending'),
      count('running'),
      count('failed'),
      count('complete'),
      count('lost'),
    ];
  });
  return formatTable(['Task Group', 'Queued', 'Starting', 'Running', 'Failed', 'Complete', 'Lost'], rows);
}

function placementFailures(latest: Evaluation | null): string {
  if (latest === null) return '';
  return Object.entries(latest.QueuedAllocations)
    .filter(([, count]) => count > 0)
    .map(
      ([group, count]) =>
        `Task Group "${group}" (failed to place ${count} allocation${count === 1 ? '' : 's'})\n`,
    )
    .join('');
}

function latestEvaluation(evals: readonly Evaluation[]): Evaluation | null {
  let latest: Evaluation | null = null;
  for (const evaluation of evals) {
    if (latest === null || evaluation.CreateIndex > latest.CreateIndex) latest = evaluation;
  }
  return latest;
}

/**
 * Finds a job by exact ID, else by ID prefix, in the request's namespace. Throws an Error that
 * names the ID when nothing or more than one job matches.
 */
async function findJob(client: ApiClient, id: string, query: Record<string, string>): Promise<Job> {
  try {
    return (await client.get<Job>(jobPath(id), query)).body;
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404)) throw err;
  }
  const { body } = await client.get<JobListStub[]>('/v1/jobs', { ...query, prefix: id });
  if (body.length === 0) throw new Error(`No job(s) with prefix or id "${id}" found`);
  if (body.length > 1) {
    const ids = body.map((job) => job.ID).join(', ');
    throw new Error(`Prefix "${id}" matched multiple jobs (${ids}); give more of the ID`);
  }
  const match = body[0]!;
  return (await client.get<Job>(jobPath(match.ID), { namespace: match.Namespace })).body;
}

function namespaceQuery(flags: NamespaceFlags): Record<string, string> {
  const namespace = namespaceFor(flags);
  return namespace === null ? {} : { namespace };
}

function jobPath(id: string): string {
  return `/v1/job/${encodeURIComponent(id)}`;
}

function writeStdout(text: string): void {
  process.stdout.write(text);
}
