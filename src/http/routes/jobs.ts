import { RequestError } from '../../server/request-error.js';
import type { Job } from '../../structs/job.js';
import type { ApiReply, ApiRequest } from '../api-request.js';
import { jsonReply } from '../api-request.js';
import { blockingRead } from '../blocking-read.js';
import { booleanParam, namespaceParam, prefixParam } from '../query-params.js';
import type { ApiRouter } from '../router.js';
import { jobFromRequest } from './job-request.js';
import { notFound } from './not-found.js';
import { allocListStub, jobListStub } from './views.js';

/** Job list, read, register, deregister, and a job's allocations and evaluations, as in Nomad. */
export function registerJobRoutes(router: ApiRouter): void {
  router.on('GET', '/v1/jobs', listJobs);
  router.on(['PUT', 'POST'], '/v1/jobs', (request) => registerJob(request, null));
  router.on('GET', '/v1/job/:id', readJob);
  router.on(['PUT', 'POST'], '/v1/job/:id', (request) => registerJob(request, request.params.id!));
  router.on('DELETE', '/v1/job/:id', deregisterJob);
  router.on('GET', '/v1/job/:id/allocations', listJobAllocations);
  router.on('GET', '/v1/job/:id/evaluations', listJobEvaluations);
}

async function listJobs(request: ApiRequest): Promise<ApiReply> {
  const namespace = namespaceParam(request.query);
  const prefix = prefixParam(request.query);
  const { state } = request.backend;
  return blockingRead(request, 'jobs', () => {
    const jobs = state.jobs(namespace).filter((job) => job.ID.startsWith(prefix));
    return { index: state.tableIndex('jobs'), reply: jsonReply(jobs.map(jobListStub)) };
  });
}

async function readJob(request: ApiRequest): Promise<ApiReply> {
  const namespace = namespaceParam(request.query);
  const id = request.params.id!;
  const { state } = request.backend;
  // The index of a found job is its ModifyIndex, so a blocking read wakes only when it changes.
  return blockingRead(request, 'jobs', () => {
    const job = state.job(namespace, id);
    if (job === null) return { index: state.tableIndex('jobs'), reply: notFound('job not found') };
    return { index: job.ModifyIndex, reply: jsonReply(job) };
  });
}

async function registerJob(request: ApiRequest, pathJobId: string | null): Promise<ApiReply> {
  const job = await jobFromRequest(request, pathJobId);
  await checkNamespaceExists(request, job);
  const result = await request.backend.registerJob(job);
  const index = String(result.Index);
  return jsonReply(
    {
      EvalID: result.EvalID,
      EvalCreateIndex: result.EvalCreateIndex,
      JobModifyIndex: result.JobModifyIndex,
      // Signet has no registration warnings; Nomad sends them as one string, empty when none.
      Warnings: '',
      Index: result.Index,
      LastIndex: result.Index,
    },
    { 'X-Nomad-Index': index },
  );
}

/**
 * Rejects a job whose namespace does not exist, with Nomad's message. This server's state may lag
 * behind a namespace just created elsewhere, so a miss is checked again after a consistent read.
 */
async function checkNamespaceExists(request: ApiRequest, job: Job): Promise<void> {
  const { backend } = request;
  if (backend.state.namespace(job.Namespace) !== null) return;
  await backend.consistentRead();
  if (backend.state.namespace(job.Namespace) !== null) return;
  throw new RequestError(
    400,
    `job ${JSON.stringify(job.ID)} is in nonexistent namespace ${JSON.stringify(job.Namespace)}`,
  );
}

async function deregisterJob(request: ApiRequest): Promise<ApiReply> {
  const namespace = namespaceParam(request.query);
  const purge = booleanParam(request.query, 'purge');
  const result = await request.backend.deregisterJob(namespace, request.params.id!, purge);
  // The evaluation and the job change are one Raft entry, so both indexes are the entry's.
  return jsonReply(
    {
      EvalID: result.EvalID,
      EvalCreateIndex: result.Index,
      JobModifyIndex: result.Index,
      Index: result.Index,
    },
    { 'X-Nomad-Index': String(result.Index) },
  );
}

async function listJobAllocations(request: ApiRequest): Promise<ApiReply> {
  const namespace = namespaceParam(request.query);
  const id = request.params.id!;
  const { state } = request.backend;
  return blockingRead(request, 'allocs', () => {
    const jobType = state.job(namespace, id)?.Type ?? '';
    const stubs = state.allocationsByJob(namespace, id).map((alloc) => allocListStub(alloc, jobType));
    return { index: state.tableIndex('allocs'), reply: jsonReply(stubs) };
  });
}

async function listJobEvaluations(request: ApiRequest): Promise<ApiReply> {
  const namespace = namespaceParam(request.query);
  const id = request.params.id!;
  const { state } = request.backend;
  return blockingRead(request, 'evals', () => ({
    index: state.tableIndex('evals'),
    reply: jsonReply(state.evaluationsByJob(namespace, id)),
  }));
}
